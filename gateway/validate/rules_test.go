package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/gateway/terminology"
)

// defaults is the table of the package documentation, written out again
// from output-standards.md §6.1 so that a change to DefaultRules is caught.
var defaults = []struct {
	name  string
	unit  string
	codes []uint32
	rng   Range
}{
	{"pulse-rate", "/min", []uint32{147842, 149514, 149530, 149546}, Range{Min: 20, Max: 300, SoftMin: 30, SoftMax: 220}},
	{"spo2", "%", []uint32{150456}, Range{Min: 50, Max: 100, SoftMin: 70, SoftMax: 100}},
	{"resp-rate", "/min", []uint32{151562, 151570, 151578, 151594}, Range{Min: 1, Max: 70, SoftMin: 5, SoftMax: 50}},
	{"bp-systolic", "mm[Hg]", []uint32{150017, 150021, 150033}, Range{Min: 40, Max: 300, SoftMin: 40, SoftMax: 300}},
	{"bp-diastolic", "mm[Hg]", []uint32{150022, 150034}, Range{Min: 10, Max: 200, SoftMin: 10, SoftMax: 200}},
	{"bp-mean", "mm[Hg]", []uint32{150023, 150035}, Range{Min: 20, Max: 250, SoftMin: 20, SoftMax: 250}},
	{"temperature", "Cel", []uint32{150344, 150364, 150368, 150392, 188420, 188424, 188428, 188452}, Range{Min: 25, Max: 45, SoftMin: 32, SoftMax: 42}},
	{"etco2", "kPa", []uint32{151708}, Range{Min: 0, Max: 20, SoftMin: 0, SoftMax: 20}},
	{"perfusion-index", "%", []uint32{150448, 150488}, Range{Min: 0.02, Max: 20, SoftMin: 0.02, SoftMax: 20}},
}

func TestDefaultRules(t *testing.T) {
	rs := DefaultRules()
	var names []string
	for _, want := range defaults {
		names = append(names, want.name)
		got, ok := rs.Rule(want.name)
		if !ok {
			t.Errorf("Rule(%q) missing", want.name)
			continue
		}
		if got.Name != want.name || got.Unit != want.unit || !slices.Equal(got.Codes, want.codes) || got.Range != want.rng {
			t.Errorf("Rule(%q) = %+v, want unit %s codes %v range %+v", want.name, got, want.unit, want.codes, want.rng)
		}
		for _, code := range want.codes {
			byCode, ok := rs.Lookup(code)
			if !ok || byCode.Name != want.name {
				t.Errorf("Lookup(%d) = %q, %v; want %q", code, byCode.Name, ok, want.name)
			}
			// The encoders must accept the canonical unit for the code.
			v, ok := terminology.Lookup(code)
			if !ok {
				t.Errorf("MDC %d (%s) is not in gateway/terminology", code, want.name)
				continue
			}
			if _, ok := v.Unit(want.unit); !ok {
				t.Errorf("terminology does not accept %s for %s", want.unit, v.Ref)
			}
		}
	}
	slices.Sort(names)
	if got := rs.Names(); !slices.Equal(got, names) {
		t.Errorf("Names() = %v, want %v", got, names)
	}
	if _, ok := rs.Lookup(150020); ok {
		t.Error("the NIBP panel code 150020 has a rule; it carries no value of its own")
	}
	if _, ok := (Rules{}).Lookup(150456); ok {
		t.Error("the zero Rules found a rule")
	}
}

// TestDefaultRulesMatchReference reads the proposal of output-standards.md
// §6.1 and checks the defaults still say what it says.
func TestDefaultRulesMatchReference(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "reference", "output-standards.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("reference %s not available (%v): the defaults are checked against the table in TestDefaultRules only", path, err)
	}
	text := string(b)
	for _, phrase := range []string{
		"HR/pulse outside 20–300", "SpO2 outside 50–100", "RR outside 1–70", "SBP outside\n  40–300",
		"DBP outside 10–200", "MAP outside 20–250", "temperature outside 25–45 °C", "(0–20 kPa)",
		"temperature <32 or >42 °C", "SpO2 < 70", "HR < 30 or > 220", "RR < 5 or > 50",
	} {
		if !strings.Contains(text, phrase) {
			t.Errorf("output-standards.md §6.1 no longer says %q: review DefaultRules", phrase)
		}
	}
}

