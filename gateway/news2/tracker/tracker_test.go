package tracker

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/record"
)

var (
	t0      = time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	bed3    = Bed{Site: "St Elsewhere", Ward: "Ward 7", Name: "Bed 3"}
	patient = &record.Patient{NHSNumber: "9449305552"}
)

// obs is one device value at a time, with an id derived the way the
// gateway derives it.
func obs(mdc uint32, v float64, unit string, at time.Time) record.Observation {
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprintf("gw1|dev|%d|%s", mdc, at.Format(time.RFC3339Nano)))).String()
	return record.Observation{ID: id, MDC: mdc, Value: &v, Unit: unit}
}

// reading is an observation record of bed3 taken at at, received a second
// later.
func reading(at time.Time, os ...record.Observation) record.Record {
	return record.Record{
		Gateway: "gw1", Site: bed3.Site, Ward: bed3.Ward, Bed: bed3.Name,
		Topic:      NurseTopic(bed3)[:len(NurseTopic(bed3))-len("nurse")] + "obs",
		DeviceKey:  "dev",
		DeviceTime: at, ReceivedAt: at.Add(time.Second),
		Patient:      patient,
		Observations: os,
	}
}

// vitals is a monitor reading of the five device parameters, all scoring
// 0 (resp 16, SpO2 97, systolic 121, pulse 72, temperature 37.2).
func vitals(at time.Time) record.Record {
	return reading(at,
		obs(151562, 16, "/min", at), obs(150456, 97, "%", at), obs(150021, 121, "mm[Hg]", at),
		obs(149530, 72, "/min", at), obs(150364, 37.2, "Cel", at))
}

// nurse is an entry for the bed's patient.
func nurse(c news2.ACVPU, b news2.Breathing, at time.Time, id string) NurseEntry {
	return NurseEntry{Patient: *patient, ACVPU: c, Breathing: b, Time: at, ID: id}
}

