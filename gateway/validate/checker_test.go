package validate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/record"
)

var base = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func obs(id string, mdc uint32, v float64, unit string) record.Observation {
	return record.Observation{ID: id, MDC: mdc, Value: &v, Unit: unit}
}

func absent(id string, mdc uint32, unit, why string) record.Observation {
	return record.Observation{ID: id, MDC: mdc, Unit: unit, Status: drivers.Unavailable, Absent: why}
}

// rec returns a record read at base+at by the device and received at
// base+recv by the gateway.
func rec(at, recv time.Duration, o ...record.Observation) record.Record {
	return record.Record{
		DeviceKey:    "masimo:1234",
		DeviceTime:   base.Add(at),
		ReceivedAt:   base.Add(recv),
		ClockOffset:  at - recv,
		Observations: o,
	}
}

func newChecker(t *testing.T, opts Options) *Checker {
	t.Helper()
	c, err := NewChecker(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// outcome is what happened to one value.
type outcome string

const (
	ok         outcome = "accepted"
	rejectLow  outcome = "rejected implausible-low"
	rejectHigh outcome = "rejected implausible-high"
	flagLow    outcome = "flagged low"
	flagHigh   outcome = "flagged high"
)

// checkOne runs one value through a fresh checker and says what happened.
func checkOne(t *testing.T, o record.Observation) (outcome, record.Observation, []Rejection) {
	t.Helper()
	c := newChecker(t, Options{})
	acc, rej := c.Check(rec(0, 0, o))
	switch {
	case len(acc.Observations)+len(rej) != 1:
		t.Fatalf("one value in, %d accepted and %d rejected out", len(acc.Observations), len(rej))
	case len(rej) == 1 && rej[0].Reason == ReasonImplausibleLow:
		return rejectLow, record.Observation{}, rej
	case len(rej) == 1 && rej[0].Reason == ReasonImplausibleHigh:
		return rejectHigh, record.Observation{}, rej
	case len(rej) == 1:
		return outcome("rejected " + string(rej[0].Reason)), record.Observation{}, rej
	}
	a := acc.Observations[0]
	switch {
	case !a.Questionable:
		return ok, a, nil
	case strings.Contains(a.Reason, " below "):
		return flagLow, a, nil
	case strings.Contains(a.Reason, " above "):
		return flagHigh, a, nil
	}
	return outcome("flagged " + a.Reason), a, nil
}

// TestRangeEdges checks every default vital, for every MDC code it
// covers, just outside, at and just inside each bound. Bounds are
// inclusive: the bound itself is on the inner side.
func TestRangeEdges(t *testing.T) {
	type step struct {
		v    float64
		want outcome
	}
	tests := []struct {
		vital string
		unit  string
		steps []step
	}{
		{"pulse-rate", "/min", []step{{19.9, rejectLow}, {20, flagLow}, {29.9, flagLow}, {30, ok}, {220, ok}, {220.1, flagHigh}, {300, flagHigh}, {300.1, rejectHigh}, {0, rejectLow}}},
		{"spo2", "%", []step{{49.9, rejectLow}, {50, flagLow}, {69.9, flagLow}, {70, ok}, {100, ok}, {100.1, rejectHigh}, {0.97, rejectLow}}},
		{"resp-rate", "/min", []step{{0, rejectLow}, {0.9, rejectLow}, {1, flagLow}, {4.9, flagLow}, {5, ok}, {50, ok}, {50.1, flagHigh}, {70, flagHigh}, {70.1, rejectHigh}}},
		{"bp-systolic", "mm[Hg]", []step{{39.9, rejectLow}, {40, ok}, {300, ok}, {300.1, rejectHigh}}},
		{"bp-diastolic", "mm[Hg]", []step{{9.9, rejectLow}, {10, ok}, {200, ok}, {200.1, rejectHigh}}},
		{"bp-mean", "mm[Hg]", []step{{19.9, rejectLow}, {20, ok}, {250, ok}, {250.1, rejectHigh}}},
		{"temperature", "Cel", []step{{24.99, rejectLow}, {25, flagLow}, {31.99, flagLow}, {32, ok}, {42, ok}, {42.01, flagHigh}, {45, flagHigh}, {45.01, rejectHigh}}},
		{"etco2", "kPa", []step{{-0.01, rejectLow}, {0, ok}, {20, ok}, {20.01, rejectHigh}}},
		{"perfusion-index", "%", []step{{0.01, rejectLow}, {0.02, ok}, {20, ok}, {20.1, rejectHigh}}},
	}
	rs := DefaultRules()
	for _, tt := range tests {
		rule, found := rs.Rule(tt.vital)
		if !found {
			t.Errorf("no rule %q", tt.vital)
			continue
		}
		for _, code := range rule.Codes {
			for _, s := range tt.steps {
				t.Run(fmt.Sprintf("%s/%d/%v", tt.vital, code, s.v), func(t *testing.T) {
					got, a, rej := checkOne(t, obs("x", code, s.v, tt.unit))
					if got != s.want {
						t.Fatalf("%s %v %s: %s, want %s", tt.vital, s.v, tt.unit, got, s.want)
					}
					switch got {
					case ok:
						if a.Reason != "" || *a.Value != s.v || a.Unit != tt.unit {
							t.Errorf("accepted as %v %s reason %q, want %v %s unchanged", *a.Value, a.Unit, a.Reason, s.v, tt.unit)
						}
					case flagLow, flagHigh:
						word := map[outcome]string{flagLow: "below", flagHigh: "above"}[got]
						if !strings.HasPrefix(a.Reason, tt.vital+" "+num(s.v)+" "+tt.unit+" "+word+" ") {
							t.Errorf("reason %q does not state the value and the soft bound", a.Reason)
						}
					case rejectLow, rejectHigh:
						if rej[0].Observation.ID != "x" || *rej[0].Observation.Value != s.v ||
							!strings.HasPrefix(rej[0].Text, tt.vital+" "+num(s.v)+" "+tt.unit+" ") {
							t.Errorf("rejection %+v does not carry the value and the text", rej[0])
						}
					}
				})
			}
		}
	}
}

func TestRejectionTexts(t *testing.T) {
	tests := []struct {
		name string
		o    record.Observation
		want string
	}{
		{"low", obs("a", 150456, 45, "%"), "spo2 45 % below the plausible minimum 50 %"},
		{"high", obs("a", 147842, 350, "/min"), "pulse-rate 350 /min above the plausible maximum 300 /min"},
		{"converted", obs("a", 150021, 45, "kPa"), "bp-systolic 337.5 mm[Hg] (converted from 45 kPa) above the plausible maximum 300 mm[Hg]"},
		{"unit", obs("a", 150021, 120, "mmHg"), "unit mmHg not convertible to mm[Hg]"},
		{"not finite", obs("a", 150456, math.Inf(1), "%"), "spo2 value +Inf is not a finite number"},
		{"NaN", obs("a", 150456, math.NaN(), "%"), "spo2 value NaN is not a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, rej := checkOne(t, tt.o)
			if len(rej) != 1 || rej[0].Text != tt.want {
				t.Fatalf("rejections %+v, want one with text %q", rej, tt.want)
			}
			if rej[0].Observation.Unit != tt.o.Unit || rej[0].Observation.Value != tt.o.Value {
				t.Errorf("rejected observation %+v is not the one given", rej[0].Observation)
			}
		})
	}
}

func TestUnitNormalisation(t *testing.T) {
	tests := []struct {
		name       string
		o          record.Observation
		wantValue  float64
		wantUnit   string
		wantReason string
		want       outcome
	}{
		{"NIBP in kPa", obs("a", 150021, 16, "kPa"), 120, "mm[Hg]", "unit converted: 16 kPa = 120 mm[Hg] (1 kPa = 7.50061683 mm[Hg])", ok},
		{"etCO2 in mm[Hg] becomes kPa", obs("a", 151708, 38, "mm[Hg]"), 5.07, "kPa", "unit converted: 38 mm[Hg] = 5.07 kPa (1 mm[Hg] = 0.133322387 kPa)", ok},
		{"etCO2 in kPa stays", obs("a", 151708, 5.3, "kPa"), 5.3, "kPa", "", ok},
		{"temperature in [degF]", obs("a", 188452, 98.6, "[degF]"), 37, "Cel", "unit converted: 98.6 [degF] = 37 Cel (Cel = ([degF] - 32) × 5/9)", ok},
		{"SpO2 as a fraction", obs("a", 150456, 0.97, "1"), 97, "%", "unit converted: 0.97 1 = 97 % (fraction 1 = 100 %)", ok},
		{"annotated rate", obs("a", 151578, 16, "{breaths}/min"), 16, "/min", "unit converted: 16 {breaths}/min = 16 /min ({breaths}/min = /min)", ok},
		{"converted then flagged", obs("a", 150364, 88.7, "[degF]"), 31.5, "Cel",
			"unit converted: 88.7 [degF] = 31.5 Cel (Cel = ([degF] - 32) × 5/9); temperature 31.5 Cel below 32 Cel", flagLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.o
			got, a, _ := checkOne(t, in)
			if got != tt.want {
				t.Fatalf("outcome %s, want %s", got, tt.want)
			}
			if *a.Value != tt.wantValue || a.Unit != tt.wantUnit || a.Reason != tt.wantReason {
				t.Errorf("accepted %v %q reason %q, want %v %q reason %q", *a.Value, a.Unit, a.Reason, tt.wantValue, tt.wantUnit, tt.wantReason)
			}
			if tt.want == ok && a.Questionable {
				t.Error("a unit conversion alone flagged the value questionable")
			}
			if *in.Value != *tt.o.Value || in.Unit != tt.o.Unit {
				t.Error("Check changed the observation it was given")
			}
		})
	}
}

