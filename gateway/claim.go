package gateway

import (
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/record"
)

// ReasonPatientMismatch is the quarantine reason of a reading whose
// sender names a patient the gateway cannot reconcile with the bed's
// association: a different patient, or an invalid identifier.
const ReasonPatientMismatch = "patient-mismatch"

// Claim is the patient a reading's sender names (HL7 PID-3), to be
// reconciled with the bed's association. Serial readings have none.
type Claim struct {
	// Patient is the sender's patient (NHS number checked), or nil when
	// the sender names none.
	Patient *record.Patient
	// Problem says why the sender's identifier cannot be used (for
	// example it fails the Modulus 11 check); it never quotes it.
	Problem string
	// SenderWins makes the sender's patient the reading's patient also
	// when the bed has no association (config mllp.patient: sender).
	SenderWins bool
}

// record returns the claim to keep with a record until it is decided, or
// nil when the sender names no patient.
func (c *Claim) record() *record.Claim {
	if c == nil || c.Patient == nil {
		return nil
	}
	return &record.Claim{Patient: *c.Patient, SenderWins: c.SenderWins}
}

// reconcile applies a record's claim to the bed's association decision d,
// made when d is final (not Hold: a held record keeps its claim and is
// reconciled when it is decided). It returns the decision to route by, or
// a non-empty mismatch (a reason naming no patient) when the reading must
// be quarantined instead:
//
//   - no claim: d as it is;
//   - bed and sender name a patient: d when it is the same one, else a
//     mismatch, whichever side wins;
//   - only the sender names a patient: forwarded with it when the sender
//     wins and the bed is known to be empty, else d (the bed's policy for a
//     bed with no patient; never the sender's patient when the bed's is
//     unknown: admission feed unavailable, hold queue full).
//
// An unusable sender identifier (Claim.Problem) is quarantined before any
// decision, in Accept.
func reconcile(c *record.Claim, d assoc.Decision) (assoc.Decision, string) {
	switch {
	case c == nil || d.Action == assoc.Hold:
		return d, ""
	case d.Action == assoc.Forward && d.Patient != nil:
		if d.Patient.NHSNumber != c.Patient.NHSNumber {
			return d, "the sender names a different patient from the bed's association"
		}
		return d, ""
	case c.SenderWins && bedKnownEmpty(d):
		p := c.Patient
		return assoc.Decision{Action: assoc.Forward, Patient: &p, Reason: "patient named by the sender"}, ""
	}
	return d, ""
}

// bedKnownEmpty reports whether d says nobody was in the bed at the
// reading's time, as the admission feed knew it: not when the feed was
// unavailable or the hold queue full, where the bed's patient is unknown
// and the sender's cannot be checked against it.
func bedKnownEmpty(d assoc.Decision) bool {
	return d.Reason == assoc.ReasonNoPatient || d.Reason == assoc.ReasonHoldExpired
}