func newTracker(t *testing.T, opts Options) *Tracker {
	t.Helper()
	tr, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// step is one input to a tracker: a record or a nurse entry.
type step struct {
	rec   *record.Record
	entry *NurseEntry
	at    time.Time // receive time of a nurse entry
}

func rec(r record.Record) step { return step{rec: &r} }
func entry(e NurseEntry, at time.Time) step {
	return step{entry: &e, at: at}
}

// run feeds steps to tr and returns the score records it produced.
func run(tr *Tracker, steps []step) []record.Record {
	var out []record.Record
	for _, s := range steps {
		var r record.Record
		var ok bool
		if s.rec != nil {
			r, ok = tr.Observe(*s.rec)
		} else {
			r, ok = tr.Nurse(bed3, *s.entry, s.at)
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

func TestCompleteAndIncompleteSets(t *testing.T) {
	alertAir := nurse(news2.Alert, news2.Air, t0.Add(-2*time.Minute), "epr-1")
	tests := []struct {
		name    string
		steps   []step
		totals  []int
		missing []news2.Parameter // from Check after the steps, when no score
	}{
		{"complete, nurse first", []step{entry(alertAir, t0), rec(vitals(t0))}, []int{0}, nil},
		{"complete, nurse last", []step{rec(vitals(t0)), entry(alertAir, t0.Add(time.Minute))}, []int{0}, nil},
		{"no nurse entry", []step{rec(vitals(t0))}, nil, []news2.Parameter{news2.AirOrOxygen, news2.Consciousness}},
		{"acvpu only", []step{rec(vitals(t0)), entry(nurse(news2.Alert, 0, t0, "e"), t0)}, nil, []news2.Parameter{news2.AirOrOxygen}},
		// With no reading, the bed's patient is not known: the entry waits.
		{"nurse only", []step{entry(alertAir, t0)}, nil, []news2.Parameter{news2.RespRate, news2.SpO2Scale1, news2.AirOrOxygen, news2.SystolicBP, news2.Pulse, news2.Consciousness, news2.Temperature}},
		{"no temperature", []step{entry(alertAir, t0), rec(reading(t0,
			obs(151562, 16, "/min", t0), obs(150456, 97, "%", t0), obs(150021, 121, "mm[Hg]", t0), obs(149530, 72, "/min", t0)))},
			nil, []news2.Parameter{news2.Temperature}},
		{"two devices make a set", []step{
			entry(nurse(news2.Voice, news2.Oxygen, t0, "epr-2"), t0),
			rec(reading(t0, obs(150456, 93, "%", t0), obs(149530, 115, "/min", t0))),
			rec(reading(t0.Add(3*time.Minute), obs(151562, 22, "/min", t0.Add(3*time.Minute)),
				obs(150021, 100, "mm[Hg]", t0.Add(3*time.Minute)), obs(150364, 38.6, "Cel", t0.Add(3*time.Minute)))),
		}, []int{2 + 2 + 2 + 2 + 2 + 3 + 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, Options{})
			got := run(tr, tt.steps)
			var totals []int
			for _, r := range got {
				totals = append(totals, r.NEWS2.Total)
			}
			if !slices.Equal(totals, tt.totals) {
				t.Fatalf("scores %v, want %v", totals, tt.totals)
			}
			err := tr.Check(bed3)
			var inc *news2.IncompleteError
			switch {
			case tt.missing == nil && err != nil:
				t.Errorf("Check = %v, want nil", err)
			case tt.missing != nil && (!errors.As(err, &inc) || !slices.Equal(inc.Missing, tt.missing)):
				t.Errorf("Check = %v, want missing %v", err, tt.missing)
			}
		})
	}
}

func TestScoreRecord(t *testing.T) {
	tr := newTracker(t, Options{})
	v := vitals(t0)
	v.Observations[0] = obs(151562, 23, "/min", t0) // resp 23: 2
	tr.Observe(v)
	at := t0.Add(90 * time.Second)
	r, ok := tr.Nurse(bed3, nurse(news2.Confusion, news2.Oxygen, t0.Add(time.Minute), "epr-9"), at)
	if !ok {
		t.Fatalf("no score; Check: %v", tr.Check(bed3))
	}
	if r.Kind != record.KindNEWS2 || r.Gateway != "gw1" || BedOf(r) != bed3 || r.Topic != v.Topic ||
		!r.ReceivedAt.Equal(at) || r.Patient == nil || *r.Patient != *patient || r.Patient == patient {
		t.Errorf("record context = %+v", r)
	}
	s := r.NEWS2
	if s.Total != 7 || s.Band != "high" || s.Scale2 || !s.Effective.Equal(t0.Add(time.Minute)) || s.Advisory == "" {
		t.Errorf("score = %d %s scale2=%v effective %v advisory %q; want 7 high, scale 1, effective %v",
			s.Total, s.Band, s.Scale2, s.Effective, s.Advisory, t0.Add(time.Minute))
	}
	if _, err := uuid.Parse(s.ID); err != nil {
		t.Errorf("ID %q: %v", s.ID, err)
	}
	want := []struct {
		param, code string
		score       int
		value       float64
		text, id    string
	}{
		{"resp-rate", news2.CodeRespRateScore, 2, 23, "", v.Observations[0].ID},
		{"spo2-scale1", news2.CodeSpO2Scale1Score, 0, 97, "", v.Observations[1].ID},
		{"air-or-oxygen", news2.CodeAirOrOxygenScore, 2, 0, "oxygen", "epr-9"},
		{"systolic-bp", news2.CodeSystolicBPScore, 0, 121, "", v.Observations[2].ID},
		{"pulse", news2.CodePulseScore, 0, 72, "", v.Observations[3].ID},
		{"consciousness", news2.CodeConsciousnessScore, 3, 0, "C", "epr-9"},
		{"temperature", news2.CodeTemperatureScore, 0, 37.2, "", v.Observations[4].ID},
	}
	if len(s.SubScores) != len(want) {
		t.Fatalf("%d sub-scores, want %d", len(s.SubScores), len(want))
	}
	for i, w := range want {
		g := s.SubScores[i]
		gotValue := 0.0
		if g.Value != nil {
			gotValue = *g.Value
		}
		if g.Parameter != w.param || g.Code != w.code || g.Score != w.score || gotValue != w.value ||
			g.ValueText != w.text || !slices.Equal(g.Observations, []string{w.id}) || (w.text != "") != (g.Value == nil) {
			t.Errorf("sub-score %d = %+v (value %v), want %+v", i, g, gotValue, w)
		}
	}

	// The record is what the FHIR encoder publishes.
	e, err := fhir.New(fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Encode(r, 1); err != nil {
		t.Errorf("fhir encoder rejects the score record: %v", err)
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		nurse  time.Duration // nurse entry time after the vitals
		scored bool
	}{
		{"inside default window", 0, 15 * time.Minute, true},
		{"outside default window", 0, 15*time.Minute + time.Second, false},
		{"nurse entry long before", 0, -time.Hour, false},
		{"wider window", 30 * time.Minute, 20 * time.Minute, true},
		{"narrow window", 5 * time.Minute, 6 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, Options{Window: tt.window})
			at := t0.Add(tt.nurse)
			got := run(tr, []step{rec(vitals(t0)), entry(nurse(news2.Alert, news2.Air, at, "e1"), at.Add(time.Second))})
			if (len(got) == 1) != tt.scored {
				t.Fatalf("scores %d, want scored %v; Check: %v", len(got), tt.scored, tr.Check(bed3))
			}
			var inc *news2.IncompleteError
			if !tt.scored && (!errors.As(tr.Check(bed3), &inc) || len(inc.Stale) == 0) {
				t.Errorf("Check = %v, want stale parameters", tr.Check(bed3))
			}
		})
	}

	// Fresh vitals after an old set: the old nurse entry has expired
	// (Options.NurseFor), no score.
	tr := newTracker(t, Options{})
	got := run(tr, []step{rec(vitals(t0)), entry(nurse(news2.Alert, news2.Air, t0, "e1"), t0), rec(vitals(t0.Add(time.Hour)))})
	if len(got) != 1 {
		t.Fatalf("scores %d, want 1 (the first set only)", len(got))
	}
	var inc *news2.IncompleteError
	if err := tr.Check(bed3); !errors.As(err, &inc) || !slices.Equal(inc.Missing, []news2.Parameter{news2.AirOrOxygen, news2.Consciousness}) {
		t.Errorf("Check = %v, want air-or-oxygen and consciousness missing (expired)", err)
	}

	// NurseFor shorter than the window: an entry 6 minutes old is not used.
	tr = newTracker(t, Options{NurseFor: 5 * time.Minute})
	if got := run(tr, []step{entry(nurse(news2.Alert, news2.Air, t0, "e1"), t0), rec(vitals(t0.Add(6 * time.Minute)))}); len(got) != 0 {
		t.Errorf("an entry older than NurseFor was used: %d scores", len(got))
	}
}

func TestScale2(t *testing.T) {
	// SpO2 90 % on oxygen: Scale 1 scores 3, Scale 2 scores 0.
	low := func(at time.Time) record.Record {
		r := vitals(at)
		r.Observations[1] = obs(150456, 90, "%", at)
		return r
	}
	tests := []struct {
		name      string
		opts      Options
		wantSpO2  int
		wantCode  string
		wantScale bool
	}{
		{"scale 1 by default", Options{}, 3, news2.CodeSpO2Scale1Score, false},
		{"bed marked scale 2", Options{Scale2: []Bed{bed3}}, 0, news2.CodeSpO2Scale2Score, true},
		{"another bed marked", Options{Scale2: []Bed{{Site: bed3.Site, Ward: bed3.Ward, Name: "Bed 4"}}}, 3, news2.CodeSpO2Scale1Score, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, tt.opts)
			got := run(tr, []step{entry(nurse(news2.Alert, news2.Oxygen, t0, "e1"), t0), rec(low(t0))})
			if len(got) != 1 {
				t.Fatalf("scores %d, want 1", len(got))
			}
			sub := got[0].NEWS2.SubScores[1]
			if sub.Score != tt.wantSpO2 || sub.Code != tt.wantCode || got[0].NEWS2.Scale2 != tt.wantScale {
				t.Errorf("SpO2 sub-score %+v scale2=%v, want %d %s %v", sub, got[0].NEWS2.Scale2, tt.wantSpO2, tt.wantCode, tt.wantScale)
			}
		})
	}

	// Marking the bed changes the scale on the next call after the interval,
	// with a new identity for the same inputs.
	tr := newTracker(t, Options{})
	first := run(tr, []step{entry(nurse(news2.Alert, news2.Oxygen, t0, "e1"), t0), rec(low(t0))})
	tr.SetScale2(bed3, true)
	same := low(t0)
	same.ReceivedAt = t0.Add(2 * time.Minute)
	second, ok := tr.Observe(same)
	if len(first) != 1 || !ok || second.NEWS2.ID == first[0].NEWS2.ID || !second.NEWS2.Scale2 || second.NEWS2.Total != first[0].NEWS2.Total-3 {
		t.Fatalf("after SetScale2: ok=%v first %+v second %+v", ok, first, second.NEWS2)
	}
	tr.SetScale2(bed3, false)
	same.ReceivedAt = t0.Add(4 * time.Minute)
	third, ok := tr.Observe(same)
	if !ok || third.NEWS2.ID != first[0].NEWS2.ID || third.NEWS2.Scale2 {
		t.Fatalf("back to scale 1: ok=%v, ID %v, want the first score's ID %v", ok, third.NEWS2, first[0].NEWS2.ID)
	}
}

