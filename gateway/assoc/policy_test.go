package assoc

import (
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

// reading is a record from bed read at minute m after t0.
func reading(bed string, m int) record.Record {
	return record.Record{Site: "s", Ward: "w", Bed: bed, ReceivedAt: minute(m), DeviceTime: minute(m).Add(-3 * time.Hour)}
}

func TestDecide(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1", "2"}, Now: clock})
	apply(t, r, []step{{bed: "1", event: Admit, p: pA, at: 10}, {bed: "1", event: Discharge, at: 20}})
	hold := 5 * time.Minute
	tests := []struct {
		name    string
		d       Decider
		rec     record.Record
		now     time.Time
		want    Action
		patient record.Patient
		reason  string
	}{
		{"associated: forward with the patient", Decider{Lookup: r}, reading("1", 15), minute(15), Forward, pA, ReasonAssociated},
		{"associated at the admit instant", Decider{Lookup: r, Policy: PolicyQuarantine}, reading("1", 10), minute(30), Forward, pA, ReasonAssociated},
		{"device time is not used (it lies three hours behind)", Decider{Lookup: r}, reading("1", 3*60+15), minute(200), ForwardUnassociated, none, ReasonNoPatient},
		{"reading at the discharge instant is unassociated", Decider{Lookup: r}, reading("1", 20), minute(20), ForwardUnassociated, none, ReasonNoPatient},
		{"default policy forwards flagged", Decider{Lookup: r}, reading("2", 15), minute(15), ForwardUnassociated, none, ReasonNoPatient},
		{"explicit forward", Decider{Lookup: r, Policy: PolicyForward}, reading("2", 15), minute(15), ForwardUnassociated, none, ReasonNoPatient},
		{"quarantine", Decider{Lookup: r, Policy: PolicyQuarantine}, reading("2", 15), minute(15), Quarantine, none, ReasonNoPatient},
		{"hold within the bound", Decider{Lookup: r, Policy: PolicyHold, HoldFor: hold}, reading("2", 15), minute(19), Hold, none, ReasonAwaiting},
		{"hold expires at the bound: forward flagged", Decider{Lookup: r, Policy: PolicyHold, HoldFor: hold}, reading("2", 15), minute(20), ForwardUnassociated, none, ReasonHoldExpired},
		{"hold expires at the bound: quarantine", Decider{Lookup: r, Policy: PolicyHold, HoldFor: hold, AfterHold: PolicyQuarantine}, reading("2", 15), minute(20), Quarantine, none, ReasonHoldExpired},
		{"default hold time", Decider{Lookup: r, Policy: PolicyHold}, reading("2", 15), minute(15).Add(DefaultHoldFor - time.Nanosecond), Hold, none, ReasonAwaiting},
		{"hold of an associated reading forwards it", Decider{Lookup: r, Policy: PolicyHold}, reading("1", 12), minute(12), Forward, pA, ReasonAssociated},
		{"record's own patient is ignored", Decider{Lookup: r}, func() record.Record { x := reading("2", 15); x.Patient = &pB; return x }(), minute(15), ForwardUnassociated, none, ReasonNoPatient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.d.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tt.d.Decide(tt.rec, tt.now)
			if got.Action != tt.want || got.Reason != tt.reason {
				t.Fatalf("Decide = %v %q, want %v %q", got.Action, got.Reason, tt.want, tt.reason)
			}
			if (got.Patient != nil) != (tt.patient != none) || got.Patient != nil && *got.Patient != tt.patient {
				t.Fatalf("Decide patient = %+v, want %+v", got.Patient, tt.patient)
			}
		})
	}
}

func TestDeciderValidate(t *testing.T) {
	r := NewRegister(Options{})
	tests := []struct {
		name string
		d    Decider
		ok   bool
	}{
		{"zero policies", Decider{Lookup: r}, true},
		{"hold then quarantine", Decider{Lookup: r, Policy: PolicyHold, AfterHold: PolicyQuarantine}, true},
		{"no lookup", Decider{}, false},
		{"unknown policy", Decider{Lookup: r, Policy: "drop"}, false},
		{"hold after hold", Decider{Lookup: r, Policy: PolicyHold, AfterHold: PolicyHold}, false},
		{"negative hold", Decider{Lookup: r, Policy: PolicyHold, HoldFor: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.d.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": PolicyForward, "forward": PolicyForward, "hold": PolicyHold, "quarantine": PolicyQuarantine} {
		if got, err := ParsePolicy(in); err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Forward", "drop", " hold"} {
		if _, err := ParsePolicy(in); err == nil {
			t.Errorf("ParsePolicy(%q) accepted", in)
		}
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{Forward: "forward", ForwardUnassociated: "forward-unassociated", Hold: "hold", Quarantine: "quarantine", Action(9): "Action(9)"} {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), want)
		}
	}
}

