package gateway

import (
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the Go runtime's soft memory limit `bedgate run`
// sets (SetMemoryLimit) unless GOMEMLIMIT is in its environment, which then
// wins. Without a limit the collector lets the heap grow to twice what is
// live (GOGC 100): a million-reading backlog, some 80 MB live (the outbox
// index 32 MB, the storage engine's memtables and table builders the rest),
// peaked at 2.3 times that. With it the collector runs more often only
// as the process nears the limit (measured with BenchmarkBacklogMillion:
// no loss in appends a second). A backlog whose live memory alone exceeds
// it (several million readings) makes the collector run constantly, at
// most half the CPU by the runtime's own cap: raise GOMEMLIMIT for that.
// The default value of DefaultMemoryLimit is 112 MiB.
const DefaultMemoryLimit = 112 << 20

// LimitMemory sets the runtime's soft memory limit to DefaultMemoryLimit
// unless GOMEMLIMIT is set, and returns the limit in force.
func LimitMemory() int64 {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(DefaultMemoryLimit)
	return DefaultMemoryLimit
}
