package gateway_test

import (
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/bedgate/bedgate/gateway"
)

// TestLimitMemory: without GOMEMLIMIT (or GOGC) the runtime's limit (or
// collector target) becomes the default; with it, what the runtime took
// from it stays. An empty variable counts as unset, as the runtime reads it.
func TestLimitMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
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
		want          gateway.MemorySettings
	}{
		{"unset: the defaults", unset, unset, math.MaxInt64, 100,
			gateway.MemorySettings{Limit: gateway.DefaultMemoryLimit, GCPercent: gateway.DefaultGCPercent}},
		{"set: left alone", "300MiB", "200", 300 << 20, 200, gateway.MemorySettings{Limit: 300 << 20, GCPercent: 200}},
		{"GOGC off: left off", unset, "off", math.MaxInt64, -1,
			gateway.MemorySettings{Limit: gateway.DefaultMemoryLimit, GCPercent: -1}},
		{"set empty, which the runtime takes as unset: the defaults", empty, empty, math.MaxInt64, 100,
			gateway.MemorySettings{Limit: gateway.DefaultMemoryLimit, GCPercent: gateway.DefaultGCPercent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, "GOMEMLIMIT", tc.memEnv)
			setenv(t, "GOGC", tc.gcEnv)
			debug.SetMemoryLimit(tc.hadMem)
			debug.SetGCPercent(tc.hadGC)
			if got := gateway.LimitMemory(); got != tc.want {
				t.Errorf("LimitMemory() = %+v, want %+v", got, tc.want)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.want.Limit {
				t.Errorf("runtime memory limit %d, want %d", got, tc.want.Limit)
			}
			if got := debug.SetGCPercent(-1); got != tc.want.GCPercent {
				t.Errorf("runtime GC percent %d, want %d", got, tc.want.GCPercent)
			}
			debug.SetGCPercent(tc.want.GCPercent)
		})
	}
}
