package dri

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// appendixA are the request frames of M1017617 Appendix A, byte for byte.
var appendixA = []struct {
	name string
	hex  string
	req  func() []byte
	sum  byte
}{
	{"display values every 10 s", "7e310000000000000000000000000000000000000000ff000000000000000000000000000000000000010a000e0000000000497e",
		func() []byte {
			return PhdbRequest{Type: PhDispl, Interval: 10, Classes: ClassExt1 | ClassExt2 | ClassExt3}.Frame()
		}, 0x49},
	{"stop display values", "7e310000000000000000000000000000000000000000ff000000000000000000000000000000000000010000000000000000317e",
		func() []byte { return PhdbRequest{Type: PhDispl, Interval: IntervalStop}.Frame() }, 0x31},
	{"60 s trends", "7e310000000000000000000000000000000000000000ff000000000000000000000000000000000000033c000e00000000007d5d7e",
		func() []byte {
			return PhdbRequest{Type: Ph60sTrend, Interval: 60, Classes: ClassExt1 | ClassExt2 | ClassExt3}.Frame()
		}, 0x7D},
	{"stop 60 s trends", "7e310000000000000000000000000000000000000000ff000000000000000000000000000000000000030000000000000000337e",
		func() []byte { return PhdbRequest{Type: Ph60sTrend, Interval: IntervalStop}.Frame() }, 0x33},
	{"start ECG1 waveform", "7e480000000000000000000000000001000000000000ff0000000000000000000000000000000000000000000001ff" +
		"0000000000000000000000000000000000000000000000000000487e",
		func() []byte { return WaveRequest{Types: []uint8{WaveECG1}}.Frame() }, 0x48},
	{"stop waveforms", "7e480000000000000000000000000001000000000000ff00000000000000000000000000000000000001000000ff" +
		"000000000000000000000000000000000000000000000000000000487e",
		func() []byte { return WaveRequest{Stop: true}.Frame() }, 0x48},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendixARequests(t *testing.T) {
	for _, v := range appendixA {
		t.Run(v.name, func(t *testing.T) {
			want := unhex(t, v.hex)
			if got := v.req(); !bytes.Equal(got, want) {
				t.Errorf("request frame\n got % x\nwant % x", got, want)
			}
			// And read back: one frame, a valid record of r_len bytes.
			adv, tok, err := Split(want, false)
			if err != nil || adv != len(want)-1 || tok == nil {
				t.Fatalf("Split = %d, % x, %v", adv, tok, err)
			}
			rec, err := Unframe(tok)
			if err != nil {
				t.Fatal(err)
			}
			if n := int(binary.LittleEndian.Uint16(rec)); n != len(rec) || (n != 49 && n != 72) || Checksum(rec) != v.sum {
				t.Errorf("record of %d bytes, r_len %d, checksum %#02x; want 49 or 72 and %#02x", len(rec), n, Checksum(rec), v.sum)
			}
			r, err := ParseRecord(rec)
			if err != nil || len(r.Subrecords) != 1 || r.Subrecords[0].Type != 0 {
				t.Fatalf("ParseRecord = %+v, %v", r, err)
			}
			if r.MainType == MainPhdb {
				q, err := ParsePhdbRequest(r.Subrecords[0].Data)
				if err != nil || !bytes.Equal(q.Frame(), want) {
					t.Errorf("ParsePhdbRequest = %+v, %v: does not frame back to the vector", q, err)
				}
			}
		})
	}
}

// The response vectors below are built from the layout in 8005313 by hand
// (offsets counted from the structures), not with this package's encoder.

// Offsets of groups in the basic class data area (struct basic_phdb).
const (
	offECG      = 0   // ecg_group: 6 header + 5 values
	offP1       = 16  // p_group: 6 + 4 values, four of them
	offP2       = 30  //
	offNIBP     = 72  // nibp_group
	offT1       = 86  // t_group: 6 + 1 value, four of them
	offSpO2     = 118 // SpO2_pl_group
	offCO2      = 132 // co2_group
	offAA       = 166 // aa_group
	offECGExtra = 226 // ecg_extra_group: no header
)

// sub is a physiological subrecord being built: time, class data area,
// marker, reserved, cl_drilvl_subt.
type sub [278]byte

func newSub(time uint32, class int) *sub {
	var s sub
	binary.LittleEndian.PutUint32(s[0:], time)
	binary.LittleEndian.PutUint16(s[276:], uint16(class)<<8)
	return &s
}

// group writes a group header at off of the class data area.
func (s *sub) group(off int, status uint32, label uint16) *sub {
	binary.LittleEndian.PutUint32(s[4+off:], status)
	binary.LittleEndian.PutUint16(s[4+off+4:], label)
	return s
}

// values writes 16-bit values from byte off of the class data area.
func (s *sub) values(off int, vs ...int16) *sub {
	for i, v := range vs {
		binary.LittleEndian.PutUint16(s[4+off+2*i:], uint16(v))
	}
	return s
}

// record lays out a DRI_MT_PHDB record of the given subrecords.
func record(level byte, rtime uint32, types []byte, subs ...[]byte) []byte {
	hdr := make([]byte, 40)
	size := 40
	for _, s := range subs {
		size += len(s)
	}
	binary.LittleEndian.PutUint16(hdr[0:], uint16(size))
	hdr[3] = level
	binary.LittleEndian.PutUint32(hdr[6:], rtime)
	off := 0
	for i := range 8 {
		d := hdr[16+3*i:]
		if i == len(subs) {
			d[2] = 0xFF
			break
		}
		binary.LittleEndian.PutUint16(d, uint16(off))
		d[2] = types[i]
		off += len(subs[i])
	}
	out := hdr
	for _, s := range subs {
		out = append(out, s...)
	}
	return out
}

// frame escapes a record and its sum as M1017617 says.
func frame(rec []byte) []byte {
	var sum byte
	for _, b := range rec {
		sum += b
	}
	out := []byte{0x7E}
	for _, b := range append(bytes.Clone(rec), sum) {
		switch b {
		case 0x7E:
			out = append(out, 0x7D, 0x5E)
		case 0x7D:
			out = append(out, 0x7D, 0x5D)
		default:
			out = append(out, b)
		}
	}
	return append(out, 0x7E)
}

const t0 = 1_700_000_000 // 2023-11-14T22:13:20Z

// basicSub is a basic class displayed values subrecord of a patient:
// ECG 72 (lead II), ART 120/70/90 pulse 72, NIBP 118/76/90 pulse 70, T1
// tympanic 37.05 °C, SpO2 97 % pulse 71, CO2 5.00 % at 760.0 mmHg with
// RR 14; the agent group exists but is not active.
func basicSub(time uint32) *sub {
	s := newSub(time, 0)
	s.group(offECG, 3, 0x0200).values(offECG+6, 72, 5, -3, 0, 15)
	s.group(offP1, 3, 1).values(offP1+6, 12000, 7000, 9000, 72)
	s.group(offNIBP, 3, 1<<3).values(offNIBP+6, 11800, 7600, 9000, 70)
	s.group(offT1, 3, 3).values(offT1+6, 3705)
	s.group(offSpO2, 3, 0).values(offSpO2+6, 9700, 71, 350, DataInvalid)
	s.group(offCO2, 3, 1).values(offCO2+6, 500, 3, 14, 7600)
	s.group(offAA, 1, 6).values(offAA+6, 120, 150, 80)
	s.values(offECGExtra, 72, 90, 60)
	return s
}

func quiet() drivers.Options {
	return drivers.Options{Logger: slog.New(slog.DiscardHandler)}.WithDefaults()
}

func decodeAll(t *testing.T, wire []byte) ([]drivers.Reading, drivers.Stats) {
	t.Helper()
	var got []drivers.Reading
	st, err := Decode(t.Context(), bytes.NewReader(wire), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got = append(got, r)
		return nil
	}), quiet())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return got, st
}

