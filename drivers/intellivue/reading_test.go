package intellivue

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name  string
		state MeasurementState
		value Float
		want  drivers.Status
	}{
		{"valid", 0, 0x3C, 0},
		{"validated and ongoing set no flag", StateValidated | StateOngoing | StateAlarmInhibited, 0x3C, 0},
		{"invalid", StateInvalid, 0x3C, drivers.Invalid},
		{"questionable", StateQuestionable, 0x3C, drivers.Questionable},
		{"unavailable", StateUnavailable, 0x3C, drivers.Unavailable},
		{"calibrating", StateCalibration, 0x3C, drivers.Calibrating},
		{"test data is demo", StateTestData, 0x3C, drivers.Demo},
		{"demo data", StateDemoData, 0x3C, drivers.Demo},
		{"in alarm", StateInAlarm, 0x3C, drivers.AlarmActive},
		{"invalid NaN with alarm inhibited (capture)", StateInvalid | StateAlarmInhibited, FloatNaN, drivers.Invalid | drivers.Unavailable},
		{"NaN", 0, FloatNaN, drivers.Unavailable},
		{"NRes", 0, FloatNRes, drivers.Unavailable | drivers.Invalid},
		{"+INF", 0, FloatPosInf, drivers.Unavailable | drivers.OutOfRange},
		{"-INF", 0, FloatNegInf, drivers.Unavailable | drivers.OutOfRange},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.state, tt.value); got != tt.want {
			t.Errorf("%s: StatusOf(%#x, %#x) = %v, want %v", tt.name, tt.state, uint32(tt.value), got, tt.want)
		}
	}
}

