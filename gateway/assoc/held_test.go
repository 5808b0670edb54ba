package assoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/holdfile"
	"github.com/bedgate/bedgate/gateway/record"
)

func TestHeldRelease(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1", "2"}, Now: clock})
	d := Decider{Lookup: r, Policy: PolicyHold, HoldFor: 10 * time.Minute}
	h := NewHeld(d, 0, nil)
	for _, rec := range []struct {
		bed string
		m   int
	}{{"1", 0}, {"2", 1}, {"1", 2}, {"2", 8}} {
		if dec := d.Decide(reading(rec.bed, rec.m), minute(rec.m)); dec.Action != Hold {
			t.Fatalf("Decide = %v, want hold", dec.Action)
		}
		if _, full, _ := h.Add(reading(rec.bed, rec.m), minute(rec.m)); full {
			t.Fatal("queue reported full")
		}
	}
	if next, ok := h.Next(minute(0)); !ok || !next.Equal(minute(10)) {
		t.Fatalf("Next = %v, %v; want +10m", next, ok)
	}
	if out := h.Release(minute(5)); len(out) != 0 {
		t.Fatalf("released %d before any association or expiry", len(out))
	}

	// Bed 1's patient was admitted at +1: the reading at +2 is theirs,
	// the one at +0 is not (the window starts at the admit instant).
	apply(t, r, []step{{bed: "1", event: Admit, p: pA, at: 1}})
	out := h.Release(minute(6))
	if len(out) != 1 || load(t, h, out[0]).ReceivedAt != minute(2) || out[0].Decision.Action != Forward || *out[0].Decision.Patient != pA {
		t.Fatalf("Release after admit = %+v; want the +2 reading forwarded with the patient", out)
	}
	if h.Len() != 3 {
		t.Fatalf("Len = %d, want 3", h.Len())
	}

	// At +11 the +0 and +1 readings have been held for 10 minutes.
	out = h.Release(minute(11))
	if len(out) != 2 {
		t.Fatalf("released %d at +11, want 2", len(out))
	}
	for i, want := range []time.Time{minute(0), minute(1)} {
		if load(t, h, out[i]).ReceivedAt != want || out[i].Decision.Action != ForwardUnassociated || out[i].Decision.Reason != ReasonHoldExpired {
			t.Fatalf("release %d = %+v, want %v expired and forwarded flagged", i, out[i], want.Sub(t0))
		}
	}
	if next, ok := h.Next(minute(0)); !ok || !next.Equal(minute(18)) {
		t.Fatalf("Next = %v, %v; want +18m", next, ok)
	}
	if out := h.Release(minute(18)); len(out) != 1 || out[0].Decision.Action != ForwardUnassociated {
		t.Fatalf("final release = %+v", out)
	}
	if _, ok := h.Next(minute(0)); ok || h.Len() != 0 {
		t.Fatalf("queue not empty: %d", h.Len())
	}
}

func TestHeldExpiryQuarantine(t *testing.T) {
	r := NewRegister(Options{Now: clock})
	h := NewHeld(Decider{Lookup: r, Policy: PolicyHold, HoldFor: time.Minute, AfterHold: PolicyQuarantine}, 0, nil)
	h.Add(reading("1", 0), minute(0))
	out := h.Release(minute(1))
	if len(out) != 1 || out[0].Decision.Action != Quarantine || out[0].Decision.Reason != ReasonHoldExpired {
		t.Fatalf("Release = %+v, want quarantined", out)
	}
}

func TestHeldFull(t *testing.T) {
	r := NewRegister(Options{Now: clock})
	h := NewHeld(Decider{Lookup: r, Policy: PolicyHold}, 2, nil)
	h.Add(reading("1", 0), minute(0))
	h.Add(reading("1", 1), minute(1))
	out, full, _ := h.Add(reading("1", 2), minute(2))
	if !full || load(t, h, out).ReceivedAt != minute(0) || out.Decision.Action != ForwardUnassociated || out.Decision.Reason != ReasonHoldFull {
		t.Fatalf("Add to a full queue = %+v, %v; want the oldest pushed out", out, full)
	}
	if h.Len() != 2 {
		t.Fatalf("Len = %d, want 2", h.Len())
	}
	// A pushed-out record that can be associated is forwarded with its patient.
	apply(t, r, []step{{event: Admit, p: pB, at: 0}})
	out, full, _ = h.Add(reading("1", 3), minute(3))
	if !full || load(t, h, out).ReceivedAt != minute(1) || out.Decision.Action != Forward || *out.Decision.Patient != pB {
		t.Fatalf("Add = %+v, %v; want the +1 reading forwarded with its patient", out, full)
	}
}

