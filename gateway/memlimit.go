package gateway

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
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
// 311 / 329 ms. The default value of DefaultGCPercent is 50.
const DefaultGCPercent = 50

// MemorySettings are the runtime's memory settings in force.
type MemorySettings struct {
	Limit     int64 // the soft memory limit, bytes
	GCPercent int   // the collector's target; negative: off
}

// LimitMemory sets the runtime's soft memory limit to DefaultMemoryLimit
// unless GOMEMLIMIT is set, and the collector's target to DefaultGCPercent
// unless GOGC is set (an empty variable is unset, to the runtime too), and
// returns the settings in force.
func LimitMemory() MemorySettings {
	var s MemorySettings
	if os.Getenv("GOMEMLIMIT") != "" {
		s.Limit = debug.SetMemoryLimit(-1)
	} else {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		s.Limit = DefaultMemoryLimit
	}
	if os.Getenv("GOGC") != "" {
		s.GCPercent = gcPercent()
	} else {
		debug.SetGCPercent(DefaultGCPercent)
		s.GCPercent = DefaultGCPercent
	}
	return s
}

// gcPercent returns the collector's target in force, read without
// changing it.
func gcPercent() int {
	sample := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 100 // the runtime's default; the metric exists since Go 1.21
	}
	return int(sample[0].Value.Uint64())
}
