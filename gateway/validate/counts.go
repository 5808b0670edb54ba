package validate

import (
	"maps"
	"sync"
)

// Counts counts rejections and questionable flags per [Reason], for the
// gateway's status reporting. The zero value is ready to use. Its methods
// are safe for concurrent use, so several [Checker]s may share one and a
// status reporter may read it while they write.
type Counts struct {
	mu       sync.RWMutex
	rejected map[Reason]uint64
	flagged  map[Reason]uint64
	repeats  uint64
}

// Repeats returns the number of values of episodic measurements seen again
// and not forwarded again ([ReasonRepeat]).
func (c *Counts) Repeats() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.repeats
}

func (c *Counts) addRepeats(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.repeats += uint64(n)
}

// Rejected returns a copy of the number of values rejected per reason.
func (c *Counts) Rejected() map[Reason]uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Clone(nonNil(c.rejected))
}

// Flagged returns a copy of the number of values forwarded flagged
// questionable per reason. A value flagged for two reasons counts once
// under each.
func (c *Counts) Flagged() map[Reason]uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Clone(nonNil(c.flagged))
}

func (c *Counts) add(rejected, flagged map[Reason]uint64) {
	if len(rejected) == 0 && len(flagged) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rejected == nil {
		c.rejected = map[Reason]uint64{}
		c.flagged = map[Reason]uint64{}
	}
	for r, n := range rejected {
		c.rejected[r] += n
	}
	for r, n := range flagged {
		c.flagged[r] += n
	}
}

func nonNil(m map[Reason]uint64) map[Reason]uint64 {
	if m == nil {
		return map[Reason]uint64{}
	}
	return m
}
