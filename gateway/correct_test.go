package gateway

import (
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/record"
)

func TestSameSubject(t *testing.T) {
	p1 := record.Patient{NHSNumber: "9434765919"}
	p1Local := record.Patient{NHSNumber: "9434765919", LocalID: "H1"}
	p2 := record.Patient{NHSNumber: "9990000018"}
	forward := func(p record.Patient) assoc.Decision { return assoc.Decision{Action: assoc.Forward, Patient: &p} }
	tests := []struct {
		name string
		who  record.Patient
		has  bool
		d    assoc.Decision
		same bool
	}{
		{"same patient", p1, true, forward(p1), true},
		{"same patient, more identifiers now", p1, true, forward(p1Local), true},
		{"another patient", p1, true, forward(p2), false},
		{"patient, now nobody", p1, true, assoc.Decision{Action: assoc.ForwardUnassociated}, false},
		{"nobody, now a patient", record.Patient{}, false, forward(p2), false},
		{"nobody forwarded, now nobody quarantined", record.Patient{}, false, assoc.Decision{Action: assoc.Quarantine}, true},
	}
	for _, tt := range tests {
		if got := sameSubject(tt.who, tt.has, tt.d); got != tt.same {
			t.Errorf("%s: sameSubject = %v, want %v", tt.name, got, tt.same)
		}
	}
}

// TestRecheckMerges: requests merge into the earliest reading time and
// the latest start; take clears them and says how long until one is due.
func TestRecheckMerges(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var r recheck
	if _, ok, wait := r.take(t0); ok || wait != 0 {
		t.Fatalf("empty recheck: ok %v, wait %v", ok, wait)
	}
	r.request(t0.Add(time.Minute), t0.Add(time.Second))
	r.request(t0, t0.Add(2*time.Second))
	r.request(t0.Add(time.Hour), time.Time{})
	if _, ok, wait := r.take(t0.Add(time.Second)); ok || wait != time.Second {
		t.Fatalf("before it is due: ok %v, wait %v; want a second to wait", ok, wait)
	}
	from, ok, _ := r.take(t0.Add(2 * time.Second))
	if !ok || !from.Equal(t0) {
		t.Fatalf("due: from %v ok %v, want %v", from, ok, t0)
	}
	if _, ok, _ := r.take(t0.Add(time.Hour)); ok {
		t.Fatal("taken twice")
	}
	r.request(time.Time{}, time.Time{})
	r.request(t0, time.Time{})
	if from, ok, _ := r.take(t0); !ok || !from.IsZero() {
		t.Fatalf("a request for all filings: from %v ok %v", from, ok)
	}
}
