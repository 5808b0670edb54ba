package gateway

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultMemoryLimit is the Go runtime's soft memory limit `bedgate run`
// sets (SetMemoryLimit) unless GOMEMLIMIT is in its environment, which then
// wins. Without a limit the collector lets the heap grow to twice what is
// live (GOGC 100). Measured with BenchmarkBacklogMillion: a backlog of
// 300,000 readings held at most 71 MB live (the storage engine's memtables
// and table builders, and the outbox index at 32 bytes an entry) and peaked
// at 169 MiB of anonymous memory without a limit, 96 MiB with one of
// 100 MiB, appending no slower; a million readings peak at 109-115 MiB
// with this one. A backlog whose live memory alone exceeds it (several million
// readings) makes the collector run constantly, at most half the CPU by
// the runtime's own cap: raise GOMEMLIMIT for that. The default value of
// DefaultMemoryLimit is 112 MiB.
const DefaultMemoryLimit = 112 << 20

// DefaultGCPercent is the collector's target `bedgate run` sets
// (SetGCPercent) unless GOGC is in its environment, which then wins: the
// heap may grow to 1.5 times what is live between collections instead of
// twice. Measured with BenchmarkWard at 64 beds × 50 Hz, GOGC 100 / 50 / 25
// in one session: peak RSS 115 / 83 / 77 MB, CPU per 1,000 readings 288 /
// 311 / 329 ms; again later, GOGC 100 / 50: 74.5 / 62.5 MB. The default
// value of DefaultGCPercent is 50.
const DefaultGCPercent = 50

// DefaultGCHeadroom is the least the heap may grow between collections
// when GOGC is unset: after each collection `bedgate run` raises the
// collector's target above DefaultGCPercent when the heap left live is
// small, so that it may grow by this much before the next one (plus the
// runtime's own allowance for goroutine stacks and globals, the same
// percentage of them; a soft memory limit below that still wins). A
// collection costs in proportion to what is live, and collections come in
// proportion to what is allocated over the growth allowed: with a small
// live heap, a percentage of it is little growth and many collections.
// Measured with BenchmarkWard, one session: at 64 beds × 1 Hz about 11 MB
// stays live, and GOGC 50 / 100 / 200 cost 229 / 208 / 193 ms of CPU per
// 1,000 readings for a peak RSS of 34.8 / 40.2 / 48.6 MB; at 64 × 50 Hz
// about 24 MB stays live, which GOGC 50 already lets grow by 12 MB (peak
// RSS 62.5 MB; 74.5 with GOGC 100): the target is raised to 53 % at most
// there, 50 % from 24 MiB live on. Then GOGC 50 without / with this
// headroom, alternated: at 64 × 1 Hz 245, 250, 271 / 245, 219, 219 ms per
// 1,000 readings, peak RSS 34.1-36.6 / 41.9-42.8 MB; at 64 × 50 Hz (one
// pair) 188 / 179 ms, 61.9 / 62.0 MB. The default value of
// DefaultGCHeadroom is 12 MiB.
const DefaultGCHeadroom = 12 << 20

// MemorySettings are the runtime's memory settings in force.
type MemorySettings struct {
	Limit     int64 // the soft memory limit, bytes
	GCPercent int   // the collector's target; negative: off
	// GCHeadroom is the least growth the collector's target allows
	// after each collection (DefaultGCHeadroom), raising GCPercent for
	// a small live heap; 0 when GOGC is set, which is then left as is.
	GCHeadroom uint64
}

// LimitMemory sets the runtime's soft memory limit to DefaultMemoryLimit
// unless GOMEMLIMIT is set, and the collector's target to DefaultGCPercent
// with DefaultGCHeadroom unless GOGC is set (an empty variable is unset, to
// the runtime too), and returns the settings in force. The headroom is
// kept until anything else sets the collector's target (SetGCPercent):
// that target then stays as set.
func LimitMemory() MemorySettings {
	var s MemorySettings
	if os.Getenv("GOMEMLIMIT") != "" {
		s.Limit = debug.SetMemoryLimit(-1)
	} else {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		s.Limit = DefaultMemoryLimit
	}
	if os.Getenv("GOGC") != "" {
		setGCFloor(0, 0)
		s.GCPercent = gcPercent()
	} else {
		setGCFloor(DefaultGCPercent, DefaultGCHeadroom)
		s.GCPercent, s.GCHeadroom = DefaultGCPercent, DefaultGCHeadroom
	}
	return s
}

