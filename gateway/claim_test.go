package gateway

import (
	"testing"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/record"
)

// TestClaimReconcile: the decision for each claim and association; an
// unusable identifier is quarantined by Accept before any decision
// (TestMLLPWithNodeHL7Client).
func TestClaimReconcile(t *testing.T) {
	a, b := &record.Patient{NHSNumber: "9434765919"}, &record.Patient{NHSNumber: "4010232137"}
	inBed := assoc.Decision{Action: assoc.Forward, Patient: a, Reason: assoc.ReasonAssociated}
	empty := assoc.Decision{Action: assoc.ForwardUnassociated, Reason: assoc.ReasonNoPatient}
	hold := assoc.Decision{Action: assoc.Hold, Reason: assoc.ReasonAwaiting}
	for _, tc := range []struct {
		name     string
		claim    *Claim
		d        assoc.Decision
		action   assoc.Action
		patient  string
		mismatch bool
	}{
		{"serial reading", nil, inBed, assoc.Forward, a.NHSNumber, false},
		{"no PID", &Claim{}, empty, assoc.ForwardUnassociated, "", false},
		{"same patient", &Claim{Patient: a}, inBed, assoc.Forward, a.NHSNumber, false},
		{"other patient, bed wins", &Claim{Patient: b}, inBed, 0, "", true},
		{"other patient, sender wins", &Claim{Patient: b, SenderWins: true}, inBed, 0, "", true},
		{"empty bed, bed wins", &Claim{Patient: b}, empty, assoc.ForwardUnassociated, "", false},
		{"empty bed, sender wins", &Claim{Patient: b, SenderWins: true}, empty, assoc.Forward, b.NHSNumber, false},
		// A held reading keeps its claim: it is reconciled when decided, so
		// a bed whose admission then shows another patient quarantines it.
		{"held, sender wins", &Claim{Patient: b, SenderWins: true}, hold, assoc.Hold, "", false},
		{"held, bed wins", &Claim{Patient: b}, hold, assoc.Hold, "", false},
		// The bed's patient unknown: the sender's is never taken unchecked.
		{"feed unavailable, sender wins", &Claim{Patient: b, SenderWins: true},
			assoc.Decision{Action: assoc.ForwardUnassociated, Reason: assoc.ReasonFeedUnavailable}, assoc.ForwardUnassociated, "", false},
		{"hold queue full, sender wins", &Claim{Patient: b, SenderWins: true},
			assoc.Decision{Action: assoc.ForwardUnassociated, Reason: assoc.ReasonHoldFull}, assoc.ForwardUnassociated, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, mismatch := reconcile(tc.claim.record(), tc.d)
			if (mismatch != "") != tc.mismatch {
				t.Fatalf("mismatch %q, want %v", mismatch, tc.mismatch)
			}
			if tc.mismatch {
				return
			}
			got := ""
			if d.Patient != nil {
				got = d.Patient.NHSNumber
			}
			if d.Action != tc.action || got != tc.patient {
				t.Fatalf("decision %v patient %q, want %v %q", d.Action, got, tc.action, tc.patient)
			}
		})
	}
}
