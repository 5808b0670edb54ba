package masimo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// Lines in the shapes the reference describes (Rad-8, Radical-7 colour and
// "blue" units, the manual's trend output); the values are our own.
const (
	lineRad8     = "11/02/24 07:15:03 SN=0000412345 SPO2=---% BPM=--- DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000001"
	lineRad7     = "11/02/24 07:15:04 SN=---------- SPO2=096% BPM=088 PI=01.27 SPCO=--% SPMET=--.-% SPHB=--.- SPOC=-- RESVD=--- DESAT=-- PIDELTA=+-- PVI=--- ALARM=000000 EXC=0000C00 EXC1=00000000"
	lineRad7Blue = "11/02/24 07:15:05 SN=0000070123 SPO2=099% BPM=061 PI=04.10% SPCO=01.5% SPMET=00.7% DESAT=-- PIDELTA=+05 PVI=012 ALARM=0000 EXC=000800"
	lineTrend    = "09/30/24 22:01:59 SpO2=095 PR=071 PI=03.12 EXC=C00:LowSigIQ,SET"
)

func ptr(v float64) *float64 { return &v }

// val builds an expected value with literal codes, independent of the
// driver's tables.
func val(mdc uint32, ref, label, unit string, v *float64, st drivers.Status) drivers.Value {
	return drivers.Value{MDC: mdc, Ref: ref, Label: label, Unit: unit, Value: v, Status: st}
}

const (
	na  = drivers.Unavailable
	off = drivers.SensorOff | drivers.Invalid
	q   = drivers.Questionable
)

