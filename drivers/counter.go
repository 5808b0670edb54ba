package drivers

import (
	"sync"
	"sync/atomic"
)

// Counter keeps the statistics of a session or decoder and reports them as
// [Stats]. The zero value is ready; it is safe for concurrent use (a
// session counts in Run while the supervisor reads Stats) and must not be
// copied after first use.
type Counter struct {
	readings, frames, bad, skipped atomic.Int64

	mu      sync.Mutex
	lastErr string
}

// Reading counts one reading emitted.
func (c *Counter) Reading() { c.readings.Add(1) }

// Frame counts one frame or line accepted.
func (c *Counter) Frame() { c.frames.Add(1) }

// Skipped counts n bytes skipped while resynchronising.
func (c *Counter) Skipped(n int64) { c.skipped.Add(n) }

// Bad counts one rejected frame or line, records err as the last error,
// and returns how many have been rejected so far, so that callers can
// throttle their warnings (for example to the first and every hundredth).
func (c *Counter) Bad(err error) int64 {
	c.mu.Lock()
	c.lastErr = err.Error()
	c.mu.Unlock()
	return c.bad.Add(1)
}

// Stats reports the counts so far.
func (c *Counter) Stats() Stats {
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	return Stats{
		Readings:  c.readings.Load(),
		Frames:    c.frames.Load(),
		Bad:       c.bad.Load(),
		Skipped:   c.skipped.Load(),
		LastError: last,
	}
}