func TestConversionDoesNotAliasInput(t *testing.T) {
	c := newChecker(t, Options{})
	in := rec(0, 0, obs("a", 150021, 16, "kPa"))
	before := *in.Observations[0].Value
	acc, _ := c.Check(in)
	*acc.Observations[0].Value = 1
	if *in.Observations[0].Value != before || in.Observations[0].Unit != "kPa" {
		t.Errorf("input changed to %v %s", *in.Observations[0].Value, in.Observations[0].Unit)
	}
}

func TestPassThrough(t *testing.T) {
	device := obs("dev", 150456, 94, "%")
	device.Questionable, device.Reason = true, "device status: questionable"
	tests := []struct {
		name string
		o    record.Observation
	}{
		{"unknown MDC code", obs("u", 999999, 12345, "mdc-dim:9999")},
		{"unknown code with a NaN", obs("u", 999999, math.NaN(), "1")},
		{"label-only value", record.Observation{ID: "l", Label: "SpHb", Value: ptr(13.1), Unit: "g/dL"}},
		{"absent SpO2", absent("a", 150456, "%", "not-performed")},
		{"absent value in a wrong unit", absent("a", 150021, "mmHg", "error")},
		{"absent pulse, device-flagged", absent("a", 149530, "/min", "unknown")},
		{"device-flagged value in range", device},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, Options{})
			acc, rej := c.Check(rec(0, 0, tt.o))
			if len(rej) != 0 || len(acc.Observations) != 1 {
				t.Fatalf("accepted %d, rejected %+v; want the value passed through", len(acc.Observations), rej)
			}
			got := acc.Observations[0]
			if !reflect.DeepEqual(got, tt.o) && !(tt.o.Value != nil && math.IsNaN(*tt.o.Value) && math.IsNaN(*got.Value)) {
				t.Errorf("passed through as %+v, want %+v unchanged", got, tt.o)
			}
		})
	}
}

