package news2

import (
	"errors"
	"math"
	"testing"
)

// FuzzSubScore checks that any value either scores 0–3 or is refused with a
// package error, and that scores step across a band edge only at the
// chart's resolution: v and the value rounded to the chart score the same.
func FuzzSubScore(f *testing.F) {
	for _, v := range []float64{0, 8.5, 35.05, 90.4999, 92.5, 100, 219.5, -1, math.NaN(), 1e308} {
		f.Add(int(Pulse), v)
		f.Add(int(Temperature), v)
	}
	f.Fuzz(func(t *testing.T, p int, v float64) {
		param := Parameter(p)
		s, err := SubScore(param, v)
		if err != nil {
			if !errors.Is(err, ErrValue) && !errors.Is(err, ErrParameter) && !errors.Is(err, ErrNeedsBreathing) {
				t.Fatalf("SubScore(%v, %v): unexpected error %v", param, v, err)
			}
			return
		}
		if s < 0 || s > 3 {
			t.Fatalf("SubScore(%v, %v) = %d, outside 0-3", param, v, s)
		}
		if param == AirOrOxygen || param == Consciousness {
			return
		}
		units, err := charted(param, v)
		if err != nil {
			t.Fatalf("charted(%v, %v): %v after SubScore accepted it", param, v, err)
		}
		again, err := SubScore(param, chartedValue(param, units))
		if err != nil || again != s {
			t.Fatalf("SubScore(%v, %v) = %d but its charted value %v scores %d, %v", param, v, s, chartedValue(param, units), again, err)
		}
	})
}