func TestNoDuplicateScores(t *testing.T) {
	e1 := nurse(news2.Alert, news2.Air, t0, "e1")
	later := func(d time.Duration, pulse float64) record.Record {
		at := t0.Add(d)
		return reading(at, obs(149530, pulse, "/min", at))
	}
	tests := []struct {
		name   string
		steps  []step
		pulses []float64 // pulse of each score produced
	}{
		{"same record twice", []step{entry(e1, t0), rec(vitals(t0)), rec(vitals(t0))}, []float64{72}},
		{"retained nurse entry re-delivered", []step{entry(e1, t0), rec(vitals(t0)), entry(e1, t0.Add(5*time.Second))}, []float64{72}},
		{"older record after a newer one", []step{entry(e1, t0), rec(vitals(t0)), rec(later(-time.Minute, 140))}, []float64{72}},
		{"new input inside the interval", []step{entry(e1, t0), rec(vitals(t0)), rec(later(10*time.Second, 95))}, []float64{72}},
		{"every second for two minutes", func() []step {
			s := []step{entry(e1, t0), rec(vitals(t0))}
			for i := 1; i <= 120; i++ {
				s = append(s, rec(later(time.Duration(i)*time.Second, 60+float64(i))))
			}
			return s
		}(), []float64{72, 120, 180}},
		{"deferred change scored on the next call", []step{
			entry(e1, t0), rec(vitals(t0)),
			rec(later(30*time.Second, 120)),        // inside the interval: deferred
			rec(reading(t0.Add(70 * time.Second))), // no inputs at all, but the interval has passed
			rec(reading(t0.Add(80 * time.Second))), // nothing new
			entry(e1, t0.Add(200*time.Second)),     // re-delivered entry: nothing new
			rec(later(200*time.Second, 120)),       // same value, new observation: new score
		}, []float64{72, 120, 120}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, Options{})
			got := run(tr, tt.steps)
			var pulses []float64
			ids := map[string]bool{}
			for _, r := range got {
				pulses = append(pulses, *r.NEWS2.SubScores[4].Value)
				if ids[r.NEWS2.ID] {
					t.Errorf("score ID %s produced twice", r.NEWS2.ID)
				}
				ids[r.NEWS2.ID] = true
			}
			if !slices.Equal(pulses, tt.pulses) {
				t.Fatalf("scores with pulses %v, want %v", pulses, tt.pulses)
			}
		})
	}

	// MinInterval is configurable.
	tr := newTracker(t, Options{MinInterval: 5 * time.Second})
	got := run(tr, []step{entry(e1, t0), rec(vitals(t0)), rec(later(10*time.Second, 95))})
	if len(got) != 2 {
		t.Errorf("MinInterval 5s: %d scores, want 2", len(got))
	}
}

