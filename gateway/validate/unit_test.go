package validate

import (
	"errors"
	"math"
	"testing"
)

func nan() float64 { return math.NaN() }

func TestConvert(t *testing.T) {
	tests := []struct {
		name      string
		v         float64
		from, to  string
		want      float64
		statement string
	}{
		// 1 mm[Hg] = 133.322387415 Pa: 16 kPa = 120.0098 mm[Hg].
		{"kPa to mm[Hg]", 16, "kPa", "mm[Hg]", 120.0, "1 kPa = 7.50061683 mm[Hg]"},
		{"one kPa to mm[Hg] rounds to 0.1", 1, "kPa", "mm[Hg]", 7.5, "1 kPa = 7.50061683 mm[Hg]"},
		{"the definition is exact", 13.3322387415, "kPa", "mm[Hg]", 100, "1 kPa = 7.50061683 mm[Hg]"},
		{"20 kPa to mm[Hg]", 20, "kPa", "mm[Hg]", 150.0, "1 kPa = 7.50061683 mm[Hg]"},
		{"mm[Hg] to kPa rounds to 0.01", 38, "mm[Hg]", "kPa", 5.07, "1 mm[Hg] = 0.133322387 kPa"}, // 5.0662507
		{"40 mm[Hg] to kPa", 40, "mm[Hg]", "kPa", 5.33, "1 mm[Hg] = 0.133322387 kPa"},             // 5.3328955
		{"150 mm[Hg] to kPa", 150, "mm[Hg]", "kPa", 20.0, "1 mm[Hg] = 0.133322387 kPa"},           // 19.998358
		{"body temperature in [degF]", 98.6, "[degF]", "Cel", 37, "Cel = ([degF] - 32) × 5/9"},
		{"fever in [degF]", 100.4, "[degF]", "Cel", 38, "Cel = ([degF] - 32) × 5/9"},
		{"[degF] rounds to 0.01", 99.1, "[degF]", "Cel", 37.28, "Cel = ([degF] - 32) × 5/9"}, // 37.2777…
		{"freezing in [degF]", 32, "[degF]", "Cel", 0, "Cel = ([degF] - 32) × 5/9"},
		{"kelvin", 310.15, "K", "Cel", 37, "Cel = K - 273.15"},
		{"a fraction to percent", 0.97, "1", "%", 97, "fraction 1 = 100 %"},
		{"a fraction rounds to 0.1 %", 0.9649, "1", "%", 96.5, "fraction 1 = 100 %"},
		{"annotated beats per minute, not rounded", 72.25, "{beats}/min", "/min", 72.25, "{beats}/min = /min"},
		{"annotated breaths per minute", 16, "{breaths}/min", "/min", 16, "{breaths}/min = /min"},
		{"1/min is not rounded", 72.25, "1/min", "/min", 72.25, "1/min = /min"},
		{"the canonical unit is not rounded", 120.123, "mm[Hg]", "mm[Hg]", 120.123, ""},
		{"percent is never taken for a fraction", 0.97, "%", "%", 0.97, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, statement, err := Convert(tt.v, tt.from, tt.to)
			if err != nil {
				t.Fatalf("Convert(%v, %q, %q): %v", tt.v, tt.from, tt.to, err)
			}
			if got != tt.want || statement != tt.statement {
				t.Errorf("Convert(%v, %q, %q) = %v, %q; want %v, %q", tt.v, tt.from, tt.to, got, statement, tt.want, tt.statement)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		from, to string
		want     string
	}{
		{"mmHg", "mm[Hg]", "validate: unit mmHg not convertible to mm[Hg]"}, // not UCUM
		{"MM[HG]", "mm[Hg]", "validate: unit MM[HG] not convertible to mm[Hg]"},
		{"", "%", `validate: unit "" not convertible to %`},
		{"%", "/min", "validate: unit % not convertible to /min"},
		{"bpm", "/min", "validate: unit bpm not convertible to /min"},
		{"{beats}/s", "/min", "validate: unit {beats}/s not convertible to /min"},
		{"{a}{b}/min", "/min", "validate: unit {a}{b}/min not convertible to /min"},
		{"Cel", "[degF]", "validate: unit Cel not convertible to [degF]"}, // no canonical unit is [degF]
		{"mm[Hg]", "Cel", "validate: unit mm[Hg] not convertible to Cel"},
	}
	for _, tt := range tests {
		_, _, err := Convert(1, tt.from, tt.to)
		var ue *UnitError
		if !errors.As(err, &ue) || ue.From != tt.from || ue.To != tt.to {
			t.Errorf("Convert(1, %q, %q) error = %v, want a *UnitError", tt.from, tt.to, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Convert(1, %q, %q) error = %q, want %q", tt.from, tt.to, err, tt.want)
		}
	}
}
