package assoc

import (
	"sync"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// DefaultMaxHeld is the default bound of a Held queue.
const DefaultMaxHeld = 10000

// Released is a record leaving a Held queue with what to do with it.
type Released struct {
	Record   record.Record
	Decision Decision
}

// Held is the queue of records a Decider said to Hold. It is safe for
// concurrent use.
type Held struct {
	d   Decider
	max int

	mu   sync.Mutex
	recs []record.Record // in order of Add
}

// NewHeld returns an empty queue deciding with d and holding at most max
// records (max <= 0 means DefaultMaxHeld).
func NewHeld(d Decider, max int) *Held {
	if max <= 0 {
		max = DefaultMaxHeld
	}
	return &Held{d: d, max: max}
}

// Add holds rec. When the queue is full the oldest record is pushed out and
// returned with ok true, decided as an expired hold (AfterHold) with reason
// ReasonHoldFull unless it can be associated now.
func (h *Held) Add(rec record.Record, now time.Time) (out Released, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recs) >= h.max {
		old := h.recs[0]
		h.recs[0] = record.Record{}
		h.recs = h.recs[1:]
		dec := h.d.Decide(old, now)
		if dec.Action == Hold {
			dec = h.d.expired(ReasonHoldFull)
		}
		out, ok = Released{Record: old, Decision: dec}, true
	}
	h.recs = append(h.recs, rec)
	return out, ok
}

// Release decides every held record again at now and returns, in the order
// they were added, those no longer to be held: associated since (Forward
// with the patient who was in the bed at the reading's time), or held for
// HoldFor (forwarded flagged or quarantined as AfterHold says). Call it
// when an admission event was applied and periodically (see Next).
func (h *Held) Release(now time.Time) []Released {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Released
	keep := h.recs[:0]
	for _, rec := range h.recs {
		dec := h.d.Decide(rec, now)
		if dec.Action == Hold {
			keep = append(keep, rec)
			continue
		}
		out = append(out, Released{Record: rec, Decision: dec})
	}
	clear(h.recs[len(keep):])
	h.recs = keep
	return out
}

// Next returns the earliest time a held record's hold expires, and false
// when the queue is empty.
func (h *Held) Next() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next time.Time
	for i, rec := range h.recs {
		t := ReadingTime(rec).Add(h.d.holdFor())
		if i == 0 || t.Before(next) {
			next = t
		}
	}
	return next, len(h.recs) > 0
}

// Len returns the number of records held.
func (h *Held) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recs)
}
