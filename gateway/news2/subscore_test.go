package news2

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// edgeCase is one golden value of chart 1: the band edge itself or one of
// its neighbours at the chart's resolution.
type edgeCase struct {
	v    float64
	want int
}

// Golden band edges of RCP NEWS2 chart 1, written out by hand from the chart
// (each edge, the value on each side of it, and the extremes).
var chartEdges = map[Parameter][]edgeCase{
	RespRate: {
		{0, 3}, {7, 3}, {8, 3}, // ≤8 → 3
		{9, 1}, {10, 1}, {11, 1}, // 9–11 → 1
		{12, 0}, {16, 0}, {20, 0}, // 12–20 → 0
		{21, 2}, {22, 2}, {24, 2}, // 21–24 → 2
		{25, 3}, {26, 3}, {60, 3}, // ≥25 → 3
	},
	SpO2Scale1: {
		{0, 3}, {90, 3}, {91, 3}, // ≤91 → 3
		{92, 2}, {93, 2}, // 92–93 → 2
		{94, 1}, {95, 1}, // 94–95 → 1
		{96, 0}, {97, 0}, {100, 0}, // ≥96 → 0
	},
	SystolicBP: {
		{0, 3}, {89, 3}, {90, 3}, // ≤90 → 3
		{91, 2}, {100, 2}, // 91–100 → 2
		{101, 1}, {110, 1}, // 101–110 → 1
		{111, 0}, {120, 0}, {218, 0}, {219, 0}, // 111–219 → 0
		{220, 3}, {221, 3}, {300, 3}, // ≥220 → 3
	},
	Pulse: {
		{0, 3}, {39, 3}, {40, 3}, // ≤40 → 3
		{41, 1}, {50, 1}, // 41–50 → 1
		{51, 0}, {90, 0}, // 51–90 → 0
		{91, 1}, {110, 1}, // 91–110 → 1
		{111, 2}, {130, 2}, // 111–130 → 2
		{131, 3}, {132, 3}, {250, 3}, // ≥131 → 3
	},
	Temperature: {
		{30, 3}, {34.9, 3}, {35.0, 3}, // ≤35.0 → 3
		{35.1, 1}, {35.5, 1}, {36.0, 1}, // 35.1–36.0 → 1
		{36.1, 0}, {37.0, 0}, {38.0, 0}, // 36.1–38.0 → 0
		{38.1, 1}, {38.5, 1}, {39.0, 1}, // 38.1–39.0 → 1
		{39.1, 2}, {39.2, 2}, {42.0, 2}, // ≥39.1 → 2
	},
	SpO2Scale2: { // only the part that does not depend on air or oxygen
		{0, 3}, {82, 3}, {83, 3}, // ≤83 → 3
		{84, 2}, {85, 2}, // 84–85 → 2
		{86, 1}, {87, 1}, // 86–87 → 1
		{88, 0}, {90, 0}, {92, 0}, // 88–92 → 0
	},
	AirOrOxygen: {
		{float64(Air), 0}, {float64(Oxygen), 2},
	},
	Consciousness: {
		{float64(Alert), 0}, {float64(Confusion), 3}, {float64(Voice), 3},
		{float64(Pain), 3}, {float64(Unresponsive), 3},
	},
}

func TestSubScoreChartEdges(t *testing.T) {
	for _, p := range Parameters() {
		cases := chartEdges[p]
		if len(cases) == 0 {
			t.Fatalf("no golden cases for %v", p)
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v=%v", p, c.v), func(t *testing.T) {
				got, err := SubScore(p, c.v)
				if err != nil {
					t.Fatalf("SubScore(%v, %v): %v", p, c.v, err)
				}
				if got != c.want {
					t.Errorf("SubScore(%v, %v) = %d, want %d", p, c.v, got, c.want)
				}
			})
		}
	}
}

func TestScale2SubScoreAirAndOxygen(t *testing.T) {
	tests := []struct {
		spo2        float64
		air, oxygen int
	}{
		{0, 3, 3}, {82, 3, 3}, {83, 3, 3},
		{84, 2, 2}, {85, 2, 2},
		{86, 1, 1}, {87, 1, 1},
		{88, 0, 0}, {91, 0, 0}, {92, 0, 0},
		{93, 0, 1}, {94, 0, 1}, // 93–94 on oxygen → 1
		{95, 0, 2}, {96, 0, 2}, // 95–96 on oxygen → 2
		{97, 0, 3}, {98, 0, 3}, {100, 0, 3}, // ≥97 on oxygen → 3
		// Rounding at the air/oxygen split.
		{92.4, 0, 0}, {92.5, 0, 1}, {94.5, 0, 2}, {96.49, 0, 2}, {96.5, 0, 3},
		{83.5, 2, 2}, {87.5, 0, 0},
	}
	for _, tt := range tests {
		for _, on := range []struct {
			b    Breathing
			want int
		}{{Air, tt.air}, {Oxygen, tt.oxygen}} {
			t.Run(fmt.Sprintf("%v%% on %v", tt.spo2, on.b), func(t *testing.T) {
				got, err := Scale2SubScore(tt.spo2, on.b)
				if err != nil {
					t.Fatalf("Scale2SubScore(%v, %v): %v", tt.spo2, on.b, err)
				}
				if got != on.want {
					t.Errorf("Scale2SubScore(%v, %v) = %d, want %d", tt.spo2, on.b, got, on.want)
				}
			})
		}
	}
}

func TestSubScoreScale2NeedsBreathingAbove92(t *testing.T) {
	for _, v := range []float64{92.5, 93, 95, 100} {
		if _, err := SubScore(SpO2Scale2, v); !errors.Is(err, ErrNeedsBreathing) {
			t.Errorf("SubScore(SpO2Scale2, %v) error = %v, want ErrNeedsBreathing", v, err)
		}
	}
}