func TestFlagAppendsToDeviceReason(t *testing.T) {
	o := obs("a", 150456, 65, "%")
	o.Questionable, o.Reason = true, "device status: questionable"
	got, a, _ := checkOne(t, o)
	if got != flagLow || a.Reason != "device status: questionable; spo2 65 % below 70 %" {
		t.Errorf("%s with reason %q", got, a.Reason)
	}
}

// step is one record given to a checker and what must become of it.
type step struct {
	at, recv time.Duration // device and gateway time from base
	values   []float64     // SpO2 and pulse rate
	reject   Reason        // every value rejected with this reason, or ""
	flags    []string      // substrings of every accepted value's reason
}

func runSteps(t *testing.T, c *Checker, steps []step) {
	t.Helper()
	for i, s := range steps {
		r := rec(s.at, s.recv, obs(fmt.Sprint(i, "a"), 150456, s.values[0], "%"), obs(fmt.Sprint(i, "b"), 149530, s.values[1], "/min"),
			absent(fmt.Sprint(i, "c"), 150448, "%", "unknown"))
		acc, rej := c.Check(r)
		if s.reject != "" {
			if len(acc.Observations) != 0 || len(rej) != 3 {
				t.Fatalf("step %d: accepted %d, rejected %d; want all 3 rejected %s", i, len(acc.Observations), len(rej), s.reject)
			}
			for _, x := range rej {
				if x.Reason != s.reject || !strings.HasPrefix(x.Text, string(s.reject)+": ") {
					t.Errorf("step %d: rejected %s %q, want %s", i, x.Reason, x.Text, s.reject)
				}
			}
			continue
		}
		if len(rej) != 0 || len(acc.Observations) != 3 {
			t.Fatalf("step %d: accepted %d, rejected %+v; want all accepted", i, len(acc.Observations), rej)
		}
		for j, o := range acc.Observations {
			if o.Value == nil { // absent values are never flagged
				if o.Questionable {
					t.Errorf("step %d: absent value flagged %q", i, o.Reason)
				}
				continue
			}
			if o.Questionable != (len(s.flags) > 0) {
				t.Errorf("step %d value %d: questionable %v reason %q, want flags %q", i, j, o.Questionable, o.Reason, s.flags)
			}
			for _, f := range s.flags {
				if !strings.Contains(o.Reason, f) {
					t.Errorf("step %d value %d: reason %q lacks %q", i, j, o.Reason, f)
				}
			}
		}
	}
}

