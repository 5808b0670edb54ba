package gateway

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestLimitMemory: without GOMEMLIMIT (or GOGC) the runtime's limit (or
// collector target, with its headroom) becomes the default; with it, what
// the runtime took from it stays. An empty variable counts as unset, as the
// runtime reads it.
func TestLimitMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer setGCFloor(0, 0)
	const unset, empty = "", "empty"
	setenv := func(t *testing.T, name, value string) {
		switch value {
		case unset:
			if v, ok := os.LookupEnv(name); ok {
				t.Setenv(name, v) // restored after the test
				if err := os.Unsetenv(name); err != nil {
					t.Fatal(err)
				}
			}
		case empty:
			t.Setenv(name, "")
		default:
			t.Setenv(name, value)
		}
	}
	for _, tc := range []struct {
		name          string
		memEnv, gcEnv string
		hadMem        int64 // the settings in force before, as the
		hadGC         int   // runtime read them at start
		want          MemorySettings
	}{
		{"unset: the defaults", unset, unset, math.MaxInt64, 100,
			MemorySettings{Limit: DefaultMemoryLimit, GCPercent: DefaultGCPercent, GCHeadroom: DefaultGCHeadroom}},
		{"set: left alone", "300MiB", "200", 300 << 20, 200, MemorySettings{Limit: 300 << 20, GCPercent: 200}},
		{"GOGC off: left off", unset, "off", math.MaxInt64, -1,
			MemorySettings{Limit: DefaultMemoryLimit, GCPercent: -1}},
		{"set empty, which the runtime takes as unset: the defaults", empty, empty, math.MaxInt64, 100,
			MemorySettings{Limit: DefaultMemoryLimit, GCPercent: DefaultGCPercent, GCHeadroom: DefaultGCHeadroom}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setGCFloor(0, 0) // the last case's, which would set hadGC anew
			setenv(t, "GOMEMLIMIT", tc.memEnv)
			setenv(t, "GOGC", tc.gcEnv)
			debug.SetMemoryLimit(tc.hadMem)
			debug.SetGCPercent(tc.hadGC)
			if got := LimitMemory(); got != tc.want {
				t.Errorf("LimitMemory() = %+v, want %+v", got, tc.want)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.want.Limit {
				t.Errorf("runtime memory limit %d, want %d", got, tc.want.Limit)
			}
			// With a headroom the target is raised for a small live heap
			// (TestGCFloorFollowsLiveHeap), never lowered.
			got := debug.SetGCPercent(-1)
			if tc.want.GCHeadroom == 0 && got != tc.want.GCPercent || tc.want.GCHeadroom > 0 && got < tc.want.GCPercent {
				t.Errorf("runtime GC percent %d, want %d (headroom %d)", got, tc.want.GCPercent, tc.want.GCHeadroom)
			}
			debug.SetGCPercent(got)
		})
	}
}

func TestFloorPercent(t *testing.T) {
	for _, tc := range []struct {
		base           int
		headroom, live uint64
		want           int
	}{
		{50, 12 << 20, 0, 50},        // before the first collection: the base
		{50, 12 << 20, 6 << 20, 200}, // a small live heap may grow by the headroom
		{50, 12 << 20, 11 << 20, 110},
		{50, 12 << 20, 24 << 20, 50}, // a large one by the base percentage
		{50, 12 << 20, 200 << 20, 50},
		{50, 12 << 20, 10<<20 + 1, 120}, // rounded up: at least the headroom
		// A tiny live heap: the runtime's least goal (4 MiB × percent /
		// 100) is held to live plus headroom, not 1200 % of 1 MiB.
		{50, 12 << 20, 1 << 20, 325},
		{50, 12 << 20, 1, 300},
	} {
		if got := floorPercent(tc.base, tc.headroom, tc.live); got != tc.want {
			t.Errorf("floorPercent(%d, %d, %d) = %d, want %d", tc.base, tc.headroom, tc.live, got, tc.want)
		}
	}
}

// TestGCFloorFollowsLiveHeap: after each collection the collector's target
// follows the heap left live, raised above the base while it is small and
// back to the base once it is large; a target set by anything else ends the
// floor and stays; with the floor off it is left alone.
func TestGCFloorFollowsLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer setGCFloor(0, 0)
	const base, headroom = 50, 8 << 20
	// collectUntil collects until the target in force satisfies ok, or
	// fails after a deadline: the floor looks after a collection, on the
	// finalizer goroutine.
	collectUntil := func(what string, ok func(percent int) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			p := gcPercent()
			if ok(p) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: GC percent %d after 10 s of collections (live heap %d bytes)", what, p, liveHeap())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	runtime.GC()
	setGCFloor(base, headroom)
	collectUntil("small live heap", func(p int) bool { return p > 2*base })
	// The heap may grow by the headroom plus the runtime's allowance for
	// stacks and globals (the same percentage of them), and not much more:
	// the runtime's least goal grows with the percentage too.
	p := uint64(gcPercent())
	want := liveHeap() + headroom + (metric(t, "/gc/scan/stack:bytes")+metric(t, "/gc/scan/globals:bytes"))*p/100
	if goal := metric(t, "/gc/heap/goal:bytes"); goal < want-headroom/10 || goal > want+1<<20 {
		t.Errorf("heap goal %d bytes at GC percent %d, want about %d", goal, p, want)
	}

	func() {
		live := make([]byte, 64<<20) // pointer-free: live, never scanned
		collectUntil("64 MiB live", func(p int) bool { return p == base })
		runtime.KeepAlive(live)
	}()

	collectUntil("64 MiB freed", func(p int) bool { return p > 2*base })

	// Another target, set after the floor's: the floor steps aside at the
	// next collection and the target stays.
	debug.SetGCPercent(77)
	disarmed := func() bool {
		gcFloor.mu.Lock()
		defer gcFloor.mu.Unlock()
		return !gcFloor.armed
	}
	collectUntil("target set by another", func(int) bool { return disarmed() })
	runtime.GC()
	if p := gcPercent(); p != 77 {
		t.Errorf("target set by another: GC percent %d after collections, want 77 as set", p)
	}

	// The floor off: the next collection disarms it, and the target it
	// set last stays whatever the heap does.
	setGCFloor(base, headroom)
	last := gcPercent()
	setGCFloor(0, 0)
	collectUntil("floor off", func(int) bool { return disarmed() })
	func() {
		live := make([]byte, 64<<20)
		runtime.GC()
		runtime.GC()
		runtime.KeepAlive(live)
	}()
	if p := gcPercent(); p != last {
		t.Errorf("floor off: GC percent %d after collections, want %d as it was", p, last)
	}
}

// metric reads one of the runtime's uint64 metrics the test relies on.
func metric(t *testing.T, name string) uint64 {
	t.Helper()
	v, ok := readMetric(name)
	if !ok {
		t.Fatalf("the runtime has no metric %s", name)
	}
	return v
}