func TestHeldConcurrent(t *testing.T) {
	r := NewRegister(Options{Now: clock})
	h := NewHeld(Decider{Lookup: r, Policy: PolicyHold, HoldFor: time.Hour}, 0, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	released := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				h.Add(reading(fmt.Sprint(g), i), minute(i))
				n := len(h.Release(minute(i)))
				mu.Lock()
				released += n
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 4; i++ {
			p := record.Patient{LocalID: fmt.Sprint("p", i)}
			if err := r.Apply(fmt.Sprint(i), Admission{Event: Admit, Patient: p, Time: minute(-1), ID: "x"}); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	released += len(h.Release(minute(100)))
	if released+h.Len() != 400 {
		t.Fatalf("released %d + held %d, want 400 in all", released, h.Len())
	}
}

// load reads a released record back, failing the test on an error.
func load(t *testing.T, h *Held, r Released) record.Record {
	t.Helper()
	rec, err := h.Load(r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return rec
}

// TestHeldOnDisk: with a Store the queue keeps only what deciding takes;
// a released record is read back from the hold file whole, an undecodable
// one is removed and lost, one the file cannot read is held again.
func TestHeldOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held")
	f, err := holdfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	d := Decider{Lookup: r, Policy: PolicyHold, HoldFor: 10 * time.Minute}
	h := NewHeld(d, 2, f)
	h.memory = 0 // every record read back from the file

	full := reading("1", 0)
	spo2 := 97.0
	full.Observations = []record.Observation{{ID: "o1", MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: &spo2, Unit: "%",
		Status: drivers.Questionable | 1<<20, Questionable: true, Reason: "low perfusion"}}
	full.Patient = &record.Patient{NHSNumber: "9434765919"}
	full.Episodic, full.DeviceTime, full.ClockOffset = true, minute(-2), time.Minute // read at -3m
	if _, pushed, err := h.Add(full, minute(0)); err != nil || pushed {
		t.Fatalf("Add = %v, %v", pushed, err)
	}
	if hr := h.recs[0]; hr.rec != nil || !hr.at.Equal(minute(-3)) || hr.bed != "1" {
		t.Fatalf("held entry = %+v; want bed 1 at -3m and no record in memory", hr)
	}
	apply(t, r, []step{{bed: "1", event: Admit, p: pA, at: -5}})
	out := h.Release(minute(1))
	if len(out) != 1 || out[0].Bed != "1" || !out[0].At.Equal(minute(-3)) || out[0].Decision.Action != Forward {
		t.Fatalf("Release = %+v; want the reading forwarded", out)
	}
	got := load(t, h, out[0])
	if !reflect.DeepEqual(got, full) {
		t.Fatalf("read back %+v\nwant %+v", got, full)
	}
	if err := h.Done(out[0]); err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Live != 0 {
		t.Fatalf("after Done the file holds %d entries", st.Live)
	}

	// An entry whose data is not a record: lost, and removed.
	key, err := f.Add([]byte("not json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Restore(key); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("Restore of bad data = %v, want ErrUnreadable", err)
	}
	if st := f.Stats(); st.Live != 0 || h.Len() != 0 {
		t.Fatalf("an undecodable entry stayed (%d in the file, %d held)", st.Live, h.Len())
	}
	// The same found when a released record is loaded.
	if key, err = f.Add([]byte("{")); err != nil {
		t.Fatal(err)
	}
	bad := heldRecord{bed: "1", at: minute(0), key: key}.released(Decision{Action: Forward})
	if _, err := h.Load(bad); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("Load of bad data = %v, want ErrUnreadable", err)
	}
	if st := f.Stats(); st.Live != 0 {
		t.Fatalf("an undecodable entry stayed in the file (%d live)", st.Live)
	}

	// A record the file can no longer read back is lost the same way,
	// with the file's reason.
	if _, _, err := h.Add(reading("1", 2), minute(2)); err != nil {
		t.Fatal(err)
	}
	out = h.Release(minute(3))
	if len(out) != 1 {
		t.Fatalf("released %d, want 1", len(out))
	}
	if err := f.Done(out[0].held.key); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(out[0]); !errors.Is(err, ErrUnreadable) || !errors.Is(err, holdfile.ErrNotLive) {
		t.Fatalf("Load of a vanished entry = %v; want ErrUnreadable, from holdfile.ErrNotLive", err)
	}
}

// TestHeldFullOnDisk: the record pushed out of a full queue is read back
// from the file.
func TestHeldFullOnDisk(t *testing.T) {
	f, err := holdfile.Open(filepath.Join(t.TempDir(), "held"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := NewHeld(Decider{Lookup: NewRegister(Options{Now: clock}), Policy: PolicyHold}, 1, f)
	h.memory = 0
	h.Add(reading("1", 0), minute(0))
	out, full, err := h.Add(reading("1", 1), minute(1))
	if err != nil || !full || out.Decision.Reason != ReasonHoldFull {
		t.Fatalf("Add to a full queue = %+v, %v, %v", out, full, err)
	}
	if got := load(t, h, out); !got.ReceivedAt.Equal(minute(0)) || got.Bed != "1" {
		t.Fatalf("pushed out %+v; want the +0 reading", got)
	}
	// Not stored, it is held again ahead of the rest, still on disk.
	h.Return(out)
	again := h.Release(minute(1 + 24*60))
	if len(again) != 2 || !again[0].At.Equal(minute(0)) || !again[1].At.Equal(minute(1)) {
		t.Fatalf("after Return, Release = %+v; want +0 then +1", again)
	}
	if got := load(t, h, again[0]); !got.ReceivedAt.Equal(minute(0)) {
		t.Fatalf("returned record read back as %+v", got)
	}
}

// TestHeldNotEmpty: an Add to an empty queue signals, one to a queue
// already holding records does not.
func TestHeldNotEmpty(t *testing.T) {
	h := NewHeld(Decider{Lookup: NewRegister(Options{Now: clock}), Policy: PolicyHold, HoldFor: time.Minute}, 0, nil)
	signalled := func() bool {
		select {
		case <-h.NotEmpty():
			return true
		default:
			return false
		}
	}
	if signalled() {
		t.Fatal("signalled before any Add")
	}
	h.Add(reading("1", 0), minute(0))
	if !signalled() {
		t.Fatal("the first Add did not signal")
	}
	h.Add(reading("1", 1), minute(1))
	if signalled() {
		t.Fatal("an Add to a queue holding a record signalled")
	}
	if out := h.Release(minute(5)); len(out) != 2 || h.Len() != 0 {
		t.Fatalf("released %d, %d left; want both, none", len(out), h.Len())
	}
	h.Add(reading("1", 6), minute(6))
	if !signalled() {
		t.Fatal("an Add to the emptied queue did not signal")
	}
}

// TestHeldNextWithFeed: with an admission feed, a reading held for it may
// be decided once the feed knows its time (its time plus the grace, and
// not before the grace after the feed came up), long before its wait for
// the feed ends; with the feed down, a grace from now.
func TestHeldNextWithFeed(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	feed := NewFeed(5*time.Second, r.Latest, []string{"1"})
	d := Decider{Lookup: r, Feed: feed} // forward when nobody is in the bed
	h := NewHeld(d, 0, nil)
	feed.Up(minute(0), false)
	for _, m := range []int{3, 1, 2} { // the earliest need not be the first held
		if _, _, err := h.Add(reading("1", m), minute(m)); err != nil {
			t.Fatal(err)
		}
	}
	if next, ok := h.Next(minute(3)); !ok || !next.Equal(minute(1).Add(5*time.Second)) {
		t.Fatalf("Next = %v, %v; want the +1 reading's time plus the grace", next, ok)
	}
	if out := h.Release(minute(1).Add(5*time.Second - time.Millisecond)); len(out) != 0 {
		t.Fatalf("released before Next: %+v", out)
	}
	if out := h.Release(minute(1).Add(5 * time.Second)); len(out) != 1 || !out[0].At.Equal(minute(1)) {
		t.Fatalf("released at Next: %+v; want the +1 reading", out)
	}
	feed.Down(minute(4))
	if next, _ := h.Next(minute(4)); !next.Equal(minute(4).Add(5 * time.Second)) {
		t.Fatalf("Next with the feed down = %v; want a grace from now", next)
	}
}

// countingStore is a Store in memory that counts its Reads.
type countingStore struct {
	mu    sync.Mutex
	data  map[uint64][]byte
	next  uint64
	reads int
}

func (c *countingStore) Add(data []byte) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	c.data[c.next] = data
	return c.next, nil
}

func (c *countingStore) Read(key uint64) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	d, ok := c.data[key]
	if !ok {
		return nil, errors.New("no such key")
	}
	return d, nil
}

func (c *countingStore) Done(key uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.data, key)
	return nil
}

// TestHeldKeptInMemory: records held while the kept ones take under the
// queue's memory are loaded without reading the Store, the rest are read
// back; what is kept is given back as records leave and counted again
// when one is returned.
func TestHeldKeptInMemory(t *testing.T) {
	st := &countingStore{data: map[uint64][]byte{}}
	h := NewHeld(Decider{Lookup: NewRegister(Options{Now: clock}), Policy: PolicyHold}, 10, st)
	one, err := json.Marshal(reading("1", 0))
	if err != nil {
		t.Fatal(err)
	}
	h.memory = 2 * len(one) // room for two of the three
	for i := range 3 {
		if _, _, err := h.Add(reading("1", i), minute(i)); err != nil {
			t.Fatal(err)
		}
	}
	if h.kept != 2*len(one) {
		t.Fatalf("kept %d bytes, want %d", h.kept, 2*len(one))
	}
	out := h.Release(minute(3 + 24*60)) // every hold has expired
	if len(out) != 3 || h.kept != 0 {
		t.Fatalf("released %d, %d bytes still kept; want 3 and 0", len(out), h.kept)
	}
	for i, r := range out {
		got := load(t, h, r)
		if want := reading("1", i); !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d loaded as %+v, want %+v", i, got, want)
		}
		if want := max(0, i-1); st.reads != want {
			t.Fatalf("after loading record %d the store was read %d times, want %d", i, st.reads, want)
		}
	}
	h.Return(out[0])
	if h.kept != len(one) {
		t.Fatalf("after returning a kept record %d bytes kept, want %d", h.kept, len(one))
	}
	// Returned beyond the bound, a kept record is on disk only.
	h.Return(out[1])
	h.Return(out[2]) // was not kept
	if _, _, err := h.Add(reading("1", 3), minute(3)); err != nil {
		t.Fatal(err)
	}
	again := h.Release(minute(4 + 24*60))
	if len(again) != 4 || h.kept != 0 {
		t.Fatalf("released %d, %d bytes kept; want 4 and 0", len(again), h.kept)
	}
	// Two new readings fill the room while the four are being stored; the
	// store fails and all four come back.
	for i := 5; i < 7; i++ {
		if _, _, err := h.Add(reading("1", i), minute(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := len(again) - 1; i >= 0; i-- {
		h.Return(again[i])
	}
	if h.kept > h.memory {
		t.Fatalf("after four returns %d bytes kept, more than the %d allowed", h.kept, h.memory)
	}
	for _, hr := range h.recs {
		if (hr.rec == nil) != (hr.size == 0) {
			t.Fatalf("held entry %+v: a record kept must be counted, one counted kept", hr)
		}
	}

	// A long queue keeps none, whatever the room: only the first record,
	// held while fewer than memoryRecords were, is kept.
	h = NewHeld(Decider{Lookup: NewRegister(Options{Now: clock}), Policy: PolicyHold}, 10, st)
	h.memoryRecords = 1
	for i := range 3 {
		if _, _, err := h.Add(reading("1", i), minute(i)); err != nil {
			t.Fatal(err)
		}
	}
	if h.kept != len(one) || h.recs[0].rec == nil || h.recs[1].rec != nil || h.recs[2].rec != nil {
		t.Fatalf("kept %d bytes, records in memory %v %v %v; want only the first, %d bytes",
			h.kept, h.recs[0].rec != nil, h.recs[1].rec != nil, h.recs[2].rec != nil, len(one))
	}
}
