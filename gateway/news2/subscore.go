package news2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxValue bounds every numeric value, far above any physiological one, so
// that rounding works on small integers.
const maxValue = 1000

// band is one cell of a chart 1 row: values up to and including max (in
// units of the row's resolution) score score.
type band struct {
	max   int64
	score int
}

// open marks the last, open-ended band of a row.
const open = math.MaxInt64

// Chart 1 rows [RCP NEWS2 2017, chart 1], in the row's resolution: whole
// units, except temperature in tenths of a degree.
var (
	respRateBands   = [...]band{{8, 3}, {11, 1}, {20, 0}, {24, 2}, {open, 3}}
	spo2Scale1Bands = [...]band{{91, 3}, {93, 2}, {95, 1}, {open, 0}}
	// Scale 2 up to 92 %; from 93 % the score depends on air or oxygen.
	spo2Scale2Bands       = [...]band{{83, 3}, {85, 2}, {87, 1}, {92, 0}}
	spo2Scale2OxygenBands = [...]band{{94, 1}, {96, 2}, {open, 3}}
	systolicBands         = [...]band{{90, 3}, {100, 2}, {110, 1}, {219, 0}, {open, 3}}
	pulseBands            = [...]band{{40, 3}, {50, 1}, {90, 0}, {110, 1}, {130, 2}, {open, 3}}
	temperatureBands      = [...]band{{350, 3}, {360, 1}, {380, 0}, {390, 1}, {open, 2}}
)

// lookup returns the score of the band holding units.
func lookup(bands []band, units int64) int {
	for _, b := range bands {
		if units <= b.max {
			return b.score
		}
	}
	// Unreachable for rows ending in an open band.
	return bands[len(bands)-1].score
}

// SubScore returns the chart 1 sub-score (0–3) of value v of parameter p.
//
// Numeric values are rounded half up to the chart's resolution first: whole
// numbers for respiration rate, SpO2, systolic pressure and pulse, one
// decimal place for temperature (see the package documentation). For
// Consciousness v is an [ACVPU] level and for AirOrOxygen a [Breathing],
// converted to float64.
//
// A Scale 2 SpO2 that rounds to 93 % or more scores by air or oxygen;
// SubScore returns ErrNeedsBreathing for it, and [Scale2SubScore] scores
// it. Values that cannot be scored return an error wrapping ErrValue.
func SubScore(p Parameter, v float64) (int, error) {
	switch p {
	case AirOrOxygen:
		b, err := breathingOf(v)
		if err != nil {
			return 0, err
		}
		return breathingScore(b), nil
	case Consciousness:
		c, err := acvpuOf(v)
		if err != nil {
			return 0, err
		}
		return acvpuScore(c), nil
	}
	units, err := charted(p, v)
	if err != nil {
		return 0, err
	}
	switch p {
	case RespRate:
		return lookup(respRateBands[:], units), nil
	case SpO2Scale1:
		return lookup(spo2Scale1Bands[:], units), nil
	case SpO2Scale2:
		if units > 92 {
			return 0, fmt.Errorf("%w (SpO2 %v)", ErrNeedsBreathing, v)
		}
		return lookup(spo2Scale2Bands[:], units), nil
	case SystolicBP:
		return lookup(systolicBands[:], units), nil
	case Pulse:
		return lookup(pulseBands[:], units), nil
	case Temperature:
		return lookup(temperatureBands[:], units), nil
	}
	return 0, fmt.Errorf("%w: %v", ErrParameter, p)
}

// Scale2SubScore returns the chart 1 SpO2 Scale 2 sub-score of saturation
// spo2 (percent, rounded half up to a whole number) for a patient on air or
// on oxygen: at 93 % or more, air scores 0 and oxygen scores 1 (93–94),
// 2 (95–96) or 3 (97 and above).
func Scale2SubScore(spo2 float64, on Breathing) (int, error) {
	if on != Air && on != Oxygen {
		return 0, fmt.Errorf("%w: air or oxygen %v", ErrValue, on)
	}
	units, err := charted(SpO2Scale2, spo2)
	if err != nil {
		return 0, err
	}
	switch {
	case units <= 92:
		return lookup(spo2Scale2Bands[:], units), nil
	case on == Air:
		return 0, nil
	default:
		return lookup(spo2Scale2OxygenBands[:], units), nil
	}
}

// breathingScore scores chart 1's "Air or oxygen?" row.
func breathingScore(b Breathing) int {
	if b == Oxygen {
		return 2
	}
	return 0
}

// acvpuScore scores chart 1's consciousness row: Alert 0, CVPU 3.
func acvpuScore(c ACVPU) int {
	if c == Alert {
		return 0
	}
	return 3
}

func breathingOf(v float64) (Breathing, error) {
	b := Breathing(v)
	if float64(b) == v && (b == Air || b == Oxygen) {
		return b, nil
	}
	return 0, fmt.Errorf("%w: air-or-oxygen %v is not air or oxygen", ErrValue, v)
}

func acvpuOf(v float64) (ACVPU, error) {
	c := ACVPU(v)
	if float64(c) == v && c >= Alert && c <= Unresponsive {
		return c, nil
	}
	return 0, fmt.Errorf("%w: consciousness %v is not an ACVPU level", ErrValue, v)
}

// resolution returns the number of decimal places chart 1 uses for p.
func resolution(p Parameter) int {
	if p == Temperature {
		return 1
	}
	return 0
}

// charted checks v and rounds it half up to p's chart resolution, returning
// it as a count of resolution units (tenths of a degree for temperature).
func charted(p Parameter, v float64) (int64, error) {
	if !p.valid() || p == AirOrOxygen || p == Consciousness {
		return 0, fmt.Errorf("%w: %v", ErrParameter, p)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > maxValue {
		return 0, fmt.Errorf("%w: %v %v", ErrValue, p, v)
	}
	if (p == SpO2Scale1 || p == SpO2Scale2) && v > 100 {
		return 0, fmt.Errorf("%w: %v %v above 100%%", ErrValue, p, v)
	}
	return roundHalfUp(v, resolution(p)), nil
}

// roundHalfUp rounds the non-negative v half up to decimals places and
// returns it scaled by 10^decimals. It works on the shortest decimal form
// of v, the digits a device sent, so 38.05 rounds to 38.1 although its
// binary value is slightly below 38.05. v must be in [0, maxValue].
func roundHalfUp(v float64, decimals int) int64 {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) <= decimals {
		frac += "0"
	}
	// whole and frac are decimal digits by construction; at most a few
	// digits, so no overflow.
	n, _ := strconv.ParseInt(whole+frac[:decimals], 10, 64)
	if frac[decimals] >= '5' {
		n++
	}
	return n
}

// chartedValue returns v rounded to p's chart resolution, as a float64.
func chartedValue(p Parameter, units int64) float64 {
	if resolution(p) == 1 {
		return float64(units) / 10
	}
	return float64(units)
}