func TestTime(t *testing.T) {
	sec := time.Second
	v := []float64{97, 72}
	w := []float64{96, 75}
	tests := []struct {
		name  string
		opts  Options
		steps []step
	}{
		{"readings that advance are accepted", Options{}, []step{
			{at: 0, recv: 0, values: v}, {at: sec, recv: sec, values: v}, {at: 2 * sec, recv: 2 * sec, values: w}}},
		{"the same reading twice is a duplicate", Options{}, []step{
			{at: 0, recv: 0, values: v}, {at: 0, recv: sec, values: v, reject: ReasonDuplicate}, {at: sec, recv: 2 * sec, values: v}}},
		{"new values at the same device time are stale", Options{}, []step{
			{at: 0, recv: 0, values: v}, {at: 0, recv: sec, values: w, reject: ReasonStale}}},
		{"a duplicate is judged against the last accepted reading", Options{}, []step{
			{at: 5 * sec, recv: 0, values: v}, {at: 5 * sec, recv: sec, values: w, reject: ReasonStale}, {at: 5 * sec, recv: 2 * sec, values: v, reject: ReasonDuplicate}}},
		{"one cycle back is stale", Options{Cycle: 2 * sec}, []step{
			{at: 10 * sec, recv: 10 * sec, values: v}, {at: 8 * sec, recv: 11 * sec, values: w, reject: ReasonStale}, {at: 12 * sec, recv: 12 * sec, values: w}}},
		{"less than a cycle back is a clock step, flagged", Options{Cycle: 2 * sec}, []step{
			{at: 10 * sec, recv: 10 * sec, values: v}, {at: 8*sec + time.Millisecond, recv: 12 * sec, values: w, flags: []string{"device clock stepped back 1.999s"}},
			{at: 10*sec + time.Millisecond, recv: 14 * sec, values: v}}},
		{"a clock set back costs one reading and is flagged", Options{MaxClockOffset: 2 * time.Hour}, []step{
			{at: 3600 * sec, recv: 3600 * sec, values: v},
			{at: 60 * sec, recv: 3601 * sec, values: w, reject: ReasonStale},
			{at: 61 * sec, recv: 3602 * sec, values: w, flags: []string{"device clock jumped back 3539s"}},
			{at: 62 * sec, recv: 3603 * sec, values: v}}},
		{"old readings re-sent in a burst stay stale", Options{}, []step{
			{at: 100 * sec, recv: 100 * sec, values: v},
			{at: 50 * sec, recv: 101 * sec, values: w, reject: ReasonStale},
			{at: 51 * sec, recv: 101*sec + 10*time.Millisecond, values: w, reject: ReasonStale},
			{at: 52 * sec, recv: 101*sec + 20*time.Millisecond, values: w, reject: ReasonStale},
			{at: 101 * sec, recv: 102 * sec, values: v}}},
		{"a jump is confirmed only by the very next reading", Options{}, []step{
			{at: 100 * sec, recv: 100 * sec, values: v},
			{at: 50 * sec, recv: 101 * sec, values: w, reject: ReasonStale},
			{at: 100 * sec, recv: 102 * sec, values: v, reject: ReasonDuplicate},
			{at: 52 * sec, recv: 103 * sec, values: w, reject: ReasonStale}}},
		{"clock offset beyond the limit is flagged, not rejected", Options{}, []step{
			{at: 0, recv: 6 * time.Minute, values: v, flags: []string{"device clock offset -360s"}},
			{at: 12*time.Minute + sec, recv: 7 * time.Minute, values: v, flags: []string{"device clock offset 301s"}}}},
		{"clock offset at the limit is not flagged", Options{}, []step{
			{at: 0, recv: 5 * time.Minute, values: v}, {at: 11 * time.Minute, recv: 6 * time.Minute, values: v}}},
		{"a configured offset limit", Options{MaxClockOffset: 30 * sec}, []step{
			{at: 0, recv: 30 * sec, values: v}, {at: sec, recv: 32 * sec, values: w, flags: []string{"device clock offset -31s"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, newChecker(t, tt.opts), tt.steps)
		})
	}
}

// TestEpisodicMeasurements: an NIBP measurement sent as a record of its own,
// at its measurement time, is judged against the previous measurement, not
// against the periodic readings (which are newer); the same measurement
// sent again is a duplicate; without Options.Episodic it is stale, as
// before.
func TestEpisodicMeasurements(t *testing.T) {
	sec := time.Second
	nibp := func(i int, at, recv time.Duration, sys, dia float64) record.Record {
		return rec(at, recv, obs(fmt.Sprint(i, "s"), mdc.NIBPSys, sys, "mm[Hg]"), obs(fmt.Sprint(i, "d"), mdc.NIBPDia, dia, "mm[Hg]"))
	}
	periodic := func(i int, at time.Duration) record.Record {
		return rec(at, at, obs(fmt.Sprint(i, "a"), mdc.SpO2, 97, "%"), obs(fmt.Sprint(i, "b"), mdc.PulsOximPulse, 72, "/min"))
	}
	type want struct {
		accepted int
		reject   Reason
	}
	tests := []struct {
		name     string
		episodic []uint32
		records  []record.Record
		want     []want
	}{
		{"a measurement older than the periodic readings is accepted", []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean},
			[]record.Record{periodic(0, 100*sec), nibp(1, 70*sec, 101*sec, 117, 75), periodic(2, 101*sec), nibp(3, 190*sec, 200*sec, 121, 78)},
			[]want{{2, ""}, {2, ""}, {2, ""}, {2, ""}}},
		{"the same measurement sent again is a duplicate", []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean},
			[]record.Record{nibp(0, 70*sec, 71*sec, 117, 75), periodic(1, 72*sec), nibp(2, 70*sec, 73*sec, 117, 75)},
			[]want{{2, ""}, {2, ""}, {0, ReasonDuplicate}}},
		{"an older measurement after a newer one is stale", []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean},
			[]record.Record{nibp(0, 170*sec, 171*sec, 117, 75), nibp(1, 70*sec, 172*sec, 110, 70)},
			[]want{{2, ""}, {0, ReasonStale}}},
		{"a record mixing episodic and periodic codes is periodic", []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean},
			[]record.Record{periodic(0, 100*sec), rec(70*sec, 101*sec, obs("1s", mdc.NIBPSys, 117, "mm[Hg]"), obs("1a", mdc.SpO2, 97, "%"))},
			[]want{{2, ""}, {0, ReasonStale}}},
		{"without episodic codes a measurement older than the periodic readings is stale", nil,
			[]record.Record{periodic(0, 100*sec), nibp(1, 70*sec, 101*sec, 117, 75)},
			[]want{{2, ""}, {0, ReasonStale}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, Options{Episodic: tt.episodic, MaxClockOffset: time.Hour})
			for i, r := range tt.records {
				acc, rej := c.Check(r)
				if len(acc.Observations) != tt.want[i].accepted {
					t.Fatalf("record %d: accepted %d, rejected %+v; want %d accepted", i, len(acc.Observations), rej, tt.want[i].accepted)
				}
				for _, x := range rej {
					if x.Reason != tt.want[i].reject {
						t.Errorf("record %d: rejected %s (%s), want %q", i, x.Reason, x.Text, tt.want[i].reject)
					}
				}
			}
		})
	}
}