func TestNomenclature(t *testing.T) {
	// Every physiological id of the real capture, and the usual vitals.
	refs := map[uint16]string{
		16770: "MDC_ECG_HEART_RATE", 16993: "MDC_ECG_V_P_C_CNT", 769: "MDC_ECG_AMPL_ST_I", 770: "MDC_ECG_AMPL_ST_II",
		829: "MDC_ECG_AMPL_ST_III", 830: "MDC_ECG_AMPL_ST_AVR", 831: "MDC_ECG_AMPL_ST_AVL", 832: "MDC_ECG_AMPL_ST_AVF",
		835: "MDC_ECG_AMPL_ST_V", 843: "MDC_ECG_AMPL_ST_MCL", 18949: "MDC_PRESS_BLD_NONINV_SYS",
		18950: "MDC_PRESS_BLD_NONINV_DIA", 18951: "MDC_PRESS_BLD_NONINV_MEAN", 19384: "MDC_PULS_OXIM_SAT_O2",
		18466: "MDC_PLETH_PULS_RATE", 19376: "MDC_PULS_OXIM_PERF_REL", 18442: "MDC_PULS_RATE",
		18965: "MDC_PRESS_BLD_ART_ABP_SYS", 18966: "MDC_PRESS_BLD_ART_ABP_DIA", 18967: "MDC_PRESS_BLD_ART_ABP_MEAN",
		20490: "MDC_RESP_RATE", 20498: "MDC_AWAY_RESP_RATE", 19272: "MDC_TEMP", 20656: "MDC_AWAY_CO2_ET",
	}
	for id, want := range refs {
		if got := PhysioRef(id); got != want {
			t.Errorf("PhysioRef(%d) = %q, want %q", id, got, want)
		}
	}
	if PhysioRef(0xF123) != "" {
		t.Error("an unknown id has a name")
	}
	if got := MDCCode(19384); got != 150456 {
		t.Errorf("MDCCode(19384) = %d, want 150456", got)
	}
	units := map[uint16]string{544: "%", 2720: "/min", 2784: "/min", 3872: "mm[Hg]", 3843: "kPa", 6048: "Cel",
		1298: "mm", 512: "1", 0: "", 9999: "mdc-dim:9999", 65535: "mdc-dim:65535"}
	for code, want := range units {
		if got := UnitUCUM(code); got != want {
			t.Errorf("UnitUCUM(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestNumericValue(t *testing.T) {
	v := NumericValue(NuObsValue{PhysioID: 0x4B48, Unit: 6048, Value: 0xFF000173}, "Temp")
	if v.MDC != 150344 || v.Ref != "MDC_TEMP" || v.Label != "Temp" || v.Unit != "Cel" || v.Status != 0 || v.Value == nil || *v.Value != 37.1 {
		t.Errorf("temperature %+v", v)
	}
	v = NumericValue(NuObsValue{PhysioID: 0x4BB8, State: StateInvalid, Unit: 544, Value: FloatNaN}, "")
	if v.Value != nil || v.Status != drivers.Invalid|drivers.Unavailable {
		t.Errorf("invalid SpO2 %+v", v)
	}
}

// pollFixture builds a poll reply with one numeric per object.
func pollFixture(rel RelativeTime, abs AbsoluteTime, objs ...Observation) *PollReply {
	return &PollReply{Extended: true, RelTime: rel, AbsTime: abs, ObjectType: Type{PartitionObject, ClassNumeric},
		Contexts: []ContextPoll{{Observations: objs}}}
}

func hrObservation(label string, v float64) Observation {
	attrs := []AVA{{ID: AttrNuValObs, Value: AppendNuObsValue(nil, NuObsValue{PhysioID: 0x4182, Unit: 2720, Value: NewFloat(v)})}}
	if label != "" {
		attrs = append(attrs, AVA{ID: AttrIDLabelString, Value: AppendString(nil, label)})
	}
	return Observation{Handle: 7, Attributes: attrs}
}

func TestMonitorReadings(t *testing.T) {
	m := newMonitor(time.UTC)
	// Without an MDS Create Event: no device time, no model.
	r, err := m.reading(pollFixture(100, NoAbsoluteTime(), hrObservation("HR", 70)))
	if err != nil || r == nil || !r.DeviceTime.IsZero() || r.Device.Model != "" || r.Values[0].Label != "HR" {
		t.Fatalf("reading before MDS create: %+v, %v", r, err)
	}
	mds := NewMDSCreate(MDSInfo{Manufacturer: "Philips", Model: "MP70", SystemID: []byte{1, 2}, AbsTime: NewAbsoluteTime(fakeMDSAbs), RelTime: 8000})
	if err := m.mdsCreate(&mds); err != nil {
		t.Fatal(err)
	}
	// Relative time: 2.5 s after the MDS time; the label comes from the
	// cache of the object's earlier label.
	r, _ = m.reading(pollFixture(8000+20000, NoAbsoluteTime(), hrObservation("", 71)))
	if want := fakeMDSAbs.Add(2500 * time.Millisecond); !r.DeviceTime.Equal(want) || r.Values[0].Label != "HR" || r.Device.Serial != "0102" || r.Device.Model != "MP70" {
		t.Errorf("derived reading %+v, want device time %v and the cached label", r, want)
	}
	// Going back in relative time goes back in device time.
	r, _ = m.reading(pollFixture(8000+12000, NoAbsoluteTime(), hrObservation("", 71)))
	if want := fakeMDSAbs.Add(1500 * time.Millisecond); !r.DeviceTime.Equal(want) {
		t.Errorf("device time %v, want %v", r.DeviceTime, want)
	}
	// A supplied absolute time stamp wins.
	stamp := time.Date(2022, 1, 2, 3, 4, 5, 0, time.UTC)
	r, _ = m.reading(pollFixture(1, NewAbsoluteTime(stamp), hrObservation("", 72)))
	if !r.DeviceTime.Equal(stamp) {
		t.Errorf("device time %v, want the poll's stamp %v", r.DeviceTime, stamp)
	}
	// No numerics, no reading.
	if r, err := m.reading(pollFixture(5, NoAbsoluteTime(), Observation{Handle: 9})); r != nil || err != nil {
		t.Errorf("empty poll gave %+v, %v", r, err)
	}
	// A bad NuObsValue is reported; the good ones are kept.
	bad := Observation{Handle: 3, Attributes: []AVA{{ID: AttrNuValObs, Value: []byte{1, 2}}}}
	r, err = m.reading(pollFixture(6, NoAbsoluteTime(), bad, hrObservation("HR", 73)))
	var me *MessageError
	if !errors.As(err, &me) || r == nil || len(r.Values) != 1 {
		t.Errorf("bad numeric: %+v, %v", r, err)
	}
}

func TestMonitorRelativeTimeWraps(t *testing.T) {
	m := newMonitor(time.UTC)
	mds := NewMDSCreate(MDSInfo{AbsTime: NewAbsoluteTime(fakeMDSAbs), RelTime: 0xFFFFFF00})
	if err := m.mdsCreate(&mds); err != nil {
		t.Fatal(err)
	}
	r, _ := m.reading(pollFixture(0x100, NoAbsoluteTime(), hrObservation("HR", 70)))
	if want := fakeMDSAbs.Add(512 * time.Second / 8000); !r.DeviceTime.Equal(want) {
		t.Errorf("device time across the wrap %v, want %v", r.DeviceTime, want)
	}
}

func linked(invoke uint16, state LinkedState, count uint8, rel RelativeTime, objs ...Observation) *Result {
	res := &Result{InvokeID: invoke, Command: CmdConfirmedAction, Action: &ActionResult{ActionType: ActionPollExt, Poll: pollFixture(rel, NoAbsoluteTime(), objs...)}}
	if state != 0 {
		res.Linked = &Linked{State: state, Count: count}
	}
	return res
}

func TestReassembler(t *testing.T) {
	a, b, c := hrObservation("A", 1), hrObservation("B", 2), hrObservation("C", 3)
	var r Reassembler
	steps := []struct {
		res     *Result
		wantObs int // observations in the completed reply; -1: none completed
		wantErr bool
	}{
		{linked(1, 0, 0, 10, a), 1, false},            // a lone RORS
		{linked(1, LinkedFirst, 1, 20, a), -1, false}, // chain: first
		{linked(1, LinkedNotFirstNot, 2, 20, b), -1, false},
		{linked(1, LinkedLast, 3, 20, c), -1, false},
		{linked(1, 0, 0, 20), 3, false},                    // closing RORS
		{linked(2, LinkedNotFirstNot, 2, 30, a), -1, true}, // no first
		{linked(2, LinkedFirst, 1, 30, a), -1, false},
		{linked(2, LinkedLast, 3, 30, b), -1, true}, // count skips 2
		{linked(2, 0, 0, 30), -1, true},             // closes the dropped chain: no partial reply
		{linked(3, LinkedFirst, 1, 40, a), -1, false},
		{linked(3, 0, 0, 40), -1, true}, // closed without last
		{&Result{InvokeID: 4, Command: CmdGet}, -1, false},
	}
	for i, s := range steps {
		p, err := r.Add(s.res)
		if (err != nil) != s.wantErr {
			t.Errorf("step %d: error %v, want error %v", i, err, s.wantErr)
		}
		var pe *ProtocolError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("step %d: error %T, want *ProtocolError", i, err)
		}
		got := -1
		if p != nil {
			got = len(p.Contexts[0].Observations)
			for _, ctx := range p.Contexts[1:] {
				got += len(ctx.Observations)
			}
		}
		if got != s.wantObs {
			t.Errorf("step %d: completed reply with %d observations, want %d", i, got, s.wantObs)
		}
	}
	// Flush: a chain with its last part is returned, an open one dropped.
	r.Add(linked(5, LinkedFirst, 1, 50, a))
	r.Add(linked(5, LinkedLast, 2, 50, b))
	r.Add(linked(6, LinkedFirst, 1, 60, c))
	done, dropped := r.Flush()
	if len(done) != 1 || done[0].RelTime != 50 || dropped != 1 {
		t.Errorf("Flush = %d complete (%+v), %d dropped; want 1 and 1", len(done), done, dropped)
	}
	if done, dropped := r.Flush(); len(done) != 0 || dropped != 0 {
		t.Error("second Flush found chains")
	}
}

// TestDecodeFragmented decodes the start of the real capture (cut inside a
// frame) however the bytes arrive and gets the same readings.
func TestDecodeFragmented(t *testing.T) {
	raw := readVector(t, "MPRawoutput1.raw")
	raw = raw[:min(len(raw), 150_001)]
	decode := func(r io.Reader) ([]drivers.Reading, drivers.Stats) {
		var out []drivers.Reading
		st, err := Decode(t.Context(), r, drivers.SinkFunc(func(_ context.Context, rd drivers.Reading) error {
			out = append(out, rd)
			return nil
		}), drivers.Options{Logger: quietLogger(), Now: func() time.Time { return time.Unix(0, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		return out, st
	}
	want, wantStats := decode(bytes.NewReader(raw))
	if len(want) < 20 || wantStats.Bad != 1 {
		t.Fatalf("%d readings, stats %+v: want a few dozen and the truncated end", len(want), wantStats)
	}
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(raw)),
		"half":     iotest.HalfReader(bytes.NewReader(raw)),
		"data+err": iotest.DataErrReader(bytes.NewReader(raw)),
	} {
		got, st := decode(r)
		if st != wantStats || len(got) != len(want) {
			t.Errorf("%s: %d readings, stats %+v; want %d, %+v", name, len(got), st, len(want), wantStats)
			continue
		}
		for i := range got {
			if !got[i].DeviceTime.Equal(want[i].DeviceTime) || !sameValues(got[i].Values, want[i].Values) {
				t.Errorf("%s: reading %d differs", name, i)
				break
			}
		}
	}
}

func TestDecodeNoiseAndBadFrames(t *testing.T) {
	mds := AppendMDSCreateEvent(nil, 1, 8000, NewMDSCreate(MDSInfo{Model: "MP50", AbsTime: NewAbsoluteTime(fakeMDSAbs), RelTime: 8000}))
	poll := AppendPollResult(nil, 1, nil, *pollFixture(16000, NoAbsoluteTime(), hrObservation("HR", 64)))
	var in []byte
	in = append(in, "noise"...)
	in = append(in, frameOf(t, mds)...)
	bad := frameOf(t, poll)
	bad[len(bad)-2] ^= 0x01 // FCS mismatch
	in = append(in, bad...)
	in = append(in, frameOf(t, []byte{0xE1, 0x00})...) // a message too short
	in = append(in, frameOf(t, poll)...)
	var got []drivers.Reading
	st, err := Decode(t.Context(), bytes.NewReader(in), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got = append(got, r)
		return nil
	}), drivers.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != 3 || st.Bad != 2 || st.Skipped != 5 || st.Readings != 1 || len(got) != 1 {
		t.Fatalf("stats %+v, %d readings; want 3 frames, 2 bad, 5 skipped, 1 reading", st, len(got))
	}
	if got[0].Device.Model != "MP50" || !got[0].DeviceTime.Equal(fakeMDSAbs.Add(time.Second)) || *got[0].Values[0].Value != 64 {
		t.Errorf("reading %+v", got[0])
	}
	// A sink error stops Decode.
	stop := errors.New("stop")
	if _, err := Decode(t.Context(), bytes.NewReader(in), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return stop }),
		drivers.Options{Logger: quietLogger()}); !errors.Is(err, stop) {
		t.Errorf("Decode with a failing sink = %v", err)
	}
	// A cancelled context stops Decode.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Decode(ctx, bytes.NewReader(in), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }),
		drivers.Options{Logger: quietLogger()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Decode with a cancelled context = %v", err)
	}
}

func TestTimeStamp(t *testing.T) {
	mds := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	cuff := time.Date(2026, 3, 1, 9, 55, 12, 340_000_000, time.UTC)
	cuffAbs := NewAbsoluteTime(cuff)
	rel := func(v uint32) []byte { return appendU32(nil, v) }
	tests := []struct {
		name    string
		attrs   []AVA
		pollRel RelativeTime
		pollAt  time.Time
		want    time.Time // zero: no measurement time
		wantErr bool
	}{
		{"none", nil, 80000, mds, time.Time{}, false},
		{"absolute (NBP)", []AVA{{ID: AttrTimeStampAbs, Value: cuffAbs[:]}}, 80000, mds, cuff, false},
		{"absolute without a poll clock", []AVA{{ID: AttrTimeStampAbs, Value: cuffAbs[:]}}, 80000, time.Time{}, cuff, false},
		{"absolute not supplied", []AVA{{ID: AttrTimeStampAbs, Value: []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}}, 80000, mds, time.Time{}, false},
		{"relative (ST), 1.5 s before the poll", []AVA{{ID: AttrTimeStampRel, Value: rel(80000 - 12000)}}, 80000, mds, mds.Add(-1500 * time.Millisecond), false},
		{"relative across the clock's wrap", []AVA{{ID: AttrTimeStampRel, Value: rel(0xFFFFFF00)}}, 0x100, mds, mds.Add(-512 * time.Second / 8000), false},
		{"relative without a poll clock", []AVA{{ID: AttrTimeStampRel, Value: rel(1)}}, 80000, time.Time{}, time.Time{}, false},
		{"absolute wins over relative", []AVA{{ID: AttrTimeStampRel, Value: rel(1)}, {ID: AttrTimeStampAbs, Value: cuffAbs[:]}}, 80000, mds, cuff, false},
		{"absolute too short", []AVA{{ID: AttrTimeStampAbs, Value: cuffAbs[:7]}}, 80000, mds, time.Time{}, true},
		{"absolute not BCD", []AVA{{ID: AttrTimeStampAbs, Value: []byte{0x20, 0x26, 0x1A, 0x01, 0, 0, 0, 0}}}, 80000, mds, time.Time{}, true},
		{"bad absolute, good relative", []AVA{{ID: AttrTimeStampAbs, Value: []byte{1}}, {ID: AttrTimeStampRel, Value: rel(80000)}}, 80000, mds, mds, true},
		{"relative too long", []AVA{{ID: AttrTimeStampRel, Value: rel(1)[:3]}}, 80000, mds, time.Time{}, true},
	}
	for _, tt := range tests {
		ts, err := Observation{Attributes: tt.attrs}.TimeStamp()
		var me *MessageError
		if tt.wantErr != errors.As(err, &me) {
			t.Errorf("%s: error %v, want a *MessageError: %v", tt.name, err, tt.wantErr)
		}
		got, ok := ts.At(time.UTC, tt.pollRel, tt.pollAt)
		if ok == tt.want.IsZero() || !got.Equal(tt.want) {
			t.Errorf("%s: measured at %v (%v), want %v", tt.name, got, ok, tt.want)
		}
	}
}

// TestMonitorMeasuredAt: an NBP compound with its absolute time stamp
// gives every component that time, the same in every poll until the next
// measurement; values of objects without a stamp have none.
func TestMonitorMeasuredAt(t *testing.T) {
	m := newMonitor(time.UTC)
	mds := NewMDSCreate(MDSInfo{AbsTime: NewAbsoluteTime(fakeMDSAbs), RelTime: 8000})
	if err := m.mdsCreate(&mds); err != nil {
		t.Fatal(err)
	}
	cuff := fakeMDSAbs.Add(-90 * time.Second)
	stamp := NewAbsoluteTime(cuff)
	nbp := Observation{Handle: 9, Attributes: []AVA{
		{ID: AttrNuCmpdValObs, Value: AppendCompoundNuObsValue(nil, []NuObsValue{
			{PhysioID: 0x4A05, Unit: 3872, Value: NewFloat(117)},
			{PhysioID: 0x4A06, Unit: 3872, Value: NewFloat(75)},
			{PhysioID: 0x4A07, Unit: 3872, Value: NewFloat(89)},
		})},
		{ID: AttrTimeStampAbs, Value: stamp[:]},
	}}
	for poll := range 3 {
		r, err := m.reading(pollFixture(RelativeTime(8000+8192*poll), NoAbsoluteTime(), hrObservation("HR", 70), nbp))
		if err != nil || r == nil || len(r.Values) != 4 {
			t.Fatalf("poll %d: %+v, %v", poll, r, err)
		}
		if !r.Values[0].MeasuredAt.IsZero() {
			t.Errorf("poll %d: heart rate measured at %v, want none (continuous)", poll, r.Values[0].MeasuredAt)
		}
		for _, v := range r.Values[1:] {
			if !v.MeasuredAt.Equal(cuff) {
				t.Errorf("poll %d: %s measured at %v, want the cuff's %v", poll, v.Ref, v.MeasuredAt, cuff)
			}
		}
	}
}