func TestIDStability(t *testing.T) {
	e1 := nurse(news2.Alert, news2.Air, t0.Add(-time.Minute), "e1")
	a := run(newTracker(t, Options{}), []step{entry(e1, t0), rec(vitals(t0))})
	b := run(newTracker(t, Options{}), []step{rec(vitals(t0)), entry(e1, t0.Add(time.Minute))})
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("scores %d and %d, want 1 and 1", len(a), len(b))
	}
	if a[0].NEWS2.ID != b[0].NEWS2.ID {
		t.Errorf("same inputs in another order: IDs %s and %s", a[0].NEWS2.ID, b[0].NEWS2.ID)
	}

	other := func(edit func(*record.Record), e NurseEntry, gateway string) string {
		v := vitals(t0)
		v.Gateway = gateway
		edit(&v)
		tr := newTracker(t, Options{})
		tr.Observe(v)
		r, ok := tr.Nurse(BedOf(v), e, t0)
		if !ok {
			t.Fatalf("no score: %v", tr.Check(BedOf(v)))
		}
		return r.NEWS2.ID
	}
	noop := func(*record.Record) {}
	if id := other(noop, e1, "gw1"); id != a[0].NEWS2.ID {
		t.Errorf("recomputed ID %s, want %s", id, a[0].NEWS2.ID)
	}
	diffs := map[string]string{
		"other gateway":     other(noop, e1, "gw2"),
		"other bed":         other(func(r *record.Record) { r.Bed = "Bed 4" }, e1, "gw1"),
		"other nurse entry": other(noop, nurse(news2.Alert, news2.Air, t0.Add(-time.Minute), "e2"), "gw1"),
		"other observation": other(func(r *record.Record) { r.Observations[2] = obs(150021, 121, "mm[Hg]", t0.Add(-time.Second)) }, e1, "gw1"),
	}
	for name, id := range diffs {
		if id == a[0].NEWS2.ID {
			t.Errorf("%s: same ID %s", name, id)
		}
	}
}

