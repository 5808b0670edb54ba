package assoc

import (
	"cmp"
	"fmt"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// Policy says what happens to a reading from a bed with nobody associated
// at the reading's time.
type Policy string

// The policies.
const (
	// PolicyForward forwards the reading at once with its location and
	// device only, flagged unassociated. The default.
	PolicyForward Policy = "forward"
	// PolicyHold holds the reading for Decider.HoldFor waiting for an
	// association that covers its time; then Decider.AfterHold applies.
	PolicyHold Policy = "hold"
	// PolicyQuarantine sends the reading to the bed's quarantine topic.
	PolicyQuarantine Policy = "quarantine"
)

// ParsePolicy checks a configured policy name; "" means PolicyForward.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case "":
		return PolicyForward, nil
	case PolicyForward, PolicyHold, PolicyQuarantine:
		return p, nil
	}
	return "", fmt.Errorf("assoc: unknown unassociated-bed policy %q (want forward, hold or quarantine)", clip(s))
}

// Action is what to do with a record now.
type Action int

// The actions.
const (
	// Forward: publish with Decision.Patient.
	Forward Action = iota
	// ForwardUnassociated: publish with location and device only
	// (record.Patient nil), flagged as having no patient.
	ForwardUnassociated
	// Hold: keep the record (see Held) and decide again later.
	Hold
	// Quarantine: publish to the bed's quarantine topic with Reason.
	Quarantine
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case Forward:
		return "forward"
	case ForwardUnassociated:
		return "forward-unassociated"
	case Hold:
		return "hold"
	case Quarantine:
		return "quarantine"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Reasons of a Decision. They name no patient.
const (
	ReasonAssociated  = "associated"
	ReasonNoPatient   = "no patient associated with the bed at the reading time"
	ReasonAwaiting    = "awaiting patient association"
	ReasonHoldExpired = "no patient associated within the hold time"
	ReasonHoldFull    = "hold queue full"
	// ReasonFeedPending: the admission feed is not yet known complete up
	// to the reading's time (see Feed); the reading is held.
	ReasonFeedPending = "awaiting the admission feed"
	// ReasonFeedUnavailable: the feed was not known complete up to the
	// reading's time within Decider.MaxWait; the reading follows the
	// policy with no patient, never a guessed one.
	ReasonFeedUnavailable = "admission feed unavailable"
)

// Decision is what to do with one record.
type Decision struct {
	Action Action
	// Patient is the patient to set on the record; nil unless Action is
	// Forward.
	Patient *record.Patient
	// Reason says why, for the quarantine topic, flags and counters.
	Reason string
}

// Lookup answers who was in a bed at a time; *Register implements it.
type Lookup interface {
	PatientAt(bed string, t time.Time) (record.Patient, bool)
}

// Watermark says whether the admission feed is known complete for a bed up
// to a reading's time, and from when it may be; *Feed implements it.
type Watermark interface {
	Known(bed string, t, now time.Time) bool
	// Next is the earliest time at which Known may change for a reading
	// of time t not known at now.
	Next(t, now time.Time) time.Time
}

// DefaultMaxWait is the default Decider.MaxWait: a broker restart or a
// network fault of several minutes is waited out; beyond that, readings
// follow the policy rather than wait without bound.
const DefaultMaxWait = 15 * time.Minute

// DefaultHoldFor is the default Decider.HoldFor: long enough for a clerk to
// complete an admission after the monitor is connected.
const DefaultHoldFor = 15 * time.Minute

// Decider applies the association and the unassociated-bed policy to
// records. It holds no state of its own: Decide is a function of the
// record, the clock and the Lookup's answer.
type Decider struct {
	// Lookup answers who was in the bed. Required.
	Lookup Lookup
	// Feed says when the association of a reading can be decided; nil
	// means always (no feed to wait for).
	Feed Watermark
	// MaxWait bounds how long a reading waits for Feed, counted from its
	// ReadingTime; 0 means DefaultMaxWait.
	MaxWait time.Duration
	// Policy applies to records with no patient; "" means PolicyForward.
	Policy Policy
	// HoldFor bounds how long PolicyHold holds a record, counted from its
	// ReceivedAt; 0 means DefaultHoldFor.
	HoldFor time.Duration
	// AfterHold is what happens to a held record still unassociated after
	// HoldFor: PolicyForward (forward flagged, the default, "") or
	// PolicyQuarantine.
	AfterHold Policy
}

// Validate reports a policy name that Decide would not understand.
func (d Decider) Validate() error {
	if d.Lookup == nil {
		return fmt.Errorf("assoc: decider needs a lookup")
	}
	if _, err := ParsePolicy(string(d.Policy)); err != nil {
		return err
	}
	switch d.AfterHold {
	case "", PolicyForward, PolicyQuarantine:
	default:
		return fmt.Errorf("assoc: after-hold policy must be forward or quarantine, not %q", clip(string(d.AfterHold)))
	}
	if d.HoldFor < 0 {
		return fmt.Errorf("assoc: negative hold time %v", d.HoldFor)
	}
	if d.MaxWait < 0 {
		return fmt.Errorf("assoc: negative maximum wait %v", d.MaxWait)
	}
	return nil
}

// ReadingTime is the time a record is associated at: its ReceivedAt, the
// gateway's clock, which like the EPR's is NTP-synchronised. The device's
// own time is not used, since device clocks are often wrong (the reason the
// record carries ClockOffset); a record with no ReceivedAt falls back to
// DeviceTime. An episodic measurement (record.Record.Episodic) is
// associated at the time it was taken, on the gateway's clock: DeviceTime
// less the reporting reading's ClockOffset (never after ReceivedAt), so a
// blood pressure taken before an admission is never the new patient's.
func ReadingTime(rec record.Record) time.Time {
	if rec.ReceivedAt.IsZero() {
		return rec.DeviceTime
	}
	if rec.Episodic && !rec.DeviceTime.IsZero() {
		if at := rec.DeviceTime.Add(-rec.ClockOffset); at.Before(rec.ReceivedAt) {
			return at
		}
	}
	return rec.ReceivedAt
}

// Decide returns what to do with rec at now. While Feed does not know the
// admission feed complete up to ReadingTime(rec), the record is held
// (ReasonFeedPending), for at most MaxWait: then it follows the policy as
// for a bed with nobody in it, with ReasonFeedUnavailable. Once known, the
// patient comes from the Lookup at ReadingTime(rec) for rec.Bed
// (rec.Patient is ignored: the Register, which holds the static
// assignments too, is the one source).
// With nobody in the bed the policy decides; under PolicyHold a record
// whose ReadingTime is HoldFor or more before now is no longer held but
// forwarded flagged or quarantined as AfterHold says.
func (d Decider) Decide(rec record.Record, now time.Time) Decision {
	return d.decide(rec.Bed, ReadingTime(rec), now)
}

// decide is Decide for a reading of bed at its ReadingTime at.
func (d Decider) decide(bed string, at time.Time, now time.Time) Decision {
	if d.Feed != nil && !d.Feed.Known(bed, at, now) {
		if now.Sub(at) < d.maxWait() {
			return Decision{Action: Hold, Reason: ReasonFeedPending}
		}
		switch d.Policy {
		case PolicyQuarantine:
			return Decision{Action: Quarantine, Reason: ReasonFeedUnavailable}
		case PolicyHold:
			return d.expired(ReasonFeedUnavailable)
		}
		return Decision{Action: ForwardUnassociated, Reason: ReasonFeedUnavailable}
	}
	return d.known(bed, at, now.Sub(at) < d.holdFor())
}

// known decides a reading whose feed is known: its patient, else the
// policy (under PolicyHold, hold while mayHold).
func (d Decider) known(bed string, at time.Time, mayHold bool) Decision {
	if p, ok := d.Lookup.PatientAt(bed, at); ok {
		return Decision{Action: Forward, Patient: &p, Reason: ReasonAssociated}
	}
	switch d.Policy {
	case PolicyQuarantine:
		return Decision{Action: Quarantine, Reason: ReasonNoPatient}
	case PolicyHold:
		if mayHold {
			return Decision{Action: Hold, Reason: ReasonAwaiting}
		}
		return d.expired(ReasonHoldExpired)
	}
	return Decision{Action: ForwardUnassociated, Reason: ReasonNoPatient}
}

// Refile returns the decision for a record already filed as Decide would
// take it now, for a correction; false while the admission feed is not
// known complete up to the record's time: a correction is never made on a
// guess. A filed reading is not held again: with nobody in the bed under
// PolicyHold, AfterHold applies at once.
func (d Decider) Refile(rec record.Record, now time.Time) (Decision, bool) {
	at := ReadingTime(rec)
	if d.Feed != nil && !d.Feed.Known(rec.Bed, at, now) {
		return Decision{}, false
	}
	return d.known(rec.Bed, at, false), true
}

// changes returns the earliest time at which decide's answer for a
// reading of time at, held at now, may change without an admission event:
// when the feed may know it (Feed.Next), when its wait for the feed ends
// (MaxWait), or when its hold ends (HoldFor). For a reading the feed knows
// already but that is still held (waiting for a patient under PolicyHold,
// or in a hole of the feed) it is past: the caller looks again at its own
// pace.
func (d Decider) changes(at, now time.Time) time.Time {
	t := at.Add(min(d.holdFor(), d.maxWait()))
	if d.Feed != nil {
		if known := d.Feed.Next(at, now); known.Before(t) {
			t = known
		}
	}
	return t
}

func (d Decider) holdFor() time.Duration {
	if d.HoldFor <= 0 {
		return DefaultHoldFor
	}
	return d.HoldFor
}

func (d Decider) maxWait() time.Duration { return cmp.Or(d.MaxWait, DefaultMaxWait) }

func (d Decider) expired(reason string) Decision {
	if d.AfterHold == PolicyQuarantine {
		return Decision{Action: Quarantine, Reason: reason}
	}
	return Decision{Action: ForwardUnassociated, Reason: reason}
}
