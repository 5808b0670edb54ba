package assoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// DefaultMaxHeld is the default bound of a Held queue: more than the
// 16,000 readings a ward of 64 beds × 50 Hz sends within the default 5 s
// association grace (with 10,000, each of them left the queue full after
// about 3 s, before its patient could be known, and went out without one),
// or about 90 minutes of six beds each sending a reading a second. With a
// Store a held record costs 56 bytes of memory; on disk, its JSON (1 to
// 4 KB). The default value of DefaultMaxHeld is 20,000.
const DefaultMaxHeld = 20000

// A Held with a Store also keeps a record decoded in memory, so that Load
// need not read and decode it again, when it is held while fewer than
// heldMemoryRecords records are held and those kept take under heldMemory
// bytes of JSON. A 64-bed ward at 1 Hz holds some 320 Masimo readings
// (814 bytes of JSON each) within the association grace: all are kept. At
// 50 Hz it holds some 16,000: none are, since keeping up to a mebibyte of
// them raised the peak RSS by 5 MB (BenchmarkWard, 59–64 to 66–69 MB).
// Reading back and decoding was 7 % of the gateway's CPU at 1 Hz (perf);
// keeping them cut its CPU per 1,000 readings from 328 and 302 ms to 292
// and 281 (two alternated pairs).
const (
	heldMemory        = 1 << 20
	heldMemoryRecords = 512
)

// Store keeps held records on disk (*holdfile.File implements it): Add
// returns once the data is synced; Read reads it back; Done removes it.
type Store interface {
	Add(data []byte) (uint64, error)
	Read(key uint64) ([]byte, error)
	Done(key uint64) error
}

// ErrUnreadable is returned by Load and Restore for a held record that
// cannot be read back: the Store's Read failed (a hold file's entry gone or
// damaged on disk), or its data no longer decodes as a record. The record
// is removed from the Store and lost: read again it would fail again, and
// held again it would stay ahead of its bed's later records for good.
var ErrUnreadable = errors.New("assoc: held record cannot be read back")

// Released is a record leaving a Held queue with what to do with it: its
// bed and reading time, and the decision taken. Load reads the record
// itself back. Once the decision is carried out (the record stored in the
// outbox), pass it to Held.Done; if it could not be, to Held.Return.
type Released struct {
	Bed      string
	At       time.Time // ReadingTime of the record
	Decision Decision
	held     heldRecord
}

// heldRecord is a record in the queue: what deciding it takes (its bed and
// reading time) and, with a Store, its key there; without one, the record.
type heldRecord struct {
	bed string
	at  time.Time
	key uint64
	// rec is the record: always without a Store; with one, while the
	// queue's kept records take under its memory (size its JSON's length,
	// counted in Held.kept), else nil: the record is on disk only.
	rec  *record.Record
	size int
}

// Held is the queue of records a Decider said to Hold. With a Store, every
// record held is on disk before Add returns and stays there until Done, so
// held records survive kill -9 and restarts (NewHeld restores them), and
// it is kept there: the queue holds what deciding it takes (64 bytes a
// record), and Load reads the record back once decided, unless it is one
// of those kept in memory too (heldMemoryRecords). Measured with a heap profile
// of BenchmarkWard at 64 beds × 50 Hz, with 10,000 records held: the
// decoded records would take about 13 MB of heap, the entries under 1 MB.
// It is safe for concurrent use.
type Held struct {
	d     Decider
	max   int
	store Store
	// memory and memoryRecords bound the records kept decoded
	// (heldMemory, heldMemoryRecords); kept is what those in the queue
	// take, in bytes of JSON.
	memory, memoryRecords, kept int

	// notEmpty receives when an Add finds the queue empty.
	notEmpty chan struct{}

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
	return &Held{d: d, max: max, store: store, memory: heldMemory, memoryRecords: heldMemoryRecords, notEmpty: make(chan struct{}, 1)}
}

// NotEmpty returns a channel that receives when an Add finds the queue
// empty (one signal at a time: it is not a count). A loop that calls
// Release often while records are held, and waits long while none are,
// waits on it too. Adds to a queue already holding records do not signal:
// a record Add holds was just decided Hold, and becomes decidable as time
// passes or the feed changes, never by being added (waking a loop of Release at each
// Add cost about a tenth of the gateway's CPU at 64 beds × 50 Hz, each
// wake deciding again every held record).
func (h *Held) NotEmpty() <-chan struct{} { return h.notEmpty }

