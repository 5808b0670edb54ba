package drivers_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers"
)

// flags lists every status flag with its documented name.
var flags = []struct {
	flag drivers.Status
	name string
}{
	{drivers.Unavailable, "unavailable"},
	{drivers.Invalid, "invalid"},
	{drivers.Questionable, "questionable"},
	{drivers.SensorOff, "sensor-off"},
	{drivers.Demo, "demo"},
	{drivers.Calibrating, "calibrating"},
	{drivers.OutOfRange, "out-of-range"},
	{drivers.AlarmActive, "alarm"},
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    drivers.Status
		want string
	}{
		{0, "ok"},
		{drivers.SensorOff | drivers.Invalid, "invalid|sensor-off"},
		{drivers.Unavailable | drivers.Questionable | drivers.AlarmActive, "unavailable|questionable|alarm"},
		{drivers.Demo | drivers.Calibrating | drivers.OutOfRange, "demo|calibrating|out-of-range"},
		{1 << 8, "unknown"},
		{1<<31 | 1<<9, "unknown"},
		{drivers.Questionable | 1<<12, "questionable|unknown"},
	}
	for _, f := range flags {
		tests = append(tests, struct {
			s    drivers.Status
			want string
		}{f.flag, f.name})
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Status(%#x).String() = %q, want %q", uint32(tt.s), got, tt.want)
		}
	}
}

func TestStatusStringOrdersFlagsFromLeastSevere(t *testing.T) {
	var all drivers.Status
	var names []string
	for _, f := range flags {
		all |= f.flag
		names = append(names, f.name)
	}
	if got, want := all.String(), strings.Join(names, "|"); got != want {
		t.Errorf("all flags: String() = %q, want %q", got, want)
	}
}

// TestStatusTextRoundTrip marshals every combination of the known flags and
// checks that UnmarshalText gives back the same status.
func TestStatusTextRoundTrip(t *testing.T) {
	for combo := range 1 << len(flags) {
		var s drivers.Status
		for i, f := range flags {
			if combo&(1<<i) != 0 {
				s |= f.flag
			}
		}
		text, err := s.MarshalText()
		if err != nil {
			t.Fatalf("Status(%#x).MarshalText: %v", uint32(s), err)
		}
		if string(text) != s.String() {
			t.Errorf("Status(%#x).MarshalText = %q, want String() %q", uint32(s), text, s.String())
		}
		got := drivers.Status(0xffff) // UnmarshalText must overwrite, not merge
		if err := got.UnmarshalText(text); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", text, err)
		}
		if got != s {
			t.Errorf("UnmarshalText(%q) = %#x, want %#x", text, uint32(got), uint32(s))
		}
	}
}

// TestStatusUnknownBitsRoundTrip: bits no flag names survive MarshalText
// and UnmarshalText (a held reading is stored as JSON and read back), while
// String still calls them "unknown".
func TestStatusUnknownBitsRoundTrip(t *testing.T) {
	for _, s := range []drivers.Status{1 << 8, 1 << 31, drivers.Questionable | 1<<12 | 1<<20} {
		text, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got drivers.Status
		if err := got.UnmarshalText(text); err != nil || got != s {
			t.Errorf("Status(%#x): MarshalText %q, UnmarshalText = %#x, %v", uint32(s), text, uint32(got), err)
		}
		if !strings.Contains(s.String(), "unknown") {
			t.Errorf("Status(%#x).String() = %q, want it to say unknown", uint32(s), s.String())
		}
	}
}