func TestPrecedence(t *testing.T) {
	e1 := nurse(news2.Alert, news2.Air, t0, "e1")
	ecg := func(at time.Time, v float64) record.Observation { return obs(147842, v, "/min", at) }
	pleth := func(at time.Time, v float64) record.Observation { return obs(149530, v, "/min", at) }
	base := func(at time.Time, os ...record.Observation) record.Record {
		r := vitals(at)
		r.Observations = slices.Concat(r.Observations[:3], r.Observations[4:], os) // no pulse
		return r
	}
	tests := []struct {
		name      string
		rec       record.Record
		wantPulse float64
		wantSys   float64
	}{
		{"same time: pulse oximeter over ECG", base(t0, ecg(t0, 100), pleth(t0, 80)), 80, 121},
		{"same time, other order", base(t0, pleth(t0, 80), ecg(t0, 100)), 80, 121},
		{"ECG only", base(t0, ecg(t0, 100)), 100, 121},
		{"NIBP pulse over ECG", base(t0, ecg(t0, 100), obs(149546, 85, "/min", t0)), 85, 121},
		{"arterial systolic when no NIBP", func() record.Record {
			r := base(t0, pleth(t0, 80))
			r.Observations[2] = obs(150033, 95, "mm[Hg]", t0)
			return r
		}(), 80, 95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(newTracker(t, Options{}), []step{entry(e1, t0), rec(tt.rec)})
			if len(got) != 1 {
				t.Fatalf("scores %d, want 1", len(got))
			}
			if p, s := *got[0].NEWS2.SubScores[4].Value, *got[0].NEWS2.SubScores[3].Value; p != tt.wantPulse || s != tt.wantSys {
				t.Errorf("pulse %v systolic %v, want %v %v", p, s, tt.wantPulse, tt.wantSys)
			}
		})
	}

	// Latest wins across codes and records: a later ECG heart rate replaces
	// an earlier oximeter pulse; a late older record does not.
	tr := newTracker(t, Options{MinInterval: time.Nanosecond})
	run(tr, []step{entry(e1, t0), rec(base(t0, pleth(t0, 80)))})
	r, ok := tr.Observe(reading(t0.Add(time.Minute), ecg(t0.Add(time.Minute), 100)))
	if !ok || *r.NEWS2.SubScores[4].Value != 100 {
		t.Fatalf("later ECG heart rate: ok=%v %+v", ok, r.NEWS2)
	}
	if _, ok := tr.Observe(reading(t0.Add(30*time.Second), pleth(t0.Add(30*time.Second), 60))); ok {
		t.Errorf("an older pulse produced a score")
	}
}

func TestInputFilter(t *testing.T) {
	e1 := nurse(news2.Alert, news2.Air, t0, "e1")
	tests := []struct {
		name string
		edit func(*record.Observation)
		use  bool
	}{
		{"valid", func(*record.Observation) {}, true},
		{"alarm active", func(o *record.Observation) { o.Status = drivers.AlarmActive }, true},
		{"questionable (gateway)", func(o *record.Observation) { o.Questionable = true; o.Reason = "soft range" }, false},
		{"questionable (device)", func(o *record.Observation) { o.Status = drivers.Questionable }, false},
		{"demo", func(o *record.Observation) { o.Status = drivers.Demo }, false},
		{"calibrating", func(o *record.Observation) { o.Status = drivers.Calibrating }, false},
		{"out of range", func(o *record.Observation) { o.Status = drivers.OutOfRange }, false},
		{"absent", func(o *record.Observation) { o.Value = nil; o.Absent = "error" }, false},
		{"wrong unit", func(o *record.Observation) { o.Unit = "[degF]" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vitals(t0)
			tt.edit(&v.Observations[4]) // temperature
			got := run(newTracker(t, Options{}), []step{entry(e1, t0), rec(v)})
			if (len(got) == 1) != tt.use {
				t.Fatalf("scores %d, want the value used: %v", len(got), tt.use)
			}
		})
	}

	// Records of other kinds are not read.
	tr := newTracker(t, Options{})
	v := vitals(t0)
	v.Kind = record.KindRejected
	if got := run(tr, []step{entry(e1, t0), rec(v)}); len(got) != 0 {
		t.Errorf("a rejected record produced a score")
	}
	// A device value without a time (no device or receive time) is not read.
	v = vitals(t0)
	v.DeviceTime, v.ReceivedAt = time.Time{}, time.Time{}
	if got := run(newTracker(t, Options{}), []step{entry(e1, t0), rec(v)}); len(got) != 0 {
		t.Errorf("untimed values produced a score")
	}
	// The receive time stands in for a device that sends no time.
	v = vitals(t0)
	v.DeviceTime, v.ReceivedAt = time.Time{}, t0
	if got := run(newTracker(t, Options{}), []step{entry(e1, t0), rec(v)}); len(got) != 1 || !got[0].NEWS2.Effective.Equal(t0) {
		t.Errorf("receive-time values: %d scores", len(got))
	}
}