// Restore holds again the record the Store keeps under key (call it for
// each, in the order they were added, before the first Add). One that
// cannot be read back is removed from the Store and returned as an error
// matching ErrUnreadable.
func (h *Held) Restore(key uint64) error {
	if h.store == nil {
		return errors.New("assoc: Restore of a queue without a Store")
	}
	rec, err := h.read(key)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, h.entry(rec, key, 0))
	return nil
}

// entry is the queue's entry for rec, stored under key as size bytes of
// JSON (with a Store; 0: do not keep it in memory). Call with h.mu held.
func (h *Held) entry(rec record.Record, key uint64, size int) heldRecord {
	hr := heldRecord{bed: rec.Bed, at: ReadingTime(rec), key: key}
	switch {
	case h.store == nil:
		hr.rec = &rec
	case h.keep(size):
		hr.rec, hr.size = &rec, size
	}
	return hr
}

// keep reports whether a record of size bytes of JSON (0: none to keep)
// fits the bounds on those kept in memory, and if so counts it. Call with
// h.mu held.
func (h *Held) keep(size int) bool {
	if size == 0 || len(h.recs) >= h.memoryRecords || h.kept+size > h.memory {
		return false
	}
	h.kept += size
	return true
}

// leave accounts for hr leaving the queue. Call with h.mu held.
func (h *Held) leave(hr heldRecord) heldRecord {
	h.kept -= hr.size
	return hr
}

// read reads back and decodes the record the Store keeps under key; one
// that cannot be read back is removed from the Store.
func (h *Held) read(key uint64) (record.Record, error) {
	data, err := h.store.Read(key)
	var rec record.Record
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil {
		_ = h.store.Done(key)
		return record.Record{}, fmt.Errorf("%w: key %d: %w", ErrUnreadable, key, err)
	}
	return rec, nil
}

// Add holds rec: with a Store, once it is on disk. When the queue is full
// the oldest record is pushed out and returned with ok true, decided as an
// expired hold (AfterHold) with reason ReasonHoldFull unless it can be
// decided now; pass it to Done once routed. An error means rec is not held.
func (h *Held) Add(rec record.Record, now time.Time) (out Released, ok bool, err error) {
	var key uint64
	var size int
	if h.store != nil {
		data, err := json.Marshal(rec)
		if err != nil {
			return Released{}, false, fmt.Errorf("assoc: hold: %w", err)
		}
		if key, err = h.store.Add(data); err != nil {
			return Released{}, false, fmt.Errorf("assoc: hold: %w", err)
		}
		size = len(data)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recs) >= h.max {
		old := h.leave(h.recs[0])
		h.recs[0] = heldRecord{}
		h.recs = h.recs[1:]
		dec := h.d.decide(old.bed, old.at, now)
		if dec.Action == Hold {
			dec = h.d.expired(ReasonHoldFull)
		}
		out, ok = old.released(dec), true
	}
	if len(h.recs) == 0 {
		select {
		case h.notEmpty <- struct{}{}:
		default:
		}
	}
	h.recs = append(h.recs, h.entry(rec, key, size))
	return out, ok, nil
}

func (hr heldRecord) released(d Decision) Released {
	return Released{Bed: hr.bed, At: hr.at, Decision: d, held: hr}
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
		dec := h.d.decide(hr.bed, hr.at, now)
		if dec.Action == Hold {
			keep = append(keep, hr)
			continue
		}
		out = append(out, h.leave(hr).released(dec))
	}
	clear(h.recs[len(keep):])
	h.recs = keep
	return out
}

// Load returns a released record: the one kept in memory, or else read
// back from the Store. Its only error matches ErrUnreadable: the record is
// lost, and already removed from the Store.
func (h *Held) Load(r Released) (record.Record, error) {
	if r.held.rec != nil {
		return *r.held.rec, nil
	}
	return h.read(r.held.key)
}

// Done removes a released record from the Store: its decision is carried
// out.
func (h *Held) Done(r Released) error {
	if h.store == nil {
		return nil
	}
	return h.store.Done(r.held.key)
}

// Return holds a released record again, at the front, because its
// decision could not be carried out; the next Release decides it again.
func (h *Held) Return(r Released) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Kept again within the bounds, else on disk only: returns after Adds
	// that were kept meanwhile must not add up beyond them.
	hr := r.held
	if hr.size > 0 && !h.keep(hr.size) {
		hr.rec, hr.size = nil, 0
	}
	h.recs = append([]heldRecord{hr}, h.recs...)
}

// Next returns the earliest time at which a held record's decision may
// change without an admission event (Decider.changes), and false when the
// queue is empty: when to call Release again.
func (h *Held) Next(now time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next time.Time
	for i, hr := range h.recs {
		t := h.d.changes(hr.at, now)
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
