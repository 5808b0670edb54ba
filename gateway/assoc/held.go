package assoc

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// DefaultMaxHeld is the default bound of a Held queue: about 45 minutes of
// six beds each sending a reading a second.
const DefaultMaxHeld = 10000

// Store keeps held records on disk (*holdfile.File implements it): Add
// returns once the data is synced; Done removes it.
type Store interface {
	Add(data []byte) (uint64, error)
	Done(key uint64) error
}

// Released is a record leaving a Held queue with what to do with it. Once
// the decision is carried out (the record stored in the outbox), pass it
// to Held.Done; if it could not be, to Held.Return.
type Released struct {
	Record   record.Record
	Decision Decision
	key      uint64
	stored   bool
}

// heldRecord is a record in the queue and its key in the Store.
type heldRecord struct {
	rec    record.Record
	key    uint64
	stored bool
}

// Held is the queue of records a Decider said to Hold. With a Store, every
// record held is on disk before Add returns and stays there until Done, so
// held records survive kill -9 and restarts (NewHeld restores them). It is
// safe for concurrent use.
type Held struct {
	d     Decider
	max   int
	store Store

	mu   sync.Mutex
	recs []heldRecord // in order of Add
}

// NewHeld returns an empty queue deciding with d and holding at most max
// records (max <= 0 means DefaultMaxHeld), kept in store (nil: in memory
// only). Restore puts back the records the store held before.
func NewHeld(d Decider, max int, store Store) *Held {
	if max <= 0 {
		max = DefaultMaxHeld
	}
	return &Held{d: d, max: max, store: store}
}

// Restore holds again a record the store kept under key (call it for each,
// in the order they were added, before the first Add). Data that does not
// decode is removed from the store and returned as an error.
func (h *Held) Restore(key uint64, data []byte) error {
	var rec record.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		if h.store != nil {
			_ = h.store.Done(key)
		}
		return fmt.Errorf("assoc: held record %d does not decode: %w", key, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, heldRecord{rec: rec, key: key, stored: h.store != nil})
	return nil
}

// Add holds rec: with a Store, once it is on disk. When the queue is full
// the oldest record is pushed out and returned with ok true, decided as an
// expired hold (AfterHold) with reason ReasonHoldFull unless it can be
// decided now; pass it to Done once routed. An error means rec is not held.
func (h *Held) Add(rec record.Record, now time.Time) (out Released, ok bool, err error) {
	hr := heldRecord{rec: rec}
	if h.store != nil {
		data, err := json.Marshal(rec)
		if err != nil {
			return Released{}, false, fmt.Errorf("assoc: hold: %w", err)
		}
		if hr.key, err = h.store.Add(data); err != nil {
			return Released{}, false, fmt.Errorf("assoc: hold: %w", err)
		}
		hr.stored = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recs) >= h.max {
		old := h.recs[0]
		h.recs[0] = heldRecord{}
		h.recs = h.recs[1:]
		dec := h.d.Decide(old.rec, now)
		if dec.Action == Hold {
			dec = h.d.expired(ReasonHoldFull)
		}
		out, ok = Released{Record: old.rec, Decision: dec, key: old.key, stored: old.stored}, true
	}
	h.recs = append(h.recs, hr)
	return out, ok, nil
}

// Release decides every held record again at now and returns, in the order
// they were added, those no longer to be held: decided since (associated,
// or following the policy) or held for their limit. Call it when an
// admission event was applied or the feed came up, and periodically.
func (h *Held) Release(now time.Time) []Released {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Released
	keep := h.recs[:0]
	for _, hr := range h.recs {
		dec := h.d.Decide(hr.rec, now)
		if dec.Action == Hold {
			keep = append(keep, hr)
			continue
		}
		out = append(out, Released{Record: hr.rec, Decision: dec, key: hr.key, stored: hr.stored})
	}
	clear(h.recs[len(keep):])
	h.recs = keep
	return out
}

// Done removes a released record from the Store: its decision is carried
// out.
func (h *Held) Done(r Released) error {
	if h.store == nil || !r.stored {
		return nil
	}
	return h.store.Done(r.key)
}

// Return holds a released record again, at the front, because its
// decision could not be carried out; the next Release decides it again.
func (h *Held) Return(r Released) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append([]heldRecord{{rec: r.Record, key: r.key, stored: r.stored}}, h.recs...)
}

// Next returns the earliest time a held record's hold expires, and false
// when the queue is empty.
func (h *Held) Next() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next time.Time
	for i, hr := range h.recs {
		t := ReadingTime(hr.rec).Add(min(h.d.holdFor(), h.d.maxWait()))
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
