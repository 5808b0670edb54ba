package intellivue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// oracleLine is one line of MPRawoutput1.numerics.jsonl: the numerics of
// one poll-result frame as pymind decoded them.
type oracleLine struct {
	Frame      int    `json:"frame"`
	Msg        string `json:"msg"`
	RelTime    uint32 `json:"rel_time"`
	PollNumber uint16 `json:"poll_number"`
	Numerics   []struct {
		Handle   uint16   `json:"obj_handle"`
		PhysioID uint16   `json:"physio_id"`
		State    uint16   `json:"state"`
		Unit     uint16   `json:"unit_code"`
		Value    *float64 `json:"value"`
		Special  string   `json:"special"`
	} `json:"numerics"`
}

func readOracle(t *testing.T) []oracleLine {
	var lines []oracleLine
	sc := bufio.NewScanner(bytes.NewReader(readVector(t, "MPRawoutput1.numerics.jsonl")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l oracleLine
		decodeJSON(t, sc.Bytes(), &l)
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

type oracleSummary struct {
	Summary struct {
		Frames         int            `json:"frames"`
		GoodFrames     int            `json:"good_frames"`
		CRCErrors      int            `json:"crc_errors"`
		TruncatedAtEnd int            `json:"truncated_at_end"`
		StrayBytes     int            `json:"stray_bytes"`
		ByMessageType  map[string]int `json:"by_message_type"`
		WithNumerics   int            `json:"poll_results_with_numerics"`
		Numerics       int            `json:"numerics"`
		MaxUserData    int            `json:"max_user_data"`
	} `json:"summary"`
}

// messageName gives pymind's name of a message, as the summary counts
// them.
func messageName(m Message) string {
	switch m := m.(type) {
	case *AssociationResult:
		return "AssociationResponse"
	case *Invoke:
		if m.EventReport != nil && m.EventReport.MDSCreate != nil {
			return "MDSCreateEvent"
		}
	case *Result:
		switch {
		case m.Command == CmdGet:
			return "MDSGetPriorityListResult"
		case m.Command == CmdConfirmedSet:
			return "MDSSetPriorityListResult"
		case m.Action != nil && m.Action.Poll != nil && m.Action.Poll.Extended && m.Linked != nil:
			return "LinkedMDSExtendedPollActionResult"
		case m.Action != nil && m.Action.Poll != nil && m.Action.Poll.Extended:
			return "MDSExtendedPollActionResult"
		}
	}
	return "other"
}

// TestCaptureFrames walks the real capture frame by frame and compares
// every frame's numerics with the independent decoder's, and the frame
// and message counts with its summary.
func TestCaptureFrames(t *testing.T) {
	raw := readVector(t, "MPRawoutput1.raw")
	oracle := readOracle(t)
	var sum oracleSummary
	decodeJSON(t, readVector(t, "MPRawoutput1.summary.json"), &sum)

	byFrame := make(map[int]oracleLine, len(oracle))
	for _, l := range oracle {
		byFrame[l.Frame] = l
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 2*MaxFrameSize)
	sc.Split(SplitFrames)
	types := map[string]int{}
	frames, maxUser, numerics, withNumerics := 0, 0, 0, 0
	for sc.Scan() {
		f, err := DecodeFrame(sc.Bytes())
		if err != nil {
			t.Fatalf("frame %d: %v", frames, err)
		}
		maxUser = max(maxUser, len(f.UserData))
		msg, err := DecodeMessage(f.UserData)
		if err != nil {
			t.Fatalf("frame %d: %v", frames, err)
		}
		types[messageName(msg)]++
		var got []NuObsValue
		var handles []uint16
		if r, ok := msg.(*Result); ok && r.Action != nil && r.Action.Poll != nil {
			for _, c := range r.Action.Poll.Contexts {
				for _, o := range c.Observations {
					nums, err := o.Numerics()
					if err != nil {
						t.Fatalf("frame %d object %d: %v", frames, o.Handle, err)
					}
					for range nums {
						handles = append(handles, o.Handle)
					}
					got = append(got, nums...)
				}
			}
			want, ok := byFrame[frames]
			if ok && (r.Action.Poll.RelTime != RelativeTime(want.RelTime) || r.Action.Poll.PollNumber != want.PollNumber) {
				t.Errorf("frame %d: rel time %d poll %d, oracle %d %d", frames, r.Action.Poll.RelTime, r.Action.Poll.PollNumber, want.RelTime, want.PollNumber)
			}
		}
		want := byFrame[frames]
		if len(got) != len(want.Numerics) {
			t.Fatalf("frame %d: %d numerics, oracle %d", frames, len(got), len(want.Numerics))
		}
		if len(got) > 0 {
			withNumerics++
		}
		for i, n := range got {
			w := want.Numerics[i]
			if handles[i] != w.Handle || n.PhysioID != w.PhysioID || uint16(n.State) != w.State || n.Unit != w.Unit {
				t.Errorf("frame %d numeric %d: handle %d id %d state %#x unit %d, oracle %+v", frames, i, handles[i], n.PhysioID, n.State, n.Unit, w)
			}
			switch {
			case w.Value == nil:
				if n.Value.Special().String() != w.Special {
					t.Errorf("frame %d numeric %d: special %q, oracle %q", frames, i, n.Value.Special(), w.Special)
				}
			case n.Value.Special() != NotSpecial || math.Abs(n.Value.Float64()-*w.Value) > 1e-9:
				t.Errorf("frame %d numeric %d: value %v, oracle %v", frames, i, n.Value.Float64(), *w.Value)
			}
		}
		numerics += len(got)
		frames++
	}
	if !errors.Is(sc.Err(), ErrTruncated) {
		t.Errorf("scanner ended with %v, want ErrTruncated for the cut-off last frame", sc.Err())
	}
	s := sum.Summary
	if frames != s.Frames || frames != s.GoodFrames {
		t.Errorf("%d frames, summary %d (%d good)", frames, s.Frames, s.GoodFrames)
	}
	if numerics != s.Numerics || withNumerics != s.WithNumerics || len(oracle) != s.WithNumerics {
		t.Errorf("%d numerics in %d frames, summary %d in %d", numerics, withNumerics, s.Numerics, s.WithNumerics)
	}
	if maxUser != s.MaxUserData {
		t.Errorf("largest user data %d, summary %d", maxUser, s.MaxUserData)
	}
	for name, n := range s.ByMessageType {
		if types[name] != n {
			t.Errorf("%d %s messages, summary %d", types[name], name, n)
		}
	}
	if types["other"] != 0 {
		t.Errorf("%d messages of no known kind", types["other"])
	}
	t.Logf("%d frames, %d numerics in %d frames, message types %v", frames, numerics, withNumerics, types)
}

// TestCaptureDecode decodes the real capture with Decode and checks every
// reading against the independent decoder: the oracle's frames grouped by
// poll (same relative time), in order.
func TestCaptureDecode(t *testing.T) {
	raw := readVector(t, "MPRawoutput1.raw")
	oracle := readOracle(t)
	var sum oracleSummary
	decodeJSON(t, readVector(t, "MPRawoutput1.summary.json"), &sum)

	// Group the oracle's lines into polls.
	var polls [][]oracleLine
	for i, l := range oracle {
		if i == 0 || l.RelTime != oracle[i-1].RelTime {
			polls = append(polls, nil)
		}
		polls[len(polls)-1] = append(polls[len(polls)-1], l)
	}
	var readings []drivers.Reading
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st, err := Decode(t.Context(), bytes.NewReader(raw), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		readings = append(readings, r)
		return nil
	}), drivers.Options{Now: func() time.Time { return now }, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s := sum.Summary
	if st.Frames != int64(s.Frames) || st.Bad != int64(s.TruncatedAtEnd) || st.Skipped != int64(s.StrayBytes) {
		t.Errorf("stats %+v, want %d frames, %d bad (the truncated end), %d skipped", st, s.Frames, s.TruncatedAtEnd, s.StrayBytes)
	}
	if !errors.Is(errors.New(st.LastError), ErrTruncated) && st.LastError != ErrTruncated.Error() {
		t.Errorf("last error %q, want the truncation", st.LastError)
	}
	if len(readings) != len(polls) || st.Readings != int64(len(polls)) {
		t.Fatalf("%d readings (stats %d), oracle has %d polls with numerics", len(readings), st.Readings, len(polls))
	}
	mdsAbs := time.Date(2021, 4, 22, 11, 47, 26, 0, time.UTC)
	const mdsRel = 1950208
	matched := 0
	for i, r := range readings {
		var want []oracleLine = polls[i]
		if r.Device != (drivers.DeviceID{Driver: "intellivue", Model: "M8000", Serial: "0009fb029e18"}) {
			t.Fatalf("reading %d: device %+v", i, r.Device)
		}
		wantTime := mdsAbs.Add(time.Duration(int64(want[0].RelTime)-mdsRel) * time.Second / 8000)
		if !r.DeviceTime.Equal(wantTime) || !r.ReceivedAt.Equal(now) {
			t.Errorf("reading %d: device time %v, want %v; received %v", i, r.DeviceTime, wantTime, r.ReceivedAt)
		}
		k := 0
		for _, l := range want {
			for _, w := range l.Numerics {
				if k >= len(r.Values) {
					t.Fatalf("reading %d: %d values, oracle has more", i, len(r.Values))
				}
				v := r.Values[k]
				k++
				if v.MDC != 2<<16|uint32(w.PhysioID) || v.Unit != UnitUCUM(w.Unit) || v.Status != StatusOf(MeasurementState(w.State), specialFloat(w.Special)) {
					t.Errorf("reading %d value %d: %+v, oracle %+v", i, k, v, w)
					continue
				}
				if (v.Value == nil) != (w.Value == nil) || v.Value != nil && math.Abs(*v.Value-*w.Value) > 1e-9 {
					t.Errorf("reading %d value %d: %v, oracle %v", i, k, v.Value, w.Value)
					continue
				}
				matched++
			}
		}
		if k != len(r.Values) {
			t.Errorf("reading %d: %d values, oracle %d", i, len(r.Values), k)
		}
	}
	if matched != s.Numerics {
		t.Errorf("%d numerics matched, summary has %d", matched, s.Numerics)
	}
	checkCaptureStamps(t, raw, readings)
	// Spot checks of the mapping on the first reading.
	first := readings[0]
	b, _ := json.Marshal(first.Values[3])
	if got := string(b); got != `{"mdc":147842,"ref":"MDC_ECG_HEART_RATE","label":"HR","value":60,"unit":"/min","status":"ok"}` {
		t.Errorf("first reading's heart rate: %s", got)
	}
	spo2 := first.Values[13]
	if spo2.MDC != 150456 || spo2.Ref != "MDC_PULS_OXIM_SAT_O2" || spo2.Unit != "%" || spo2.Value != nil || spo2.Status != drivers.Invalid|drivers.Unavailable {
		t.Errorf("first reading's SpO2: %+v", spo2)
	}
	t.Logf("%d readings, %d numerics matched, stats %+v", len(readings), matched, st)
}

// specialFloat returns the Float of an oracle special name, or 0.
func specialFloat(name string) Float {
	for _, f := range []Float{FloatNaN, FloatNRes, FloatPosInf, FloatNegInf} {
		if f.Special().String() == name && name != "" {
			return f
		}
	}
	return 0
}

// checkCaptureStamps checks the measurement times decoded from the
// capture against its bytes, read without the decoder: every
// NOM_ATTR_TIME_STAMP_ABS (09 90, length 00 08) in the frames' user data
// holds the NBP's time, 2021-03-29 12:46:18.00, in all 361 polls with
// values; the ST compound's NOM_ATTR_TIME_STAMP_REL (09 91, length 00 04)
// is on the poll's relative clock, at most one ST period and one poll
// period (15.36 s + 1.024 s) before the poll. The
// pymind oracle does not decode time stamps.
func checkCaptureStamps(t *testing.T, raw []byte, readings []drivers.Reading) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 2*MaxFrameSize)
	sc.Split(SplitFrames)
	abs := map[string]int{}
	rels := map[string]bool{}
	for sc.Scan() {
		f, err := DecodeFrame(sc.Bytes())
		if err != nil {
			continue
		}
		b := f.UserData
		for i := 0; i+4 <= len(b); i++ {
			switch {
			case bytes.HasPrefix(b[i:], []byte{0x09, 0x90, 0x00, 0x08}) && i+12 <= len(b):
				abs[fmt.Sprintf("% X", b[i+4:i+12])]++
			case bytes.HasPrefix(b[i:], []byte{0x09, 0x91, 0x00, 0x04}) && i+8 <= len(b):
				rels[fmt.Sprintf("% X", b[i+4:i+8])] = true
			}
		}
	}
	if len(abs) != 1 || abs["20 21 03 29 12 46 18 00"] != 361 {
		t.Fatalf("absolute time stamps in the capture's bytes: %v, want 20 21 03 29 12 46 18 00 in 361 polls", abs)
	}
	nbpAt := time.Date(2021, 3, 29, 12, 46, 18, 0, time.UTC)
	nbp, st := 0, map[time.Time]bool{}
	for i, r := range readings {
		for _, v := range r.Values {
			switch {
			case v.MDC>>16 == 2 && v.MDC&0xFFFF >= 0x4A05 && v.MDC&0xFFFF <= 0x4A07:
				nbp++
				if !v.MeasuredAt.Equal(nbpAt) {
					t.Fatalf("reading %d: NBP %s measured at %v, want %v", i, v.Ref, v.MeasuredAt, nbpAt)
				}
			case v.Label == "ST" || v.MDC>>16 == 2 && v.MDC&0xFFFF >= 0x0300 && v.MDC&0xFFFF < 0x0400:
				if age := r.DeviceTime.Sub(v.MeasuredAt); v.MeasuredAt.IsZero() || age < 0 || age > 16384*time.Millisecond {
					t.Fatalf("reading %d: ST %s measured at %v, %v before the poll", i, v.Ref, v.MeasuredAt, age)
				}
				st[v.MeasuredAt] = true
			default:
				if !v.MeasuredAt.IsZero() {
					t.Fatalf("reading %d: %s has a measurement time %v; the capture stamps only NBP and ST", i, v.Ref, v.MeasuredAt)
				}
			}
		}
	}
	if nbp != 3*361 || len(st) != len(rels) {
		t.Errorf("%d NBP values with the stamp, want %d; %d ST measurement times, the bytes hold %d", nbp, 3*361, len(st), len(rels))
	}
}