// gcFloor keeps the collector's target at base percent, or more when the
// heap left live by the last collection is small: enough for it to grow by
// headroom bytes. It looks after every collection (a cleanup that arms
// itself again), never in between, and stops when it finds a target it
// did not set.
var gcFloor struct {
	mu       sync.Mutex
	base     int    // the target for a large live heap
	headroom uint64 // 0: off, the target left as set
	set      int    // the target it set last
	armed    bool   // a sentinel is waiting for the next collection
}

// setGCFloor sets the collector's target to base raised for headroom now
// and after every collection; a headroom of 0 stops the raising and
// leaves the target as it is.
func setGCFloor(base int, headroom uint64) {
	gcFloor.mu.Lock()
	defer gcFloor.mu.Unlock()
	gcFloor.base, gcFloor.headroom = base, headroom
	if headroom == 0 {
		return
	}
	gcFloor.set = floorPercent(base, headroom, liveHeap())
	debug.SetGCPercent(gcFloor.set)
	if !gcFloor.armed {
		gcFloor.armed = true
		armGCFloor()
	}
}

// gcSentinel is garbage made to learn when a collection has run: its
// cleanup runs after the collection that found it unreachable. It holds a
// pointer so that it is not a tiny allocation, whose cleanup may never
// run.
type gcSentinel struct{ _ *int }

// armGCFloor makes a sentinel whose cleanup, after the next collection,
// sets the target for the heap that collection left live and arms the
// next sentinel; it disarms when the floor is off or the target in force
// is not the one it set.
func armGCFloor() {
	runtime.AddCleanup(&gcSentinel{}, func(struct{}) {
		gcFloor.mu.Lock()
		defer gcFloor.mu.Unlock()
		if gcFloor.headroom == 0 || gcPercent() != gcFloor.set {
			gcFloor.headroom = 0
			gcFloor.armed = false
			return
		}
		if want := floorPercent(gcFloor.base, gcFloor.headroom, liveHeap()); want != gcFloor.set {
			gcFloor.set = want
			debug.SetGCPercent(want)
		}
		armGCFloor()
	}, struct{}{})
}

// runtimeHeapMinimum is the runtime's least heap goal at GOGC 100; it
// scales with GOGC (defaultHeapMinimum in runtime/mgcpacer.go; 512 KiB
// with GOEXPERIMENT=heapminimum512kib, for which this bound is stricter
// than it need be).
const runtimeHeapMinimum = 4 << 20

// floorPercent is the collector's target that lets a heap of live bytes
// grow by headroom, and at least base. It is never so high that the
// runtime's least heap goal, which grows with the target, exceeds live
// plus headroom: over a tiny live heap a target of thousands would let the
// heap grow to hundreds of MiB. Before the first collection (live 0) it is
// base.
func floorPercent(base int, headroom, live uint64) int {
	if live == 0 {
		return base
	}
	grow := (headroom*100 + live - 1) / live
	most := (live + headroom) * 100 / runtimeHeapMinimum
	return max(base, int(min(grow, most)))
}

// liveHeap is the heap the last collection left live, in bytes; 0 before
// the first.
func liveHeap() uint64 {
	live, _ := readMetric("/gc/heap/live:bytes")
	return live
}

// gcPercent returns the collector's target in force, read without
// changing it.
func gcPercent() int {
	p, ok := readMetric("/gc/gogc:percent")
	if !ok {
		return 100 // the runtime's default; the metric exists since Go 1.21
	}
	return int(p)
}

// readMetric reads one of the runtime's uint64 metrics; false when the
// runtime has no such metric.
func readMetric(name string) (uint64, bool) {
	sample := []metrics.Sample{{Name: name}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return sample[0].Value.Uint64(), true
}