// stays is a fixed admission history of bed3 for the tracker's Stays.
type stays []struct {
	p     record.Patient
	since time.Time
}

func (s stays) StayAt(bed string, t time.Time) (record.Patient, time.Time, bool) {
	var cur *record.Patient
	var since time.Time
	for i := range s {
		if s[i].since.After(t) {
			break
		}
		cur, since = &s[i].p, s[i].since
	}
	if bed != bed3.Name || cur == nil || *cur == (record.Patient{}) {
		return record.Patient{}, time.Time{}, false
	}
	return *cur, since, true
}

func TestPatientChange(t *testing.T) {
	p2 := &record.Patient{NHSNumber: "9434765919"}
	forP2 := func(e NurseEntry) NurseEntry { e.Patient = *p2; return e }
	e1 := nurse(news2.Voice, news2.Oxygen, t0, "e1")
	tr := newTracker(t, Options{})
	if got := run(tr, []step{entry(e1, t0), rec(vitals(t0))}); len(got) != 1 {
		t.Fatalf("first patient: %d scores", len(got))
	}
	// The next patient's entry arrives before their first reading: it is
	// kept, and the previous patient's (retained, re-delivered) is not used.
	if _, ok := tr.Nurse(bed3, forP2(nurse(news2.Alert, 0, t0.Add(4*time.Minute), "p2-acvpu")), t0.Add(4*time.Minute)); ok {
		t.Fatal("the previous patient's reading was scored with the new patient's entry")
	}
	tr.Nurse(bed3, e1, t0.Add(4*time.Minute))
	next := vitals(t0.Add(5 * time.Minute))
	next.Patient = p2
	if _, ok := tr.Observe(next); ok {
		t.Fatal("a new patient's reading was scored with the previous patient's air-or-oxygen entry")
	}
	var inc *news2.IncompleteError
	if err := tr.Check(bed3); !errors.As(err, &inc) || !slices.Equal(inc.Missing, []news2.Parameter{news2.AirOrOxygen}) {
		t.Errorf("Check = %v, want only air-or-oxygen missing (consciousness from the new patient's entry)", err)
	}
	r, ok := tr.Nurse(bed3, forP2(nurse(0, news2.Air, t0.Add(5*time.Minute), "p2-air")), t0.Add(5*time.Minute))
	if !ok || r.Patient.NHSNumber != p2.NHSNumber || r.NEWS2.Total != 0 {
		t.Fatalf("second patient: ok=%v patient %+v", ok, r.Patient)
	}
	for _, sub := range r.NEWS2.SubScores {
		if sub.Observations[0] == "e1" {
			t.Errorf("the second patient's score cites the first patient's entry: %+v", sub)
		}
	}

	// No patient is a patient change too; an empty Patient is no patient,
	// and no entry applies to it.
	none := vitals(t0.Add(6 * time.Minute))
	none.Patient, none.Unassociated, none.AssocReason = &record.Patient{}, true, "no-patient"
	if _, ok := tr.Observe(none); ok {
		t.Fatal("an unassociated reading was scored with the patient's inputs")
	}
	if _, ok := tr.Nurse(bed3, nurse(news2.Alert, news2.Air, t0.Add(6*time.Minute), "e3"), t0.Add(7*time.Minute)); ok {
		t.Fatal("an unassociated bed was scored with a patient's entry")
	}

	// Forget drops the bed.
	tr.Forget(bed3)
	if err := tr.Check(bed3); !errors.Is(err, news2.ErrIncomplete) {
		t.Errorf("after Forget: Check = %v", err)
	}
}

