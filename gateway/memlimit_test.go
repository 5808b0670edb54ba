package gateway_test

import (
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/bedgate/bedgate/gateway"
)

// TestLimitMemory: without GOMEMLIMIT the runtime's limit becomes
// DefaultMemoryLimit; with it, the limit the runtime took from it stays.
func TestLimitMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, tc := range []struct {
		name string
		env  string // "" leaves GOMEMLIMIT unset; "empty" sets it empty
		had  int64  // the limit in force before
		want int64
	}{
		{"unset: the default", "", math.MaxInt64, gateway.DefaultMemoryLimit},
		{"set: left alone", "300MiB", 300 << 20, 300 << 20},
		{"set empty, which the runtime takes as unset: the default", "empty", math.MaxInt64, gateway.DefaultMemoryLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == "" {
				if v, ok := os.LookupEnv("GOMEMLIMIT"); ok {
					t.Setenv("GOMEMLIMIT", v) // restored after the test
					if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
						t.Fatal(err)
					}
				}
			} else if tc.env == "empty" {
				t.Setenv("GOMEMLIMIT", "")
			} else {
				t.Setenv("GOMEMLIMIT", tc.env)
			}
			debug.SetMemoryLimit(tc.had) // as the runtime would have read it at start
			if got := gateway.LimitMemory(); got != tc.want {
				t.Errorf("LimitMemory() = %d, want %d", got, tc.want)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Errorf("runtime memory limit %d, want %d", got, tc.want)
			}
		})
	}
}