// byLabel indexes a reading's values by label.
func byLabel(r drivers.Reading) map[string]drivers.Value {
	m := map[string]drivers.Value{}
	for _, v := range r.Values {
		m[v.Label] = v
	}
	return m
}

func TestFourClassDisplayRecord(t *testing.T) {
	ext := func(class int) []byte {
		s := newSub(t0, class)
		s.values(0, 1, 2, DataOverRange)
		return s[:]
	}
	rec := record(11, t0+1, []byte{1, 1, 1, 1}, basicSub(t0)[:], ext(1), ext(2), ext(3))
	if len(rec) != 1152 {
		t.Fatalf("a four-class display record of %d bytes, want 40 + 4 × 278 = 1152", len(rec))
	}
	got, st := decodeAll(t, frame(rec))
	if st.Frames != 1 || st.Bad != 0 || len(got) != 5 {
		t.Fatalf("stats %+v, %d readings; want 1 frame, 5 readings (basic, NIBP, three classes passed through)", st, len(got))
	}
	basic := got[0]
	if basic.DeviceTime.Unix() != t0 || basic.Device.Driver != DriverName || basic.ReceivedAt.IsZero() ||
		!strings.HasPrefix(basic.DeviceStatus, "DRI_PH_DISPL level=11 ecg=00000003/0200 p1=00000003/0001") {
		t.Errorf("basic reading %+v", basic)
	}
	v := byLabel(basic)
	tests := []struct {
		label string
		code  uint32
		value float64
		unit  string
	}{
		{"ecg.hr", mdc.ECGHeartRate, 72, "/min"},
		{"ecg.st1", 0, 0.05, "mm"},
		{"ecg.st2", 0, -0.03, "mm"},
		{"ecg.imp_rr", mdc.TThorRespRate, 15, "/min"},
		{"p1(ART).sys", mdc.ArterialBPSys, 120, "mm[Hg]"},
		{"p1(ART).dia", mdc.ArterialBPDia, 70, "mm[Hg]"},
		{"p1(ART).mean", mdc.ArterialBPMean, 90, "mm[Hg]"},
		{"p1(ART).hr", 0, 72, "/min"},
		{"t1(TYMP).temp", mdc.TempTymp, 37.05, "Cel"},
		{"spo2.spo2", mdc.SpO2, 97, "%"},
		{"spo2.pr", mdc.PulsOximPulse, 71, "/min"},
		{"spo2.ir_amp", 0, 3.5, "%"},
		{"co2.et", 0, 5, "%"},
		{"co2.fi", 0, 0.03, "%"},
		{"co2.rr", mdc.CO2RespRate, 14, "/min"},
		{"co2.amb_press", 0, 760, "mm[Hg]"},
		{"co2.et_press", mdc.AwayCO2Et, 38, "mm[Hg]"},
		{"ecg_extra.hr_max", 0, 90, "/min"},
	}
	for _, tt := range tests {
		got, ok := v[tt.label]
		if !ok || got.Value == nil || *got.Value != tt.value || got.MDC != tt.code || got.Unit != tt.unit || got.Status != 0 {
			t.Errorf("%s = %+v (value %v), want %v %s code %d unflagged", tt.label, got, deref(got.Value), tt.value, tt.unit, tt.code)
		}
	}
	if sv := v["spo2.SO2"]; sv.Value != nil || sv.Status != drivers.Unavailable|drivers.Invalid {
		t.Errorf("SpO2 group's DATA_INVALID SvO2 = %+v, want no number, invalid", sv)
	}
	if aa := v["aa(SEV).et"]; aa.Value != nil || aa.Status != drivers.Unavailable {
		t.Errorf("inactive agent = %+v, want no number, unavailable", aa)
	}
	if _, ok := v["nibp.sys"]; ok {
		t.Error("NIBP in the periodic reading; it is a reading of its own")
	}
	if _, ok := v["p2(label0).sys"]; ok || len(basic.Values) != 5+4+1+4+5+3+3 {
		t.Errorf("%d values; want only the existing groups' (ecg, p1, t1, spo2, co2 + et_press, aa, ecg_extra)", len(basic.Values))
	}
	nibp := got[1]
	n := byLabel(nibp)
	if nibp.DeviceTime.Unix() != t0 || *n["nibp.sys"].Value != 118 || n["nibp.sys"].MDC != mdc.NIBPSys ||
		*n["nibp.hr"].Value != 70 || n["nibp.hr"].MDC != mdc.PulseRateNonInv || len(nibp.Values) != 4 {
		t.Errorf("NIBP reading %+v", nibp)
	}
	for i, class := range []string{"ext1", "ext2", "ext3"} {
		r := got[2+i]
		if len(r.Values) != 135 || r.Values[1].Label != class+"[2]" || *r.Values[1].Value != 2 ||
			r.Values[2].Value != nil || r.Values[2].Status != drivers.Unavailable|drivers.OutOfRange {
			t.Errorf("%s passed through as %d values, first %+v", class, len(r.Values), r.Values[:3])
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestReservedValuesAreNeverNumbers(t *testing.T) {
	tests := []struct {
		raw  int16
		want drivers.Status
	}{
		{DataInvalid, drivers.Unavailable | drivers.Invalid},
		{DataNotUpdated, drivers.Unavailable},
		{DataDiscont, drivers.Unavailable},
		{DataUnderRange, drivers.Unavailable | drivers.OutOfRange},
		{DataOverRange, drivers.Unavailable | drivers.OutOfRange},
		{DataNotCalibrated, drivers.Unavailable | drivers.Calibrating},
		{-32001, drivers.Unavailable | drivers.Invalid},
		{-32768, drivers.Unavailable | drivers.Invalid},
	}
	for _, tt := range tests {
		s := newSub(t0, 0).group(offSpO2, 3, 0).values(offSpO2+6, tt.raw, tt.raw, 100, 0)
		got, _ := decodeAll(t, frame(record(11, t0, []byte{1}, s[:])))
		if len(got) != 1 {
			t.Fatalf("%d: %d readings", tt.raw, len(got))
		}
		for _, v := range got[0].Values[:2] {
			if v.Value != nil || v.Status != tt.want {
				t.Errorf("raw %d: %s = %v %v, want no number, %v", tt.raw, v.Label, deref(v.Value), v.Status, tt.want)
			}
		}
	}
	// The smallest valid value is -32000.
	s := newSub(t0, 0).group(offECG, 3, 0).values(offECG+6, 0, -32000)
	got, _ := decodeAll(t, frame(record(11, t0, []byte{1}, s[:])))
	if st1 := byLabel(got[0])["ecg.st1"]; st1.Value == nil || *st1.Value != -320 {
		t.Errorf("ST -32000 = %+v, want -320 mm", st1)
	}
}

func TestStatusBitsFlagValues(t *testing.T) {
	tests := []struct {
		name   string
		off    int
		status uint32
		label  string
		want   drivers.Status
	}{
		{"ecg artifact", offECG, 3 | 1<<8, "ecg.hr", drivers.Questionable},
		{"ecg asystole", offECG, 3 | 1<<2, "ecg.hr", drivers.AlarmActive},
		{"pressure zeroing", offP1, 3 | 1<<2, "p1(ART).sys", drivers.Calibrating},
		{"co2 occlusion", offCO2, 3 | 1<<5, "co2.rr", drivers.Questionable},
		{"co2 apnea", offCO2, 3 | 1<<2, "co2.rr", drivers.AlarmActive},
		{"co2 zeroing", offCO2, 3 | 1<<4, "co2.et", drivers.Calibrating},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSub(t0, 0).group(tt.off, tt.status, 1).values(tt.off+6, 100, 100, 10, 7600)
			got, _ := decodeAll(t, frame(record(11, t0, []byte{1}, s[:])))
			v := byLabel(got[0])[tt.label]
			if v.Value == nil || v.Status != tt.want {
				t.Errorf("%s = %v %v, want a number flagged %v", tt.label, deref(v.Value), v.Status, tt.want)
			}
		})
	}
}

func TestNIBPIsEpisodic(t *testing.T) {
	const older, measuring = 1 << 8, 1 << 5
	nibp := func(time uint32, label uint16, sys int16) []byte {
		return newSub(time, 0).group(offNIBP, 3, label).values(offNIBP+6, sys, 80, 95, 66)[:]
	}
	aux := func(nibpTime uint32) []byte {
		b := make([]byte, 114)
		binary.LittleEndian.PutUint32(b, nibpTime)
		return b
	}
	steps := []struct {
		name   string
		rec    []byte
		emits  bool
		at     uint32
		source string
	}{
		{"first fresh measurement", record(11, t0, []byte{1}, nibp(t0, 0, 12000)), true, t0, "record"},
		{"the same, repeated", record(11, t0+10, []byte{1}, nibp(t0+10, 0, 12000)), false, 0, ""},
		{"measuring", record(11, t0+20, []byte{1}, nibp(t0+20, measuring, 12000)), false, 0, ""},
		{"new values", record(11, t0+30, []byte{1}, nibp(t0+30, 0, 13000)), true, t0 + 30, "record"},
		{"over 60 s old", record(11, t0+100, []byte{1}, nibp(t0+100, older, 13000)), false, 0, ""},
		{"same values, measured again", record(11, t0+110, []byte{1}, nibp(t0+110, 0, 13000)), true, t0 + 110, "record"},
		{"aux time then the values", record(11, t0+120, []byte{4, 1}, aux(t0+115), nibp(t0+120, 0, 13000)), true, t0 + 115, "aux"},
		{"same aux time", record(11, t0+130, []byte{4, 1}, aux(t0+115), nibp(t0+130, 0, 13000)), false, 0, ""},
		{"no number", record(11, t0+140, []byte{1}, newSub(t0+140, 0).group(offNIBP, 3, 0).values(offNIBP+6, DataInvalid, DataInvalid, DataInvalid, DataInvalid)[:]), false, 0, ""},
	}
	var d Decoder
	for _, s := range steps {
		r, err := ParseRecord(s.rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Record(r)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var n []drivers.Reading
		for _, rd := range got {
			if len(rd.Values) > 0 && rd.Values[0].MDC == mdc.NIBPSys {
				n = append(n, rd)
			}
		}
		if len(n) != map[bool]int{false: 0, true: 1}[s.emits] {
			t.Errorf("%s: %d NIBP readings, want emitted %v", s.name, len(n), s.emits)
			continue
		}
		if s.emits && (n[0].Values[0].MeasuredAt.Unix() != int64(s.at) || !strings.HasSuffix(n[0].DeviceStatus, "time="+s.source)) {
			t.Errorf("%s: NIBP measured at %v (%s), want %d from the %s", s.name, n[0].Values[0].MeasuredAt, n[0].DeviceStatus, s.at, s.source)
		}
		for _, v := range n {
			for _, x := range v.Values {
				if x.MeasuredAt.Unix() != int64(s.at) || v.DeviceTime.Before(x.MeasuredAt) {
					t.Errorf("%s: %s measured at %v, reported at %v; want measured at %d, reported at or after", s.name, x.Ref, x.MeasuredAt, v.DeviceTime, s.at)
				}
			}
		}
	}
}

func TestFramingAndBadInput(t *testing.T) {
	// Values whose bytes are the flag and the control byte.
	s := newSub(t0, 0).group(offECG, 3, 0).values(offECG+6, 0x7E, 0x7D7E)
	rec := record(11, t0, []byte{1}, s[:])
	wire := frame(rec)
	if !bytes.Equal(AppendFrame(nil, rec), wire) {
		t.Fatal("AppendFrame differs from the spec's escaping")
	}
	if bytes.Count(wire[1:len(wire)-1], []byte{0x7E}) != 0 {
		t.Fatal("a flag inside the frame")
	}
	bad := bytes.Clone(wire)
	bad[50] ^= 0x01 // breaks the checksum
	short := frame(rec[:30])
	long := frame(append(bytes.Clone(rec), 0)) // r_len no longer the length
	noise := []byte{0x00, 0x13, 0x7D}
	stream := append(append(append(append(append(append(noise, bad...), short...), wire...), long...), wire...), 0x7E, 0x31)
	got, st := decodeAll(t, stream)
	if len(got) != 2 || st.Frames != 2 || st.Bad != 4 || st.Skipped != int64(len(noise)) {
		t.Errorf("%d readings, stats %+v; want 2 readings, 2 frames, 4 bad (checksum, short, length, truncated), %d skipped", len(got), st, len(noise))
	}
	if v := byLabel(got[0])["ecg.hr"]; *v.Value != 0x7E {
		t.Errorf("HR through escaping = %v", *v.Value)
	}
	if !strings.Contains(st.LastError, "truncated") {
		t.Errorf("last error %q, want the truncated frame at the end", st.LastError)
	}
	if _, err := Unframe(append(bytes.Clone(wire[1:len(wire)-2]), 0x7D)); !errors.Is(err, ErrEscape) {
		t.Errorf("Unframe of a trailing control byte = %v", err)
	}
}