// TestEpisodicRecords: a record marked Episodic (one measurement, at the
// time the device took it, split off the reading that reports it) is
// forwarded once: the same measurement reported again is a repeat,
// counted and neither accepted nor quarantined; a measurement older than
// MaxMeasurementAge, or stamped after its reading, is not forwarded.
func TestEpisodicRecords(t *testing.T) {
	sec := time.Second
	// nibp is the measurement taken at m, reported by a reading at r (the
	// device clock 30 s ahead of the gateway's).
	nibp := func(m, r time.Duration, sys float64) record.Record {
		x := rec(m, r-30*sec, obs("s", mdc.NIBPSys, sys, "mm[Hg]"), obs("d", mdc.NIBPDia, 70, "mm[Hg]"))
		x.ClockOffset, x.Episodic = 30*sec, true
		return x
	}
	type step struct {
		rec      record.Record
		accepted int
		reject   Reason // or ReasonRepeat: neither accepted nor rejected
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one measurement in 31 polls is forwarded once", func() []step {
			out := []step{{nibp(0, 10*sec, 117), 2, ""}}
			for i := 1; i <= 30; i++ {
				out = append(out, step{nibp(0, time.Duration(10+i)*sec, 117), 0, ReasonRepeat})
			}
			return out
		}()},
		{"the next measurement is forwarded, then repeats", []step{
			{nibp(0, 10*sec, 117), 2, ""}, {nibp(0, 11*sec, 117), 0, ReasonRepeat},
			{nibp(300*sec, 310*sec, 121), 2, ""}, {nibp(300*sec, 311*sec, 121), 0, ReasonRepeat}}},
		{"a new measurement with the same values is forwarded", []step{
			{nibp(0, 10*sec, 117), 2, ""}, {nibp(300*sec, 310*sec, 117), 2, ""}}},
		{"older than the limit: stale once, then repeats", []step{
			{nibp(0, 3601*sec, 117), 0, ReasonStale}, {nibp(0, 3602*sec, 117), 0, ReasonRepeat}}},
		{"at the limit: forwarded", []step{{nibp(0, 3600*sec, 117), 2, ""}}},
		{"stamped after its reading: inconsistent", []step{{nibp(20*sec, 10*sec, 117), 0, ReasonInconsistent}}},
		{"an older measurement after a newer: stale once", []step{
			{nibp(300*sec, 310*sec, 121), 2, ""}, {nibp(0, 311*sec, 117), 0, ReasonStale}, {nibp(0, 312*sec, 117), 0, ReasonRepeat}}},
		{"the same time with other values: stale once", []step{
			{nibp(0, 10*sec, 117), 2, ""}, {nibp(0, 11*sec, 118), 0, ReasonStale}, {nibp(0, 12*sec, 118), 0, ReasonRepeat}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := &Counts{}
			c := newChecker(t, Options{Counts: counts, MaxClockOffset: time.Hour})
			repeats := 0
			for i, st := range tt.steps {
				acc, rej := c.Check(st.rec)
				if len(acc.Observations) != st.accepted {
					t.Fatalf("step %d: accepted %d, rejected %+v; want %d accepted", i, len(acc.Observations), rej, st.accepted)
				}
				if st.reject == ReasonRepeat {
					repeats += len(st.rec.Observations)
					if len(rej) != 0 {
						t.Errorf("step %d: a repeat rejected as %+v", i, rej)
					}
				}
				for _, x := range rej {
					if x.Reason != st.reject {
						t.Errorf("step %d: rejected %s (%s), want %q", i, x.Reason, x.Text, st.reject)
					}
				}
			}
			if got := counts.Repeats(); got != uint64(repeats) {
				t.Errorf("%d repeats counted, want %d", got, repeats)
			}
			if n := counts.Rejected()[ReasonRepeat]; n != 0 {
				t.Errorf("repeats counted as rejections: %d", n)
			}
		})
	}
}

