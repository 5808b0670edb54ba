package assoc

import (
	"testing"
	"time"
)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// TestFeedWatermark: when the association of a reading at a time can be
// decided, through starts, breaks with and without the broker's session,
// and the retained events that settle a gap.
func TestFeedWatermark(t *testing.T) {
	type link struct {
		up      bool
		at      int
		session bool
	}
	tests := []struct {
		name    string
		latest  int // the bed's latest event (seconds), -1 for none
		links   []link
		reading int
		now     int
		known   bool
	}{
		{"never up", 0, nil, 10, 100, false},
		{"up, within the grace", -1, []link{{up: true, at: 0}}, 10, 12, false},
		{"up, settling after the start", -1, []link{{up: true, at: 0}}, -10, 2, false},
		{"up, past the grace", -1, []link{{up: true, at: 0}}, 10, 15, true},
		{"start: reading after the retained event", 5, []link{{up: true, at: 20}}, 10, 26, true},
		{"start: reading before the retained event is a hole", 15, []link{{up: true, at: 20}}, 10, 100, false},
		{"start: a bed with no event at all", -1, []link{{up: true, at: 20}}, -50, 26, true},
		{"down: readings until the break less the grace", -1, []link{{up: true, at: 0}, {at: 50}}, 44, 60, true},
		{"down: readings after the break wait", -1, []link{{up: true, at: 0}, {at: 50}}, 46, 60, false},
		{"break with the session kept is no break", 40, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70, session: true}}, 55, 80, true},
		{"break without the session: before the latest event, a hole", 60, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70}}, 55, 200, false},
		{"break without the session: after the latest event, known", 60, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70}}, 65, 80, true},
		{"break without the session: before the break, known", 60, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70}}, 40, 80, true},
		{"a break within the grace of a reconnect: the gap stays unknown", 60, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70}, {at: 72}}, 55, 80, false},
		{"a break within the grace of a reconnect: before the gap, known", 60, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70}, {at: 72}}, 40, 80, true},
		{"a break within the grace of a start: nothing known", 15, []link{{up: true, at: 20}, {at: 22}}, 10, 30, false},
		{"a break within the grace of a start: not after the retained event either", 15, []link{{up: true, at: 20}, {at: 22}}, 16, 30, false},
		{"unsettled gap extends over the next break", 60, []link{{up: true, at: 0}, {at: 50}, {up: true, at: 70}, {at: 71}, {up: true, at: 90, session: true}}, 55, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			latest := func(string) time.Time {
				if tt.latest < 0 {
					return time.Time{}
				}
				return sec(tt.latest)
			}
			f := NewFeed(5*time.Second, latest, []string{"1"})
			for _, l := range tt.links {
				if l.up {
					f.Up(sec(l.at), l.session)
				} else {
					f.Down(sec(l.at))
				}
			}
			if got := f.Known("1", sec(tt.reading), sec(tt.now)); got != tt.known {
				t.Fatalf("Known(reading +%ds, now +%ds) = %v, want %v", tt.reading, tt.now, got, tt.known)
			}
		})
	}
}

// TestDecideWaitsForTheFeed: a reading the feed does not know yet is held,
// then, after MaxWait, follows the policy with ReasonFeedUnavailable; never
// the patient the register would name.
func TestDecideWaitsForTheFeed(t *testing.T) {
	r := NewRegister(Options{Beds: []string{"1"}, Now: clock})
	apply(t, r, []step{{event: Admit, p: pA, at: 0}})
	f := NewFeed(5*time.Second, r.Latest, []string{"1"}) // never up
	for _, policy := range []Policy{PolicyForward, PolicyHold, PolicyQuarantine} {
		d := Decider{Lookup: r, Feed: f, Policy: policy, MaxWait: time.Minute, AfterHold: PolicyQuarantine}
		rec := reading("1", 10)
		if got := d.Decide(rec, minute(10).Add(30*time.Second)); got.Action != Hold || got.Reason != ReasonFeedPending {
			t.Errorf("%s: within MaxWait: %+v, want held awaiting the feed", policy, got)
		}
		got := d.Decide(rec, minute(12))
		if got.Patient != nil || got.Reason != ReasonFeedUnavailable || got.Action == Hold || got.Action == Forward {
			t.Errorf("%s: after MaxWait: %+v, want the policy without a patient, reason %q", policy, got, ReasonFeedUnavailable)
		}
	}
}
