package hl7v2

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// pcd01 is an IHE PCD-01 ORU^R01 written for these tests: a multi-parameter
// monitor (MDS, VMD and channel containment rows, OBX-18 on the MDS row),
// values with their own times, flagged and absent values, a vendor code,
// an unknown code, a text row, and a second device in its own OBR.
const pcd01 = "MSH|^~\\&|CENTRAL^ACDE48234567ABCD^EUI-64|ICU|BEDGATE|RXX|20261126101500+0000||ORU^R01^ORU_R01|MSG-0001|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r" +
	"PID|1||9434765919^^^NHS^NH~H123^^^RXX^MR||Doe^Jo\r" +
	"PV1|1|I|ICU^^BED3^RXX\r" +
	"OBR|1|MSG-0001^CENTRAL|MSG-0001^CENTRAL|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20261126101458+0000\r" +
	"OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||20261126101458+0000||||MON-0042^^0042ABCD^EUI-64\r" +
	"OBX|2||70666^MDC_DEV_ECG_RESP_VMD^MDC|1.1.0.0|||||||X\r" +
	"OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|50-120||||R|||20261126101458+0000\r" +
	"OBX|4|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1||262688^MDC_DIM_PERCENT^MDC||NAV|||X|||20261126101458+0000\r" +
	"OBX|5|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.3.1.1|128|266016^MDC_DIM_MMHG^MDC|||||F|||20261126101230+0000\r" +
	"OBX|6|NM|150364^MDC_TEMP_BODY^MDC|1.4.1.1|37.2|Cel^degree Celsius^UCUM|||||R\r" +
	"OBX|7|NM|HR2^Heart rate (vendor)^99ACME|1.5.1.1|71|||INV||||R|||20261126101458+0000\r" +
	"OBX|8|NM|XYZ^Mystery^99ACME|1.5.1.2|3.5|mystery-unit||||||R|||20261126101458+0000\r" +
	"OBX|9|ST|184327^MDC_ECG_STAT_RHY^MDC|1.1.4.1|SINUS||||||R\r" +
	"OBX|10|NM|151562^MDC_RESP_RATE^MDC|1.1.2.1|NaN|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||20261126101458+0000\r" +
	"OBX|11|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.2.1.2|7x4|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20261126101458+0000\r" +
	"OBR|2|MSG-0001^CENTRAL|MSG-0001^CENTRAL|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20261126101400+0000\r" +
	"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|%^percent^UCUM|||||C|||||||OXI-7\r"

var acmeCodes = CodeTable{"99acme:hr2": {MDC: 147842, Ref: "MDC_ECG_HEART_RATE", Unit: "/min"}}

func TestParseORUPCD01(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 15, 1, 0, time.UTC)
	oru, err := ParseORU([]byte(pcd01), Options{Codes: acmeCodes, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := oru.Header
	if h.ControlID != "MSG-0001" || h.Version != "2.6" || h.Sender() != "CENTRAL^ACDE48234567ABCD^EUI-64|ICU" {
		t.Errorf("header %+v", h)
	}
	if nhs, ok := oru.Patient.NHSNumber(); !ok || nhs != "9434765919" || len(oru.Patient.Identifiers) != 2 {
		t.Errorf("patient %+v", oru.Patient)
	}
	if got := oru.Location.Key(); got != "ICU^^BED3" {
		t.Errorf("location key %q", got)
	}
	if oru.NotNumeric != 1 {
		t.Errorf("NotNumeric = %d, want 1 (the ST row)", oru.NotNumeric)
	}
	at := func(hms string) time.Time {
		tm, _ := time.Parse("20060102150405", "20261126"+hms)
		return tm
	}
	f := drivers.Float
	want := []Reading{
		{Equipment: "MON-0042", Reading: drivers.Reading{DeviceTime: at("101458"), Values: []drivers.Value{
			{MDC: 147842, Ref: "MDC_ECG_HEART_RATE", Value: f(72), Unit: "/min"},
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Unit: "%", Status: drivers.Unavailable},
			{MDC: 150364, Ref: "MDC_TEMP_BODY", Value: f(37.2), Unit: "Cel"}, // no OBX-14: OBR-7
			{MDC: 147842, Ref: "MDC_ECG_HEART_RATE", Label: "99ACME:HR2", Value: f(71), Unit: "/min", Status: drivers.Invalid},
			{Label: "99ACME:XYZ", Value: f(3.5), Unit: "mystery-unit"},
			{MDC: 151562, Ref: "MDC_RESP_RATE", Unit: "/min", Status: drivers.Unavailable},
			{MDC: 149530, Ref: "MDC_PULS_OXIM_PULS_RATE", Unit: "/min", Status: drivers.Invalid},
		}}},
		{Equipment: "MON-0042", Reading: drivers.Reading{DeviceTime: at("101230"), Values: []drivers.Value{
			{MDC: 150021, Ref: "MDC_PRESS_BLD_NONINV_SYS", Value: f(128), Unit: "mm[Hg]"},
		}}},
		{Equipment: "OXI-7", Reading: drivers.Reading{DeviceTime: at("101400"), Values: []drivers.Value{
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: f(97), Unit: "%", Status: drivers.Questionable},
		}}},
	}
	if len(oru.Readings) != len(want) {
		t.Fatalf("%d readings, want %d: %+v", len(oru.Readings), len(want), oru.Readings)
	}
	for i, w := range want {
		g := oru.Readings[i]
		if g.Equipment != w.Equipment || !g.DeviceTime.Equal(w.DeviceTime) || g.Device.Driver != "hl7" || g.Device.Serial != w.Equipment || !g.ReceivedAt.Equal(now) {
			t.Errorf("reading %d: %s %v %+v, want %s %v", i, g.Equipment, g.DeviceTime, g.Device, w.Equipment, w.DeviceTime)
		}
		if len(g.Values) != len(w.Values) {
			t.Errorf("reading %d: %d values, want %d: %+v", i, len(g.Values), len(w.Values), g.Values)
			continue
		}
		for j, wv := range w.Values {
			gv := g.Values[j]
			if gv.MDC != wv.MDC || gv.Ref != wv.Ref || gv.Label != wv.Label || gv.Unit != wv.Unit || gv.Status != wv.Status || (gv.Value == nil) != (wv.Value == nil) || (gv.Value != nil && *gv.Value != *wv.Value) {
				t.Errorf("reading %d value %d: got %+v (value %v), want %+v (value %v)", i, j, gv, ptr(gv.Value), wv, ptr(wv.Value))
			}
		}
	}
}