func TestParseLineSamples(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		serial string
		at     time.Time
		values []drivers.Value
		status string
	}{
		{
			name: "rad-8 without a sensor", line: lineRad8, serial: "0000412345",
			at: time.Date(2024, 11, 2, 7, 15, 3, 0, time.UTC),
			values: []drivers.Value{
				val(150456, "MDC_PULS_OXIM_SAT_O2", "SPO2", "%", nil, na|off),
				val(149530, "MDC_PULS_OXIM_PULS_RATE", "BPM", "/min", nil, na|off),
				val(0, "", "DESAT", "1", nil, na|off),
				val(0, "", "PIDELTA", "%", nil, na|off),
			},
			status: "ALARM=0000 EXC=000001",
		},
		{
			name: "radical-7 colour with low signal IQ", line: lineRad7, serial: "",
			at: time.Date(2024, 11, 2, 7, 15, 4, 0, time.UTC),
			values: []drivers.Value{
				val(150456, "MDC_PULS_OXIM_SAT_O2", "SPO2", "%", ptr(96), q),
				val(149530, "MDC_PULS_OXIM_PULS_RATE", "BPM", "/min", ptr(88), q),
				val(150448, "MDC_PULS_OXIM_PERF_REL", "PI", "%", ptr(1.27), q),
				val(160128, "MDC_CONC_HB_CO_GEN", "SPCO", "%", nil, na|q),
				val(160124, "MDC_CONC_HB_MET_GEN", "SPMET", "%", nil, na|q),
				val(159764, "MDC_CONC_HB_ART", "SPHB", "g/dL", nil, na|q),
				val(0, "", "SPOC", "mL/dL", nil, na|q),
				val(0, "", "RESVD", "", nil, na|q),
				val(0, "", "DESAT", "1", nil, na|q),
				val(0, "", "PIDELTA", "%", nil, na|q),
				val(0, "", "PVI", "%", nil, na|q),
			},
			status: "ALARM=000000 EXC=0000C00 EXC1=00000000",
		},
		{
			name: "radical-7 blue, all good", line: lineRad7Blue, serial: "0000070123",
			at: time.Date(2024, 11, 2, 7, 15, 5, 0, time.UTC),
			values: []drivers.Value{
				val(150456, "MDC_PULS_OXIM_SAT_O2", "SPO2", "%", ptr(99), 0),
				val(149530, "MDC_PULS_OXIM_PULS_RATE", "BPM", "/min", ptr(61), 0),
				val(150448, "MDC_PULS_OXIM_PERF_REL", "PI", "%", ptr(4.1), 0),
				val(160128, "MDC_CONC_HB_CO_GEN", "SPCO", "%", ptr(1.5), 0),
				val(160124, "MDC_CONC_HB_MET_GEN", "SPMET", "%", ptr(0.7), 0),
				val(0, "", "DESAT", "1", nil, na),
				val(0, "", "PIDELTA", "%", ptr(5), 0),
				val(0, "", "PVI", "%", ptr(12), 0),
			},
			status: "ALARM=0000 EXC=000800",
		},
		{
			name: "manual trend form with PR and named exceptions", line: lineTrend,
			at: time.Date(2024, 9, 30, 22, 1, 59, 0, time.UTC),
			values: []drivers.Value{
				val(150456, "MDC_PULS_OXIM_SAT_O2", "SpO2", "%", ptr(95), q),
				val(149530, "MDC_PULS_OXIM_PULS_RATE", "PR", "/min", ptr(71), q),
				val(150448, "MDC_PULS_OXIM_PERF_REL", "PI", "%", ptr(3.12), q),
			},
			status: "EXC=C00:LowSigIQ,SET",
		},
		{
			name:   "unknown fields are kept, numeric as values, text in status",
			line:   "01/01/25 00:00:00 SN=X1 FOO=12.5% MODE=adult SPO2=100% EXC=800",
			serial: "X1", at: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			values: []drivers.Value{
				val(0, "", "FOO", "%", ptr(12.5), 0),
				val(150456, "MDC_PULS_OXIM_SAT_O2", "SPO2", "%", ptr(100), 0),
			},
			status: "MODE=adult EXC=800",
		},
		{
			name: "extra spaces and CR/LF are tolerated",
			line: "12/31/99 23:59:59  BPM=-5   EXC=800 \r\n",
			at:   time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
			values: []drivers.Value{
				val(149530, "MDC_PULS_OXIM_PULS_RATE", "BPM", "/min", ptr(-5), 0),
			},
			status: "EXC=800",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseLine([]byte(tt.line), nil)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if !r.DeviceTime.Equal(tt.at) {
				t.Errorf("DeviceTime = %v, want %v", r.DeviceTime, tt.at)
			}
			if want := (drivers.DeviceID{Driver: "masimo", Serial: tt.serial}); r.Device != want {
				t.Errorf("Device = %+v, want %+v", r.Device, want)
			}
			if !reflect.DeepEqual(r.Values, tt.values) {
				t.Errorf("Values:\n got %s\nwant %s", dump(r.Values), dump(tt.values))
			}
			if r.DeviceStatus != tt.status {
				t.Errorf("DeviceStatus = %q, want %q", r.DeviceStatus, tt.status)
			}
			if !r.ReceivedAt.IsZero() {
				t.Errorf("ReceivedAt = %v, want zero", r.ReceivedAt)
			}
		})
	}
}

func dump(vs []drivers.Value) string {
	var b strings.Builder
	for _, v := range vs {
		x := "nil"
		if v.Value != nil {
			x = formatFloat(*v.Value)
		}
		b.WriteString("\n  {" + v.Label + " " + v.Ref + " " + v.Unit + " " + x + " " + v.Status.String() + "}")
	}
	return b.String()
}

func formatFloat(f float64) string { return string(appendNumber(nil, Field{}, &f)) }

func TestParseLineNoValueForms(t *testing.T) {
	for _, form := range []string{"-", "--", "---", "--.-", "--.--", "+--", "---%", "--.-%"} {
		t.Run(form, func(t *testing.T) {
			r, err := ParseLine([]byte("01/01/25 00:00:00 SPO2="+form+" EXC=800"), nil)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if v := r.Values[0]; v.Value != nil || v.Status != drivers.Unavailable {
				t.Errorf("value %v status %v, want nil and unavailable", v.Value, v.Status)
			}
		})
	}
}