func TestClockAndRangeFlagsTogether(t *testing.T) {
	c := newChecker(t, Options{})
	acc, _ := c.Check(rec(0, 10*time.Minute, obs("a", 150456, 65, "%"), obs("b", 999999, 1, "1")))
	want := []string{"spo2 65 % below 70 %; device clock offset -600s", "device clock offset -600s"}
	for i, o := range acc.Observations {
		if !o.Questionable || o.Reason != want[i] {
			t.Errorf("value %d: questionable %v reason %q, want %q", i, o.Questionable, o.Reason, want[i])
		}
	}
	f := c.Counts().Flagged()
	if f[ReasonQuestionableLow] != 1 || f[ReasonClockOffset] != 2 {
		t.Errorf("flag counts %v", f)
	}
}

func TestNoDeviceTime(t *testing.T) {
	c := newChecker(t, Options{})
	r := record.Record{DeviceKey: "bed:a/b/c", ReceivedAt: base, Observations: []record.Observation{obs("a", 150456, 97, "%")}}
	for i := range 3 {
		acc, rej := c.Check(r)
		if len(rej) != 0 || len(acc.Observations) != 1 || acc.Observations[0].Questionable {
			t.Fatalf("check %d without a device time: accepted %+v rejected %+v", i, acc.Observations, rej)
		}
	}
}