// The rounding rule: half up to the chart's resolution, on the decimal
// digits of the value.
func TestSubScoreRounding(t *testing.T) {
	tests := []struct {
		name string
		p    Parameter
		v    float64
		want int
	}{
		{"pulse 90.4 rounds down into 51-90", Pulse, 90.4, 0},
		{"pulse 90.49 rounds down into 51-90", Pulse, 90.49, 0},
		{"pulse 90.5 rounds up into 91-110", Pulse, 90.5, 1},
		{"pulse 40.4 stays at 40", Pulse, 40.4, 3},
		{"pulse 40.5 rounds to 41", Pulse, 40.5, 1},
		{"pulse 130.5 rounds to 131", Pulse, 130.5, 3},
		{"resp rate 8.49 stays at 8", RespRate, 8.49, 3},
		{"resp rate 8.5 rounds to 9", RespRate, 8.5, 1},
		{"resp rate 11.5 rounds to 12", RespRate, 11.5, 0},
		{"resp rate 20.5 rounds to 21", RespRate, 20.5, 2},
		{"resp rate 24.5 rounds to 25", RespRate, 24.5, 3},
		{"spo2 91.4 stays at 91", SpO2Scale1, 91.4, 3},
		{"spo2 91.5 rounds to 92", SpO2Scale1, 91.5, 2},
		{"spo2 95.5 rounds to 96", SpO2Scale1, 95.5, 0},
		{"systolic 90.5 rounds to 91", SystolicBP, 90.5, 2},
		{"systolic 110.5 rounds to 111", SystolicBP, 110.5, 0},
		{"systolic 219.4 stays at 219", SystolicBP, 219.4, 0},
		{"systolic 219.5 rounds to 220", SystolicBP, 219.5, 3},
		{"temperature 35.04 stays at 35.0", Temperature, 35.04, 3},
		{"temperature 35.05 rounds to 35.1", Temperature, 35.05, 1},
		{"temperature 36.05 rounds to 36.1", Temperature, 36.05, 0},
		{"temperature 38.04 stays at 38.0", Temperature, 38.04, 0},
		{"temperature 38.05 rounds to 38.1", Temperature, 38.05, 1},
		{"temperature 39.049 stays at 39.0", Temperature, 39.049, 1},
		{"temperature 39.05 rounds to 39.1", Temperature, 39.05, 2},
		{"temperature 36.0 plus float noise stays at 36.0", Temperature, 35.9 + 0.1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SubScore(tt.p, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SubScore(%v, %v) = %d, want %d", tt.p, tt.v, got, tt.want)
			}
		})
	}
}

func TestRoundHalfUp(t *testing.T) {
	tests := []struct {
		v        float64
		decimals int
		want     int64
	}{
		{0, 0, 0}, {0.5, 0, 1}, {0.49999, 0, 0}, {90.5, 0, 91}, {1000, 0, 1000},
		{38.05, 1, 381}, {38.04999, 1, 380}, {38, 1, 380}, {0.05, 1, 1}, {1e-9, 1, 0},
		{99.95, 1, 1000}, {35.9 + 0.1, 1, 360},
	}
	for _, tt := range tests {
		if got := roundHalfUp(tt.v, tt.decimals); got != tt.want {
			t.Errorf("roundHalfUp(%v, %d) = %d, want %d", tt.v, tt.decimals, got, tt.want)
		}
	}
}

func TestSubScoreRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Parameter
		v    float64
		want error
	}{
		{"NaN pulse", Pulse, math.NaN(), ErrValue},
		{"infinite resp rate", RespRate, math.Inf(1), ErrValue},
		{"negative systolic", SystolicBP, -1, ErrValue},
		{"negative temperature", Temperature, -0.1, ErrValue},
		{"huge pulse", Pulse, 1e300, ErrValue},
		{"spo2 above 100", SpO2Scale1, 100.1, ErrValue},
		{"scale 2 spo2 above 100", SpO2Scale2, 101, ErrValue},
		{"unknown ACVPU level", Consciousness, 6, ErrValue},
		{"zero ACVPU level", Consciousness, 0, ErrValue},
		{"fractional ACVPU level", Consciousness, 1.5, ErrValue},
		{"zero air or oxygen", AirOrOxygen, 0, ErrValue},
		{"fractional air or oxygen", AirOrOxygen, 1.2, ErrValue},
		{"zero parameter", Parameter(0), 1, ErrParameter},
		{"parameter past the chart", Temperature + 1, 1, ErrParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SubScore(tt.p, tt.v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("SubScore(%v, %v) = %d, %v; want error %v", tt.p, tt.v, got, err, tt.want)
			}
		})
	}
	if _, err := Scale2SubScore(95, Breathing(0)); !errors.Is(err, ErrValue) {
		t.Errorf("Scale2SubScore with zero Breathing: error = %v, want ErrValue", err)
	}
	if _, err := Scale2SubScore(math.NaN(), Air); !errors.Is(err, ErrValue) {
		t.Errorf("Scale2SubScore(NaN): error = %v, want ErrValue", err)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{RespRate.String(), "resp-rate"},
		{SpO2Scale2.String(), "spo2-scale2"},
		{Parameter(0).String(), "Parameter(0)"},
		{Oxygen.String(), "oxygen"},
		{Breathing(9).String(), "Breathing(9)"},
		{Confusion.String(), "C"},
		{Unresponsive.String(), "U"},
		{ACVPU(0).String(), "ACVPU(0)"},
		{BandLowMedium.String(), "low-medium"},
		{Band(0).String(), "Band(0)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}