// TestNurseEntryOfEarlierStay: with the admission history (Stays), an entry
// made in a patient's earlier stay in the bed is not carried into a later
// admission of the same patient, and an entry made before the patient was
// admitted is not used.
func TestNurseEntryOfEarlierStay(t *testing.T) {
	history := stays{
		{p: *patient, since: t0.Add(-time.Hour)},
		{since: t0.Add(-10 * time.Minute)}, // discharged
		{p: *patient, since: t0},           // admitted again
	}
	tests := []struct {
		name   string
		at     time.Time
		scored bool
	}{
		{"entry of the earlier stay", t0.Add(-12 * time.Minute), false},
		{"entry while the bed was empty", t0.Add(-5 * time.Minute), false},
		{"entry of this stay", t0.Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, Options{Stays: history})
			got := run(tr, []step{entry(nurse(news2.Alert, news2.Air, tt.at, "e"), t0.Add(2*time.Minute)), rec(vitals(t0.Add(2 * time.Minute)))})
			if (len(got) == 1) != tt.scored {
				t.Fatalf("scores %d, want scored %v", len(got), tt.scored)
			}
		})
	}
}

func TestNurseEntryIgnored(t *testing.T) {
	tests := []struct {
		name string
		e    NurseEntry
		at   time.Time
	}{
		{"too far ahead", nurse(news2.Alert, news2.Air, t0.Add(10*time.Minute), "e1"), t0},
		{"no id", nurse(news2.Alert, news2.Air, t0, ""), t0},
		{"no values", nurse(0, 0, t0, "e1"), t0},
		{"bad level", nurse(news2.ACVPU(9), news2.Air, t0, "e1"), t0},
		{"no time", nurse(news2.Alert, news2.Air, time.Time{}, "e1"), t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, Options{})
			got := run(tr, []step{rec(vitals(t0)), entry(tt.e, tt.at)})
			if len(got) != 0 {
				t.Fatalf("ignored entry produced a score")
			}
			var inc *news2.IncompleteError
			if err := tr.Check(bed3); !errors.As(err, &inc) || len(inc.Missing) != 2 {
				t.Errorf("Check = %v, want both nurse parameters missing", err)
			}
		})
	}

	// An older entry does not replace a newer one; a partial entry keeps
	// the other parameter.
	tr := newTracker(t, Options{MinInterval: time.Nanosecond})
	run(tr, []step{rec(vitals(t0)), entry(nurse(news2.Voice, news2.Oxygen, t0, "new"), t0)})
	if _, ok := tr.Nurse(bed3, nurse(news2.Alert, news2.Air, t0.Add(-time.Minute), "old"), t0.Add(time.Minute)); ok {
		t.Error("an older entry produced a score")
	}
	r, ok := tr.Nurse(bed3, nurse(news2.Alert, 0, t0.Add(time.Minute), "acvpu-only"), t0.Add(2*time.Minute))
	if !ok || r.NEWS2.SubScores[5].ValueText != "A" || r.NEWS2.SubScores[2].ValueText != "oxygen" ||
		r.NEWS2.SubScores[2].Observations[0] != "new" {
		t.Errorf("partial entry: ok=%v %+v", ok, r.NEWS2)
	}
}

func TestNew(t *testing.T) {
	for _, o := range []Options{{Window: -time.Second}, {MinInterval: -time.Second}} {
		if _, err := New(o); !errors.Is(err, ErrOptions) {
			t.Errorf("New(%+v) = %v, want ErrOptions", o, err)
		}
	}
}

// TestUnknownBedsCreateNoState: with the beds configured, nurse entries and
// records for any other bed change nothing and leave no state behind, however
// many there are (a flood of topics for beds that do not exist).
func TestUnknownBedsCreateNoState(t *testing.T) {
	tr := newTracker(t, Options{Beds: []Bed{bed3}})
	for i := 0; i < 10000; i++ {
		other := Bed{Site: bed3.Site, Ward: bed3.Ward, Name: fmt.Sprintf("ghost-%d", i)}
		if _, ok := tr.Nurse(other, nurse(news2.Alert, news2.Air, t0, fmt.Sprintf("e%d", i)), t0); ok {
			t.Fatal("a score for a bed that is not configured")
		}
		v := vitals(t0)
		v.Bed = other.Name
		if _, ok := tr.Observe(v); ok {
			t.Fatal("a score for a bed that is not configured")
		}
	}
	tr.mu.Lock()
	n := len(tr.beds)
	tr.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d beds of state after entries for unknown beds, want 0", n)
	}
	if !tr.Known(bed3) {
		t.Fatal("the configured bed is not known")
	}
}