func TestStatusUnmarshalText(t *testing.T) {
	tests := []struct {
		text    string
		want    drivers.Status
		wantErr bool   // UnmarshalText must fail with a *StatusError
		badFlag string // the StatusError's Text
	}{
		{text: "ok", want: 0},
		{text: "", want: 0},
		{text: "sensor-off|invalid", want: drivers.SensorOff | drivers.Invalid}, // any order
		{text: "demo|demo", want: drivers.Demo},
		{text: "alarm", want: drivers.AlarmActive},
		{text: "bogus", wantErr: true, badFlag: "bogus"},
		{text: "questionable|low-battery", wantErr: true, badFlag: "low-battery"},
		{text: "Questionable", wantErr: true, badFlag: "Questionable"}, // names are case sensitive
		{text: "questionable|", wantErr: true, badFlag: ""},            // an empty part is not a flag
		{text: "ok|demo", wantErr: true, badFlag: "ok"},                // "ok" only stands alone
		{text: "unknown", wantErr: true, badFlag: "unknown"},           // String's name for unknown bits is not a flag
		{text: "0x400", want: drivers.Status(0x400)},                   // bits no flag names, as MarshalText writes them
		{text: "demo|0x300", want: drivers.Demo | drivers.Status(0x300)},
		{text: "0x1", wantErr: true, badFlag: "0x1"}, // a named flag is written by name
		{text: "0x0", wantErr: true, badFlag: "0x0"},
		{text: "0xzz", wantErr: true, badFlag: "0xzz"},
	}
	for _, tt := range tests {
		var s drivers.Status
		err := s.UnmarshalText([]byte(tt.text))
		if !tt.wantErr {
			if err != nil {
				t.Errorf("UnmarshalText(%q): %v", tt.text, err)
			} else if s != tt.want {
				t.Errorf("UnmarshalText(%q) = %v, want %v", tt.text, s, tt.want)
			}
			continue
		}
		var se *drivers.StatusError
		if !errors.As(err, &se) {
			t.Errorf("UnmarshalText(%q) error = %v, want a *StatusError", tt.text, err)
			continue
		}
		if se.Text != tt.badFlag {
			t.Errorf("UnmarshalText(%q): StatusError.Text = %q, want %q", tt.text, se.Text, tt.badFlag)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "drivers: ") || !strings.Contains(msg, `"`+tt.badFlag+`"`) {
			t.Errorf("UnmarshalText(%q) error %q: want a drivers: prefix and the quoted flag", tt.text, msg)
		}
	}
}

// TestValueJSON checks that a Value's status travels as its text form and
// that a missing number is null.
func TestValueJSON(t *testing.T) {
	tests := []struct {
		v         drivers.Value
		wantValue string // the JSON of "value"
		wantState string // the JSON of "status"
	}{
		{
			v:         drivers.Value{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Value: drivers.Float(97), Unit: "%"},
			wantValue: "97", wantState: `"ok"`,
		},
		{
			v:         drivers.Value{MDC: 149530, Label: "BPM", Unit: "/min", Status: drivers.Unavailable | drivers.SensorOff},
			wantValue: "null", wantState: `"unavailable|sensor-off"`,
		},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", tt.v, err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if got := string(raw["value"]); got != tt.wantValue {
			t.Errorf("%s: value = %s, want %s", b, got, tt.wantValue)
		}
		if got := string(raw["status"]); got != tt.wantState {
			t.Errorf("%s: status = %s, want %s", b, got, tt.wantState)
		}
		var back drivers.Value
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if back.MDC != tt.v.MDC || back.Ref != tt.v.Ref || back.Label != tt.v.Label || back.Unit != tt.v.Unit ||
			back.Status != tt.v.Status || (back.Value == nil) != (tt.v.Value == nil) ||
			back.Value != nil && *back.Value != *tt.v.Value {
			t.Errorf("JSON round trip of %+v gave %+v", tt.v, back)
		}
	}

	var v drivers.Value
	err := json.Unmarshal([]byte(`{"mdc":1,"value":1,"unit":"%","status":"questionable|nonsense"}`), &v)
	var se *drivers.StatusError
	if !errors.As(err, &se) || se.Text != "nonsense" {
		t.Errorf("Unmarshal with an unknown status flag: error %v, want a StatusError for \"nonsense\"", err)
	}
}

func TestFloat(t *testing.T) {
	a, b := drivers.Float(1.5), drivers.Float(1.5)
	if *a != 1.5 || *b != 1.5 {
		t.Fatalf("Float(1.5) = %v, %v", *a, *b)
	}
	if a == b {
		t.Error("Float returned the same pointer twice")
	}
	*a = 2
	if *b != 1.5 {
		t.Error("changing one Float changed another")
	}
}
