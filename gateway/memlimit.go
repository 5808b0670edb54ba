package gateway

import (
	"os"
	"runtime/debug"
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

// LimitMemory sets the runtime's soft memory limit to DefaultMemoryLimit
// unless GOMEMLIMIT is set (not empty), and returns the limit in force.
func LimitMemory() int64 {
	if os.Getenv("GOMEMLIMIT") != "" { // empty is unset, to the runtime too
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(DefaultMemoryLimit)
	return DefaultMemoryLimit
}