// TestInputWindows: each input is used only within its window of the
// newest: by default a blood pressure (and temperature) for an hour, the
// continuous values for 15 minutes; the score names the inputs it used, a
// systolic pressure with the panel it was read in.
func TestInputWindows(t *testing.T) {
	bp := func(at time.Time) record.Record {
		return reading(at, obs(150021, 121, "mm[Hg]", at), obs(150022, 75, "mm[Hg]", at))
	}
	continuous := func(at time.Time) record.Record {
		return reading(at, obs(151562, 16, "/min", at), obs(150456, 97, "%", at), obs(149530, 72, "/min", at), obs(150364, 37.2, "Cel", at))
	}
	tests := []struct {
		name    string
		windows news2.Windows
		bpAge   time.Duration // how long before the other inputs the pressure was taken
		scored  bool
	}{
		{"a 50 min pressure is current by default", news2.Windows{}, 50 * time.Minute, true},
		{"a 60 min pressure is current by default", news2.Windows{}, time.Hour, true},
		{"a 61 min pressure is not", news2.Windows{}, 61 * time.Minute, false},
		{"a 20 min pressure with a 15 min pressure window", news2.Windows{SystolicBP: 15 * time.Minute}, 20 * time.Minute, false},
		{"a 3 h pressure with a 4 h pressure window", news2.Windows{SystolicBP: 4 * time.Hour}, 3 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(t, Options{Windows: tt.windows})
			now := t0.Add(tt.bpAge)
			pressure := bp(t0)
			got := run(tr, []step{rec(pressure), rec(continuous(now)), entry(nurse(news2.Alert, news2.Air, now, "e1"), now)})
			if (len(got) == 1) != tt.scored {
				t.Fatalf("%d scores, want scored %v; Check: %v", len(got), tt.scored, tr.Check(bed3))
			}
			if !tt.scored {
				var inc *news2.IncompleteError
				if err := tr.Check(bed3); !errors.As(err, &inc) || !slices.Equal(inc.Stale, []news2.Parameter{news2.SystolicBP}) {
					t.Errorf("Check = %v, want the systolic pressure stale", err)
				}
				// A new pressure completes the set.
				later := now.Add(2 * time.Minute)
				if got := run(tr, []step{rec(bp(later))}); len(got) != 1 {
					t.Errorf("a new pressure gave %d scores, want 1", len(got))
				}
				return
			}
			for _, sub := range got[0].NEWS2.SubScores {
				if sub.Parameter != news2.SystolicBP.String() {
					continue
				}
				want := &record.NEWS2Panel{MDC: 150020, Diastolic: pressure.Observations[1].ID}
				if len(sub.Observations) != 1 || sub.Observations[0] != pressure.Observations[0].ID || sub.Panel == nil || *sub.Panel != *want || !sub.Time.Equal(t0) {
					t.Errorf("systolic sub-score from %v (panel %+v) at %v, want %s in panel %+v at %v", sub.Observations, sub.Panel, sub.Time, pressure.Observations[0].ID, want, t0)
				}
			}
		})
	}
	if _, err := New(Options{Windows: news2.Windows{Temperature: -time.Minute}}); !errors.Is(err, ErrOptions) {
		t.Errorf("a negative window: %v, want ErrOptions", err)
	}
}

// TestPanelOf: a systolic pressure is named by its panel only when the
// record holds the one panel gateway/fhir forms: exactly one systolic and
// one diastolic of its pressure, at most one mean.
func TestPanelOf(t *testing.T) {
	at := t0
	sys, dia, mean := obs(150021, 121, "mm[Hg]", at), obs(150022, 75, "mm[Hg]", at), obs(150023, 90, "mm[Hg]", at)
	art := obs(150033, 130, "mm[Hg]", at) // arterial systolic
	tests := []struct {
		name string
		obs  []record.Observation
		of   record.Observation
		want *record.NEWS2Panel
	}{
		{"systolic, diastolic, mean", []record.Observation{sys, dia, mean}, sys, &record.NEWS2Panel{MDC: 150020, Diastolic: dia.ID}},
		{"systolic and diastolic", []record.Observation{dia, sys}, sys, &record.NEWS2Panel{MDC: 150020, Diastolic: dia.ID}},
		{"systolic alone", []record.Observation{sys, mean}, sys, nil},
		{"two diastolic", []record.Observation{sys, dia, dia}, sys, nil},
		{"another pressure's diastolic", []record.Observation{art, dia}, art, nil},
		{"not a systolic", []record.Observation{sys, dia}, dia, nil},
	}
	for _, tt := range tests {
		got := panelOf(reading(at, tt.obs...), tt.of)
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