func TestDeviceChangeResetsTime(t *testing.T) {
	c := newChecker(t, Options{})
	first := rec(time.Hour, time.Hour, obs("a", 150456, 97, "%"))
	if _, rej := c.Check(first); len(rej) != 0 {
		t.Fatal(rej)
	}
	other := rec(0, time.Hour+time.Second, obs("b", 150456, 97, "%"))
	other.DeviceKey = "masimo:5678"
	other.ClockOffset = 0
	acc, rej := c.Check(other)
	if len(rej) != 0 || acc.Observations[0].Questionable {
		t.Errorf("a new device's first reading: accepted %+v rejected %+v", acc.Observations, rej)
	}
}

func TestCounts(t *testing.T) {
	shared := new(Counts)
	c1 := newChecker(t, Options{Counts: shared})
	c2 := newChecker(t, Options{Counts: shared})
	c1.Check(rec(0, 0, obs("a", 150456, 40, "%"), obs("b", 149530, 350, "/min"), obs("c", 150021, 120, "mmHg")))
	c1.Check(rec(0, time.Second, obs("a", 150456, 40, "%"), obs("b", 149530, 350, "/min"), obs("c", 150021, 120, "mmHg")))
	c2.Check(rec(0, 0, obs("d", 150456, 60, "%"), obs("e", 149530, 10, "/min")))
	wantRejected := map[Reason]uint64{ReasonImplausibleLow: 2, ReasonImplausibleHigh: 1, ReasonUnit: 1, ReasonDuplicate: 3}
	if got := shared.Rejected(); !reflect.DeepEqual(got, wantRejected) {
		t.Errorf("Rejected() = %v, want %v", got, wantRejected)
	}
	if got := shared.Flagged(); !reflect.DeepEqual(got, map[Reason]uint64{ReasonQuestionableLow: 1}) {
		t.Errorf("Flagged() = %v", got)
	}
	if c1.Counts() != shared {
		t.Error("Counts() is not the shared Counts")
	}
	var zero Counts
	if len(zero.Rejected()) != 0 || zero.Flagged() == nil {
		t.Error("the zero Counts is not empty and usable")
	}
}

// TestCountsConcurrentRead runs under -race: a status reporter reads the
// counts while the device goroutine checks.
func TestCountsConcurrentRead(t *testing.T) {
	c := newChecker(t, Options{})
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				_ = c.Counts().Rejected()[ReasonImplausibleLow]
				_ = c.Counts().Flagged()
			}
		}
	}()
	for i := range 200 {
		c.Check(rec(time.Duration(i)*time.Second, time.Duration(i)*time.Second, obs("a", 150456, 10, "%")))
	}
	close(done)
	wg.Wait()
	if n := c.Counts().Rejected()[ReasonImplausibleLow]; n != 200 {
		t.Errorf("%d rejections counted, want 200", n)
	}
}

// TestNothingLost feeds random records, in random time order, with random
// codes, units and values, and checks that every observation comes out
// exactly once, accepted or rejected.
func TestNothingLost(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	codes := []uint32{147842, 150456, 151562, 150021, 150022, 150023, 150364, 151708, 150448, 999999, 0}
	units := []string{"%", "/min", "mm[Hg]", "kPa", "Cel", "[degF]", "1", "mmHg", ""}
	c := newChecker(t, Options{})
	seen := 0
	var last record.Record
	for i := range 2000 {
		var r record.Record
		if i > 0 && rng.IntN(10) == 0 {
			r = last // a re-delivery
		} else {
			r = rec(time.Duration(rng.IntN(600))*time.Second, time.Duration(i)*time.Second)
			if rng.IntN(5) == 0 {
				r.DeviceTime, r.ClockOffset = time.Time{}, 0
			}
			for j := range rng.IntN(8) {
				o := obs(fmt.Sprint(i, "/", j), codes[rng.IntN(len(codes))], rng.Float64()*400-50, units[rng.IntN(len(units))])
				if rng.IntN(6) == 0 {
					o.Value = nil
				}
				r.Observations = append(r.Observations, o)
			}
		}
		last = r
		acc, rej := c.Check(r)
		ids := map[string]int{}
		for _, o := range acc.Observations {
			ids[o.ID]++
		}
		for _, x := range rej {
			ids[x.Observation.ID]++
			if x.Reason == "" || x.Text == "" {
				t.Fatalf("record %d: rejection without reason: %+v", i, x)
			}
		}
		for _, o := range r.Observations {
			if ids[o.ID] != 1 {
				t.Fatalf("record %d: observation %s came out %d times", i, o.ID, ids[o.ID])
			}
			seen++
		}
		if len(ids) != len(r.Observations) {
			t.Fatalf("record %d: %d observations in, %d distinct out", i, len(r.Observations), len(ids))
		}
	}
	if seen == 0 {
		t.Fatal("no observations generated")
	}
}