func TestParseLineExceptionBits(t *testing.T) {
	tests := []struct {
		exc  string
		want drivers.Status // for a value that is present
	}{
		{"000", 0},
		{"001", off},         // no sensor
		{"002", off},         // defective sensor
		{"004", q},           // low perfusion
		{"008", q},           // pulse search
		{"010", q},           // interference
		{"020", off},         // sensor off
		{"040", q},           // ambient light
		{"080", off},         // unrecognised sensor
		{"100", 0},           // reserved
		{"200", 0},           // reserved
		{"400", q},           // low signal IQ
		{"800", 0},           // Masimo SET
		{"0000828", off | q}, // search, off patient, SET
		{"1000000", 0},       // undocumented high bit
		{"fff", off | q},     // lower-case hex
	}
	for _, tt := range tests {
		t.Run(tt.exc, func(t *testing.T) {
			r, err := ParseLine([]byte("01/01/25 00:00:00 SPO2=090% BPM=--- EXC="+tt.exc), nil)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if got := r.Values[0].Status; got != tt.want {
				t.Errorf("present value status = %v, want %v", got, tt.want)
			}
			if got := r.Values[1].Status; got != tt.want|drivers.Unavailable {
				t.Errorf("dashed value status = %v, want %v", got, tt.want|drivers.Unavailable)
			}
			if r.DeviceStatus != "EXC="+tt.exc {
				t.Errorf("DeviceStatus = %q", r.DeviceStatus)
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	const ts = "01/01/25 00:00:00"
	tests := []struct {
		name   string
		line   string
		offset int
		field  string
		reason string
	}{
		{"empty", "", 0, "time", "timestamp"},
		{"garbage", "hello world", 0, "time", "timestamp"},
		{"bad date", "13/45/24 00:00:00 SPO2=099% EXC=800", 0, "time", "valid"},
		{"no space after time", ts + "SPO2=099% EXC=800", 0, "time", "timestamp"},
		{"timestamp only", ts, 17, "EXC", "no EXC"},
		{"truncated inside a value", ts + " SN=0000412345 SPO2=09", 39, "EXC", "no EXC"},
		{"truncated inside a key", ts + " SPO2=099% BP", 28, "", "KEY=VALUE"},
		{"empty key", ts + " =5 EXC=800", 18, "", "KEY=VALUE"},
		{"bad key", ts + " SP.O2=5 EXC=800", 18, "", "KEY=VALUE"},
		{"NUL byte", ts + " SPO2=0\x0099% EXC=800", 24, "", "0x0"},
		{"high byte", "\xff" + ts, 0, "", "0xff"},
		{"line feed inside", ts + " SPO2=099%\nBPM=070 EXC=800", 27, "", "0xa"},
		{"over-long", ts + " X=" + strings.Repeat("-", MaxLineLength) + " EXC=800", MaxLineLength, "", "longer"},
		{"repeated key", ts + " SPO2=099% SPO2=098% EXC=800", 28, "SPO2", "repeated"},
		{"alias repeats a key", ts + " BPM=070 PR=071 EXC=800", 26, "PR", "repeated"},
		{"known key not a number", ts + " SPO2=9x% EXC=800", 23, "SPO2", "neither"},
		{"number too long", ts + " BPM=00000000000000001 EXC=800", 22, "BPM", "neither"},
		{"not a decimal", ts + " BPM=1e2 EXC=800", 22, "BPM", "neither"},
		{"exception not hex", ts + " SPO2=099% EXC=80G", 32, "EXC", "hexadecimal"},
		{"exception too short", ts + " SPO2=099% EXC=80", 32, "EXC", "hexadecimal"},
		{"exception too long", ts + " SPO2=099% EXC=00000800", 32, "EXC", "hexadecimal"},
		{"alarm not hex", ts + " SPO2=099% ALARM=--- EXC=800", 34, "ALARM", "hexadecimal"},
		{"empty serial", ts + " SN= SPO2=099% EXC=800", 21, "SN", "serial"},
		{"no values", ts + " SN=1 ALARM=0 EXC=800", 38, "", "no values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLine([]byte(tt.line), nil)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("ParseLine error = %v, want *LineError", err)
			}
			if le.Offset != tt.offset || le.Field != tt.field || !strings.Contains(le.Reason, tt.reason) {
				t.Errorf("got %+v, want offset %d field %q reason containing %q", *le, tt.offset, tt.field, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "masimo: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseLineLocation(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	r, err := ParseLine([]byte("07/01/25 12:00:00 SPO2=099% EXC=800"), london)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 7, 1, 11, 0, 0, 0, time.UTC); !r.DeviceTime.Equal(want) {
		t.Errorf("DeviceTime = %v, want %v (BST is UTC+1)", r.DeviceTime, want)
	}
}

func TestAppendLine(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	r := drivers.Reading{
		Device:     drivers.DeviceID{Driver: "masimo", Serial: "0000100001"},
		DeviceTime: at,
		Values: []drivers.Value{
			{MDC: 150456, Value: ptr(97)},
			{MDC: 149530, Value: ptr(72)},
			{MDC: 150448, Value: ptr(3.2)},
			{MDC: 160128, Value: nil},
			{MDC: 160124, Value: ptr(0.8)},
			{Label: "DESAT", Value: nil},
			{Label: "PIDELTA", Value: ptr(-3)},
			{Label: "PIDELTA2", Value: ptr(1234.5), Unit: "%"},
		},
		DeviceStatus: "ALARM=0000 EXC=000800",
	}
	got, err := AppendLine([]byte("x"), r)
	if err != nil {
		t.Fatal(err)
	}
	want := "x03/04/26 05:06:07 SN=0000100001 SPO2=097% BPM=072 PI=03.20% SPCO=--.-% SPMET=00.8% DESAT=-- PIDELTA=-03 PIDELTA2=1234.5% ALARM=0000 EXC=000800\r\n"
	if string(got) != want {
		t.Errorf("AppendLine:\n got %q\nwant %q", got, want)
	}

	for _, bad := range []drivers.Reading{
		{DeviceTime: time.Date(2069, 1, 1, 0, 0, 0, 0, time.UTC), Values: r.Values},
		{DeviceTime: time.Time{}, Values: r.Values},
		{DeviceTime: at, Values: []drivers.Value{{MDC: 12345, Value: ptr(1)}}},
	} {
		if _, err := AppendLine(nil, bad); err == nil {
			t.Errorf("AppendLine(%v, %v) succeeded, want an error", bad.DeviceTime, bad.Values)
		}
	}
}

func TestAppendLineInvertsParseLine(t *testing.T) {
	for _, line := range []string{lineRad8, lineRad7, lineRad7Blue, lineTrend} {
		r1, err := ParseLine([]byte(line), nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := AppendLine(nil, r1)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseLine(out, nil)
		if err != nil {
			t.Fatalf("ParseLine(%q): %v", out, err)
		}
		if !sameReading(r1, r2) {
			t.Errorf("round trip of %q through %q changed the reading", line, out)
		}
	}
}

func sameReading(a, b drivers.Reading) bool {
	return a.Device == b.Device && a.DeviceTime.Equal(b.DeviceTime) &&
		a.DeviceStatus == b.DeviceStatus && reflect.DeepEqual(a.Values, b.Values)
}

// TestParseLineAllocations: a line is converted to a string once and its
// words are slices of it (ParseLine runs for every line a monitor sends,
// once a second or faster). With a string a word these lines took 15 and
// 30 allocations.
func TestParseLineAllocations(t *testing.T) {
	for _, tt := range []struct {
		line string
		max  float64
	}{{lineRad8, 7}, {lineRad7, 13}} {
		b := []byte(tt.line)
		if n := testing.AllocsPerRun(100, func() {
			if _, err := ParseLine(b, time.UTC); err != nil {
				t.Fatal(err)
			}
		}); n > tt.max {
			t.Errorf("ParseLine(%q) allocates %v times, want at most %v", tt.line, n, tt.max)
		}
	}
}