// TestReadingTime: a record is associated at its receive time, an
// episodic measurement at the time it was taken on the gateway's clock:
// a blood pressure taken before an admission, reported after it, is not
// the admitted patient's.
func TestReadingTime(t *testing.T) {
	offset := -3 * time.Hour // the device clock is three hours slow
	tests := []struct {
		name string
		rec  record.Record
		want time.Time
	}{
		{"continuous", record.Record{ReceivedAt: minute(30), DeviceTime: minute(30).Add(offset), ClockOffset: offset}, minute(30)},
		{"no receive time", record.Record{DeviceTime: minute(5)}, minute(5)},
		{"episodic: taken 20 min before it was reported", record.Record{Episodic: true, ReceivedAt: minute(30), DeviceTime: minute(10).Add(offset), ClockOffset: offset}, minute(10)},
		{"episodic stamped after its reading: the receive time", record.Record{Episodic: true, ReceivedAt: minute(30), DeviceTime: minute(31).Add(offset), ClockOffset: offset}, minute(30)},
		{"episodic without a device time", record.Record{Episodic: true, ReceivedAt: minute(30)}, minute(30)},
	}
	for _, tt := range tests {
		if got := ReadingTime(tt.rec); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// Admitted at minute 20: the measurement of minute 10 has nobody.
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	apply(t, r, []step{{bed: "1", event: Admit, p: pA, at: 20}})
	bp := record.Record{Bed: "1", Site: "s", Ward: "w", Episodic: true, ReceivedAt: minute(30), DeviceTime: minute(10).Add(offset), ClockOffset: offset}
	if d := (Decider{Lookup: r}).Decide(bp, minute(30)); d.Action != ForwardUnassociated {
		t.Errorf("a measurement taken before the admission: %+v, want forwarded without the patient", d)
	}
}

// unknownFeed knows the feed complete for no reading.
type unknownFeed struct{}

func (unknownFeed) Known(string, time.Time, time.Time) bool { return false }
func (unknownFeed) Next(_, now time.Time) time.Time         { return now.Add(time.Hour) }

// TestRefile: the subject a filed reading has now, for a correction: the
// patient, or the policy for nobody (a hold is not held again), and no
// answer while the feed is not known complete for the reading's time.
func TestRefile(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	apply(t, r, []step{{bed: "1", event: Admit, p: pA, at: 10}, {bed: "1", event: Discharge, at: 20}})
	tests := []struct {
		name   string
		d      Decider
		m      int
		ok     bool
		want   Action
		reason string
	}{
		{"patient", Decider{Lookup: r}, 15, true, Forward, ReasonAssociated},
		{"nobody, forward", Decider{Lookup: r}, 25, true, ForwardUnassociated, ReasonNoPatient},
		{"nobody, quarantine", Decider{Lookup: r, Policy: PolicyQuarantine}, 25, true, Quarantine, ReasonNoPatient},
		{"nobody, hold: not held again", Decider{Lookup: r, Policy: PolicyHold, HoldFor: time.Hour}, 25, true, ForwardUnassociated, ReasonHoldExpired},
		{"nobody, hold then quarantine", Decider{Lookup: r, Policy: PolicyHold, HoldFor: time.Hour, AfterHold: PolicyQuarantine}, 25, true, Quarantine, ReasonHoldExpired},
		{"feed not known: no answer", Decider{Lookup: r, Feed: unknownFeed{}}, 15, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.d.Refile(reading("1", tt.m), minute(tt.m+1))
			if ok != tt.ok || ok && (got.Action != tt.want || got.Reason != tt.reason) {
				t.Fatalf("Refile = %v %q %v, want %v %q %v", got.Action, got.Reason, ok, tt.want, tt.reason, tt.ok)
			}
			if ok && (got.Action == Forward) != (got.Patient != nil) {
				t.Fatalf("Refile patient %v with action %v", got.Patient, got.Action)
			}
		})
	}
}
