package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// countedSession is a session that has seen what its stats say.
type countedSession struct{ stats drivers.Stats }

func (s countedSession) Run(context.Context, drivers.Sink) error { return nil }
func (s countedSession) Stats() drivers.Stats                    { return s.stats }

// TestDriverStatsSumSessions: a bed's driver counters add up over its
// sessions (a silent device starts a new one every silence limit); the
// last error is the latest session's that had one.
func TestDriverStatsSumSessions(t *testing.T) {
	tr := newBedTracker("bed1", "masimo", "/dev/ttyUSB0", time.Now())
	if got := tr.snapshot().DriverStats; got != (drivers.Stats{}) {
		t.Fatalf("before any session: %+v", got)
	}
	tr.startSession(countedSession{drivers.Stats{Readings: 5, Frames: 6, Bad: 1, Skipped: 40, LastError: "garbled line"}})
	tr.startSession(countedSession{drivers.Stats{Readings: 2, Frames: 2}})
	want := drivers.Stats{Readings: 7, Frames: 8, Bad: 1, Skipped: 40, LastError: "garbled line"}
	if got := tr.snapshot().DriverStats; got != want {
		t.Fatalf("after two sessions: %+v, want %+v", got, want)
	}
	tr.startSession(countedSession{drivers.Stats{Bad: 1, LastError: "checksum"}})
	want = drivers.Stats{Readings: 7, Frames: 8, Bad: 2, Skipped: 40, LastError: "checksum"}
	if got := tr.snapshot().DriverStats; got != want {
		t.Fatalf("after three sessions: %+v, want %+v", got, want)
	}
}
