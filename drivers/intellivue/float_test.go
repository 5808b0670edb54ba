package intellivue

import (
	"math"
	"testing"
)

func TestFloatVectors(t *testing.T) {
	var v struct {
		Decode []struct {
			Hex      string  `json:"hex"`
			Exponent int     `json:"exponent"`
			Mantissa int     `json:"mantissa"`
			Value    float64 `json:"value"`
		} `json:"decode_vectors"`
		Derived struct {
			Vectors []struct {
				Hex      string  `json:"hex"`
				Exponent int     `json:"exponent"`
				Mantissa int     `json:"mantissa"`
				Value    float64 `json:"value"`
			} `json:"vectors"`
		} `json:"derived_vectors"`
		Roundtrip struct {
			Values    []float64 `json:"values"`
			Tolerance float64   `json:"relative_tolerance"`
		} `json:"roundtrip"`
		SpecialRoundtrip struct {
			Values []string `json:"values"`
		} `json:"special_roundtrip"`
		Specials struct {
			Vectors []struct {
				Hex     string `json:"hex"`
				Meaning string `json:"meaning"`
			} `json:"vectors"`
		} `json:"special_values"`
	}
	decodeJSON(t, readVector(t, "float.json"), &v)
	cases := append(v.Decode, v.Derived.Vectors...)
	if len(cases) < 10 {
		t.Fatalf("only %d decode vectors", len(cases))
	}
	for _, tt := range cases {
		f := Float(parseHex(t, tt.Hex))
		if f.Exponent() != tt.Exponent || f.Mantissa() != tt.Mantissa || f.Special() != NotSpecial {
			t.Errorf("%s: e=%d m=%d special=%v, want e=%d m=%d", tt.Hex, f.Exponent(), f.Mantissa(), f.Special(), tt.Exponent, tt.Mantissa)
		}
		if got := f.Float64(); got != tt.Value {
			t.Errorf("%s: Float64() = %v, want exactly %v", tt.Hex, got, tt.Value)
		}
		if back := NewFloat(tt.Value).Float64(); back != tt.Value {
			t.Errorf("NewFloat(%v) decodes as %v", tt.Value, back)
		}
	}
	for _, x := range v.Roundtrip.Values {
		got := NewFloat(x).Float64()
		if x == 0 && got != 0 || math.Abs(got-x) > v.Roundtrip.Tolerance*math.Abs(x) {
			t.Errorf("NewFloat(%v) decodes as %v", x, got)
		}
	}
	specials := map[string]Float{"NaN": FloatNaN, "NRes": FloatNRes, "+INF": FloatPosInf, "-INF": FloatNegInf}
	for _, tt := range v.Specials.Vectors {
		f := Float(parseHex(t, tt.Hex))
		if f.Special().String() != tt.Meaning || f != specials[tt.Meaning] {
			t.Errorf("%s: special %q, want %q", tt.Hex, f.Special(), tt.Meaning)
		}
	}
	inputs := map[string]float64{"NaN": math.NaN(), "+INF": math.Inf(1), "-INF": math.Inf(-1)}
	for _, name := range v.SpecialRoundtrip.Values {
		if got := NewFloat(inputs[name]).Special().String(); got != name {
			t.Errorf("NewFloat(%s) is special %q", name, got)
		}
	}
}

func TestFloatExponentIsTheHighByte(t *testing.T) {
	// 0x01000002: exponent 1, mantissa 2 = 20. Reading the exponent from
	// the low byte would give 2·10^... something else entirely.
	if got := Float(0x01000002).Float64(); got != 20 {
		t.Errorf("Float(0x01000002) = %v, want 20", got)
	}
	if got := Float(0xFF00000F).Float64(); got != 1.5 {
		t.Errorf("Float(0xFF00000F) = %v, want 1.5", got)
	}
}

func TestNewFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want Float
	}{
		{60, 0x0000003C},
		{-0.9, 0xFFFFFFF7},
		{0.43, 0xFE00002B},
		{98.6, 0xFF0003DA},
		{1e-300, 0},
		{1e300, FloatPosInf},
		{-1e300, FloatNegInf},
		{12345678, 0x0112D688}, // 1234568·10^1: the mantissa is bounded
		{8388607, 0x010CCCCD},  // 8388607 with e=0 would be NaN, so 838861·10^1
	}
	for _, tt := range tests {
		if got := NewFloat(tt.in); got != tt.want {
			t.Errorf("NewFloat(%v) = %#08x, want %#08x", tt.in, uint32(got), uint32(tt.want))
		}
	}
	if s := NewFloat(math.NaN()).Special(); s != SpecialNaN {
		t.Errorf("NewFloat(NaN) special %v", s)
	}
	if !math.IsNaN(FloatNRes.Float64()) || !math.IsInf(FloatNegInf.Float64(), -1) {
		t.Error("specials do not decode to NaN / -Inf")
	}
}
