package assoc

import (
	"fmt"
	"sync"
	"testing"
	"time"

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
	if next, ok := h.Next(); !ok || !next.Equal(minute(10)) {
		t.Fatalf("Next = %v, %v; want +10m", next, ok)
	}
	if out := h.Release(minute(5)); len(out) != 0 {
		t.Fatalf("released %d before any association or expiry", len(out))
	}

	// Bed 1's patient was admitted at +1: the reading at +2 is theirs,
	// the one at +0 is not (the window starts at the admit instant).
	apply(t, r, []step{{bed: "1", event: Admit, p: pA, at: 1}})
	out := h.Release(minute(6))
	if len(out) != 1 || out[0].Record.ReceivedAt != minute(2) || out[0].Decision.Action != Forward || *out[0].Decision.Patient != pA {
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
		if out[i].Record.ReceivedAt != want || out[i].Decision.Action != ForwardUnassociated || out[i].Decision.Reason != ReasonHoldExpired {
			t.Fatalf("release %d = %+v, want %v expired and forwarded flagged", i, out[i], want.Sub(t0))
		}
	}
	if next, ok := h.Next(); !ok || !next.Equal(minute(18)) {
		t.Fatalf("Next = %v, %v; want +18m", next, ok)
	}
	if out := h.Release(minute(18)); len(out) != 1 || out[0].Decision.Action != ForwardUnassociated {
		t.Fatalf("final release = %+v", out)
	}
	if _, ok := h.Next(); ok || h.Len() != 0 {
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
	if !full || out.Record.ReceivedAt != minute(0) || out.Decision.Action != ForwardUnassociated || out.Decision.Reason != ReasonHoldFull {
		t.Fatalf("Add to a full queue = %+v, %v; want the oldest pushed out", out, full)
	}
	if h.Len() != 2 {
		t.Fatalf("Len = %d, want 2", h.Len())
	}
	// A pushed-out record that can be associated is forwarded with its patient.
	apply(t, r, []step{{event: Admit, p: pB, at: 0}})
	out, full, _ = h.Add(reading("1", 3), minute(3))
	if !full || out.Record.ReceivedAt != minute(1) || out.Decision.Action != Forward || *out.Decision.Patient != pB {
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