func TestNewCheckerErrors(t *testing.T) {
	for _, opts := range []Options{{Cycle: -time.Second}, {MaxClockOffset: -time.Minute}, {MaxMeasurementAge: -time.Hour}} {
		if _, err := NewChecker(opts); err == nil || !strings.HasPrefix(err.Error(), "validate: ") {
			t.Errorf("NewChecker(%+v) error = %v", opts, err)
		}
	}
	rs, err := NewRules(Config{Ranges: map[string]RangeConfig{"spo2": {SoftMin: ptr(90)}}})
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(t, Options{Rules: &rs})
	if got, _, _ := checkOne(t, obs("a", 150456, 89, "%")); got != ok {
		t.Fatalf("default rules: 89 %% SpO2 %s, want accepted", got)
	}
	acc, _ := c.Check(rec(0, 0, obs("a", 150456, 89, "%")))
	if !acc.Observations[0].Questionable {
		t.Error("configured soft minimum 90 did not flag 89")
	}
}

func TestCheckKeepsTheOriginalOfANormalisedValue(t *testing.T) {
	c, err := NewChecker(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       record.Observation
		value    float64
		unit     string
		original float64
		origUnit string
	}{
		{"kPa to mm[Hg]", obs("a", 150021, 16, "kPa"), 120, "mm[Hg]", 16, "kPa"},
		{"dimensionless perfusion index", obs("b", 150448, 3.2, "1"), 3.2, "%", 3.2, "1"},
	}
	for i, tt := range tests {
		at := time.Duration(i) * time.Second
		acc, rej := c.Check(rec(at, at, tt.in))
		if len(rej) != 0 || len(acc.Observations) != 1 {
			t.Fatalf("%s: accepted %v rejected %v", tt.name, acc.Observations, rej)
		}
		o := acc.Observations[0]
		if *o.Value != tt.value || o.Unit != tt.unit || o.OriginalValue == nil || *o.OriginalValue != tt.original || o.OriginalUnit != tt.origUnit {
			t.Errorf("%s: got %v %s (original %v %s), want %v %s (original %v %s)", tt.name,
				*o.Value, o.Unit, o.OriginalValue, o.OriginalUnit, tt.value, tt.unit, tt.original, tt.origUnit)
		}
	}
}

func TestCheckBloodPressureOrder(t *testing.T) {
	tests := []struct {
		name         string
		sys, dia, mn float64
		rejected     []uint32
	}{
		{"consistent", 120, 80, 93, nil},
		{"swapped", 80, 120, 93, []uint32{150021, 150022, 150023}},
		{"equal", 90, 90, 90, []uint32{150021, 150022, 150023}},
		{"mean above systolic", 120, 80, 130, []uint32{150023}},
		{"mean at diastolic", 120, 80, 80, []uint32{150023}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewChecker(Options{})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Duration(i) * time.Second
			acc, rej := c.Check(rec(at, at, obs("s", 150021, tt.sys, "mm[Hg]"), obs("d", 150022, tt.dia, "mm[Hg]"), obs("m", 150023, tt.mn, "mm[Hg]"), obs("h", 149530, 70, "/min")))
			var got []uint32
			for _, r := range rej {
				if r.Reason != ReasonInconsistent || r.Text == "" {
					t.Errorf("rejection %+v: want reason inconsistent with a text", r)
				}
				got = append(got, r.Observation.MDC)
			}
			if !slices.Equal(got, tt.rejected) {
				t.Errorf("rejected %v, want %v", got, tt.rejected)
			}
			if len(acc.Observations)+len(rej) != 4 {
				t.Errorf("%d accepted + %d rejected, want all 4 accounted for", len(acc.Observations), len(rej))
			}
		})
	}
}