func ptr(x float64) *float64 { return &x }

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		check map[uint32]Range // code → range after Apply
	}{
		{"an empty config keeps the defaults", Config{},
			map[uint32]Range{150456: {50, 100, 70, 100}}},
		{"a vital's soft minimum is raised", Config{Ranges: map[string]RangeConfig{"spo2": {SoftMin: ptr(88)}}},
			map[uint32]Range{150456: {50, 100, 88, 100}}},
		{"names are case-insensitive", Config{Ranges: map[string]RangeConfig{"SpO2": {SoftMin: ptr(88)}}},
			map[uint32]Range{150456: {50, 100, 88, 100}}},
		{"a vital override applies to all its codes", Config{Ranges: map[string]RangeConfig{"bp-systolic": {SoftMin: ptr(90), SoftMax: ptr(220)}}},
			map[uint32]Range{150021: {40, 300, 90, 220}, 150033: {40, 300, 90, 220}}},
		{"a RefID overrides one code only", Config{Ranges: map[string]RangeConfig{"mdc_press_bld_art_sys": {Min: ptr(30), SoftMin: ptr(30)}}},
			map[uint32]Range{150021: {40, 300, 40, 300}, 150033: {30, 300, 30, 300}}},
		{"a decimal code overrides one code only", Config{Ranges: map[string]RangeConfig{"150033": {Max: ptr(320), SoftMax: ptr(320)}}},
			map[uint32]Range{150021: {40, 300, 40, 300}, 150033: {40, 320, 40, 320}}},
		{"a code override starts from its vital's override", Config{Ranges: map[string]RangeConfig{
			"temperature":     {SoftMin: ptr(35)},
			"MDC_TEMP_AXILLA": {SoftMax: ptr(41)},
		}}, map[uint32]Range{150364: {25, 45, 35, 42}, 188452: {25, 45, 35, 41}}},
		{"zero is a bound, not a missing one", Config{Ranges: map[string]RangeConfig{"resp-rate": {Min: ptr(0)}}},
			map[uint32]Range{151562: {0, 70, 5, 50}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defaults := DefaultRules()
			rs, err := defaults.Apply(tt.cfg)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for code, want := range tt.check {
				r, _ := rs.Lookup(code)
				if r.Range != want {
					t.Errorf("Lookup(%d).Range = %+v, want %+v", code, r.Range, want)
				}
			}
			if r, _ := defaults.Lookup(150456); r.Range != (Range{50, 100, 70, 100}) {
				t.Errorf("Apply changed the rules it was called on: %+v", r.Range)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]RangeConfig
		want []string // substrings of the error
	}{
		{"unknown vital", map[string]RangeConfig{"sp02": {Min: ptr(40)}},
			[]string{"validate: ranges.sp02: unknown vital (want one of bp-diastolic, bp-mean, bp-systolic, etco2, perfusion-index, pulse-rate, resp-rate, spo2, temperature"}},
		{"code without a rule", map[string]RangeConfig{"150020": {Min: ptr(40)}}, []string{"ranges.150020: unknown vital"}},
		{"RefID without a rule", map[string]RangeConfig{"MDC_PRESS_BLD_NONINV": {Min: ptr(40)}}, []string{"ranges.MDC_PRESS_BLD_NONINV: unknown vital"}},
		{"min equal to max", map[string]RangeConfig{"spo2": {Min: ptr(100)}}, []string{"ranges.spo2: min 100 must be less than max 100"}},
		{"min above max", map[string]RangeConfig{"pulse-rate": {Min: ptr(20), Max: ptr(10)}}, []string{"ranges.pulse-rate: min 20 must be less than max 10"}},
		{"soft min below hard min", map[string]RangeConfig{"spo2": {SoftMin: ptr(40)}},
			[]string{"ranges.spo2: soft_min 40 must not be below min 50 (the soft range lies inside the hard range)"}},
		{"soft max above hard max", map[string]RangeConfig{"temperature": {SoftMax: ptr(46)}},
			[]string{"ranges.temperature: soft_max 46 must not be above max 45"}},
		{"soft range empty", map[string]RangeConfig{"resp-rate": {SoftMin: ptr(50), SoftMax: ptr(5)}},
			[]string{"ranges.resp-rate: soft_min 50 must be less than soft_max 5"}},
		{"hard max lowered below the default soft max", map[string]RangeConfig{"pulse-rate": {Max: ptr(200)}},
			[]string{"ranges.pulse-rate: soft_max 220 must not be above max 200"}},
		{"not a number", map[string]RangeConfig{"etco2": {Max: ptr(nan())}}, []string{"ranges.etco2: bounds must be finite numbers"}},
		{"a code configured twice", map[string]RangeConfig{"150033": {Max: ptr(320)}, "mdc_press_bld_art_sys": {Max: ptr(310)}},
			[]string{"ranges.mdc_press_bld_art_sys: MDC code 150033 is already configured as ranges.150033"}},
		{"a bad code override of a valid vital override", map[string]RangeConfig{"temperature": {SoftMin: ptr(35)}, "188452": {SoftMin: ptr(34), Min: ptr(36)}},
			[]string{"ranges.188452: soft_min 34 must not be below min 36"}},
		{"every error is reported", map[string]RangeConfig{"x": {}, "spo2": {SoftMax: ptr(101)}},
			[]string{"ranges.x: unknown vital", "ranges.spo2: soft_max 101 must not be above max 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := NewRules(Config{Ranges: tt.cfg})
			if err == nil {
				t.Fatalf("NewRules succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// On error the rules returned are the defaults, unchanged.
			if r, _ := rs.Lookup(150456); r.Range != (Range{50, 100, 70, 100}) {
				t.Errorf("rules returned with the error were changed: %+v", r.Range)
			}
		})
	}
}