func ptr(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseORUNeverANumberForAnInvalidValue(t *testing.T) {
	for _, tc := range []struct {
		obx5, obx8, obx11 string
		want              drivers.Status
		number            bool
	}{
		{"98", "", "R", 0, true},
		{"-1.5", "", "F", 0, true},
		{"", "", "R", drivers.Unavailable, false},
		{"nan", "", "R", drivers.Unavailable, false},
		{"1e3", "", "R", drivers.Invalid, false},
		{"0x10", "", "R", drivers.Invalid, false},
		{" 98", "", "R", drivers.Invalid, false},
		{"98", "", "X", drivers.Unavailable, true},
		{"98", "", "W", drivers.Invalid, true},
		{"98", "INV", "R", drivers.Invalid, true},
		{"98", "QUES~CAL", "R", drivers.Questionable | drivers.Calibrating, true},
		{"98", "DEMO", "R", drivers.Demo, true},
		{"98", ">", "R", drivers.OutOfRange, true},
		{"98", "H", "R", 0, true},
		{"98", "ZZ", "R", drivers.Questionable, true},
		{"98", "", "P", drivers.Questionable, true},
	} {
		msg := "MSH|^~\\&|A|B|||20260101||ORU^R01|1|P|2.5\rOBR|1\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||" + tc.obx5 + "|%||" + tc.obx8 + "|||" + tc.obx11
		oru, err := ParseORU([]byte(msg), Options{})
		if err != nil {
			t.Fatalf("%q: %v", tc.obx5, err)
		}
		v := oru.Readings[0].Values[0]
		if v.Status != tc.want || (v.Value != nil) != tc.number {
			t.Errorf("OBX-5 %q OBX-8 %q OBX-11 %q: status %v value %v, want %v number=%v", tc.obx5, tc.obx8, tc.obx11, v.Status, ptr(v.Value), tc.want, tc.number)
		}
		// The gateway forwards no number for any of these flags; a nil
		// value always carries a flag saying why.
		if v.Value == nil && v.Status&(drivers.Unavailable|drivers.Invalid) == 0 {
			t.Errorf("OBX-5 %q: nil value without Unavailable or Invalid", tc.obx5)
		}
	}
}

func TestParseORURejects(t *testing.T) {
	base := "MSH|^~\\&|A|B|||20260101||ORU^R01|1|P|2.6\rOBR|1\rOBX|1|NM|150456^^MDC||98"
	for _, tc := range []struct {
		name, msg string
		want      error
	}{
		{"ADT", strings.Replace(base, "ORU^R01", "ADT^A01", 1), ErrNotORU},
		{"version 2.7", strings.Replace(base, "|2.6", "|2.7", 1), ErrVersion},
		{"version 2.2", strings.Replace(base, "|2.6", "|2.2", 1), ErrVersion},
		{"no control id", strings.Replace(base, "|1|P|", "||P|", 1), ErrStructure},
		{"OBX without OBR", strings.Replace(base, "OBR|1\r", "", 1), ErrStructure},
		{"bad OBX-14", base + "|||||||||2026-01-01", ErrStructure},
		{"bad MSH-7", strings.Replace(base, "20260101", "yesterday", 1), ErrStructure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseORU([]byte(tc.msg), Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	for _, v := range []string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6"} {
		if _, err := ParseORU([]byte(strings.Replace(base, "|2.6", "|"+v, 1)), Options{}); err != nil {
			t.Errorf("version %s: %v", v, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20261126101458+0000", time.Date(2026, 11, 26, 10, 14, 58, 0, time.UTC), true},
		{"20261126101458.25-0130", time.Date(2026, 11, 26, 11, 44, 58, 250e6, time.UTC), true},
		{"202611261014", time.Date(2026, 11, 26, 10, 14, 0, 0, loc), true},
		{"2026", time.Date(2026, 1, 1, 0, 0, 0, 0, loc), true},
		{"20261326", time.Time{}, false},
		{"2026112610145", time.Time{}, false},
		{"20261126101458.", time.Time{}, false},
		{"20261126101458+00", time.Time{}, false},
	} {
		got, err := ParseTime(tc.in, loc)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
