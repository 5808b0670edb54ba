package scenario

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, name string, seed int64) *Engine {
	t.Helper()
	e, err := New(name, seed)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// times are every 7 s over 45 minutes.
func times() []time.Duration {
	var ts []time.Duration
	for d := time.Duration(0); d <= 45*time.Minute; d += 7 * time.Second {
		ts = append(ts, d)
	}
	return ts
}

func TestNewUnknown(t *testing.T) {
	_, err := New("asystole", 1)
	if err == nil {
		t.Fatal("New of an unknown scenario succeeded")
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			a, b := mustNew(t, name, 42), mustNew(t, name, 42)
			ts := times()
			want := make([]Vitals, len(ts))
			for i, d := range ts {
				want[i] = a.At(d)
			}
			// Ask a second engine in a shuffled order: same answers.
			order := rand.New(rand.NewPCG(1, 2)).Perm(len(ts))
			for _, i := range order {
				if got := b.At(ts[i]); got != want[i] {
					t.Fatalf("At(%v) = %+v, want %+v", ts[i], got, want[i])
				}
			}
		})
	}
}

func TestSeedsDiffer(t *testing.T) {
	for _, name := range Names() {
		a, b := mustNew(t, name, 1), mustNew(t, name, 2)
		same := 0
		for _, d := range times() {
			if a.At(d).SpO2 == b.At(d).SpO2 {
				same++
			}
		}
		if same > len(times())/10 {
			t.Errorf("%s: seeds 1 and 2 give the same SpO2 %d times", name, same)
		}
	}
}

func TestRanges(t *testing.T) {
	for _, name := range Names() {
		for seed := int64(1); seed <= 5; seed++ {
			e := mustNew(t, name, seed)
			for _, d := range append(times(), -time.Second, 24*time.Hour) {
				v := e.At(d)
				checks := []struct {
					what      string
					x, lo, hi float64
				}{
					{"SpO2", v.SpO2, 50, 100},
					{"PulseRate", v.PulseRate, 30, 220},
					{"HeartRate", v.HeartRate, 30, 220},
					{"PerfusionIndex", v.PerfusionIndex, 0.02, 20},
					{"RespRate", v.RespRate, 4, 60},
					{"SysBP", v.SysBP, 50, 250},
					{"DiaBP", v.DiaBP, 25, 150},
					{"TempC", v.TempC, 33, 42},
					{"EtCO2", v.EtCO2, 10, 80},
				}
				for _, c := range checks {
					if !(c.x >= c.lo && c.x <= c.hi) {
						t.Fatalf("%s seed %d at %v: %s = %v outside %v..%v", name, seed, d, c.what, c.x, c.lo, c.hi)
					}
				}
				if !(v.DiaBP < v.MeanBP && v.MeanBP < v.SysBP) {
					t.Fatalf("%s seed %d at %v: BP %v/%v mean %v not ordered", name, seed, d, v.SysBP, v.DiaBP, v.MeanBP)
				}
			}
		}
	}
}

// count returns how many of the times satisfy f.
func count(e *Engine, f func(Vitals) bool) int {
	n := 0
	for _, d := range times() {
		if f(e.At(d)) {
			n++
		}
	}
	return n
}

func TestStable(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		e := mustNew(t, "stable", seed)
		if n := count(e, func(v Vitals) bool { return v.SensorOff || v.NoSignal || v.Artefact }); n != 0 {
			t.Errorf("seed %d: %d flagged instants in a stable run", seed, n)
		}
		if n := count(e, func(v Vitals) bool {
			return v.SpO2 < 94 || v.PulseRate > 100 || v.RespRate > 20 || v.SysBP < 100 || v.TempC > 37.8
		}); n != 0 {
			t.Errorf("seed %d: %d abnormal instants in a stable run", seed, n)
		}
	}
}

func TestDeteriorating(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		e := mustNew(t, "deteriorating", seed)
		start, end := e.At(0), e.At(30*time.Minute)
		if end.SpO2 > start.SpO2-5 || end.SpO2 > 93 {
			t.Errorf("seed %d: SpO2 %.1f -> %.1f, want a fall to 93 or below", seed, start.SpO2, end.SpO2)
		}
		if end.PulseRate < start.PulseRate+30 || end.RespRate < start.RespRate+8 {
			t.Errorf("seed %d: pulse %.0f -> %.0f, RR %.0f -> %.0f, want both up", seed, start.PulseRate, end.PulseRate, start.RespRate, end.RespRate)
		}
		if end.SysBP > start.SysBP-20 || end.TempC < start.TempC+1.5 {
			t.Errorf("seed %d: SBP %.0f -> %.0f, temp %.1f -> %.1f, want BP down and fever", seed, start.SysBP, end.SysBP, start.TempC, end.TempC)
		}
		// The slide is gradual: halfway is between the two ends.
		mid := e.At(15 * time.Minute)
		if !(mid.PulseRate > start.PulseRate+10 && mid.PulseRate < end.PulseRate-10) {
			t.Errorf("seed %d: pulse at 15 min %.0f not between %.0f and %.0f", seed, mid.PulseRate, start.PulseRate, end.PulseRate)
		}
	}
}

func TestArtefact(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		e := mustNew(t, "artefact", seed)
		var flagged, total, erratic int
		for d := time.Duration(0); d < 10*time.Minute; d += time.Second {
			v := e.At(d)
			total++
			if v.SensorOff || v.NoSignal {
				t.Fatalf("seed %d: sensor flags in the artefact scenario", seed)
			}
			if v.Artefact {
				flagged++
				if v.SpO2 < 88 || v.PulseRate < 60 || v.PulseRate > 160 || v.HeartRate-v.PulseRate > 20 || v.PulseRate-v.HeartRate > 20 {
					erratic++
				}
			}
		}
		if flagged != 10*8 {
			t.Errorf("seed %d: %d flagged seconds in 10 minutes, want 80 (8 s a minute)", seed, flagged)
		}
		if erratic < flagged/2 {
			t.Errorf("seed %d: only %d of %d flagged seconds have implausible values", seed, erratic, flagged)
		}
	}
}

func TestSensorOff(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		e := mustNew(t, "sensor-off", seed)
		var off, search, ok int
		prevOff := false
		for d := time.Duration(0); d < 10*time.Minute; d += time.Second {
			v := e.At(d)
			switch {
			case v.SensorOff:
				off++
			case v.NoSignal:
				search++
				if !prevOff && search%6 == 1 {
					t.Fatalf("seed %d at %v: pulse search not right after the sensor was off", seed, d)
				}
			default:
				ok++
			}
			if v.Artefact || (v.SensorOff && v.NoSignal) {
				t.Fatalf("seed %d at %v: unexpected flags %+v", seed, d, v)
			}
			prevOff = v.SensorOff
		}
		if off != 5*20 || search != 5*6 || ok != 600-5*26 {
			t.Errorf("seed %d: off %d, search %d, ok %d seconds in 10 minutes; want 100, 30, 470", seed, off, search, ok)
		}
	}
}

// TestFastScenarios checks what a 30-second demo relies on: the sensor
// comes off within 20 s and is back within 30 s, and the fast
// deterioration has moved SpO2, pulse and respiration rate clearly by 30 s.
func TestFastScenarios(t *testing.T) {
	for seed := int64(1); seed <= 8; seed++ {
		e := mustNew(t, "sensor-off-fast", seed)
		first := time.Duration(-1)
		for d := time.Duration(0); d < 30*time.Second; d += 250 * time.Millisecond {
			if e.At(d).SensorOff && first < 0 {
				first = d
			}
		}
		if first < 0 || first > 20*time.Second || e.At(first+6*time.Second).SensorOff {
			t.Errorf("seed %d: sensor off first at %v, want within 20 s and for less than 6 s", seed, first)
		}

		slow, quick := mustNew(t, "deteriorating", seed), mustNew(t, "deteriorating-fast", seed)
		at0, at30 := quick.At(0), quick.At(30*time.Second)
		if at0 != slow.At(0) {
			t.Errorf("seed %d: the fast scenario starts elsewhere: %+v vs %+v", seed, at0, slow.At(0))
		}
		if at30.SpO2 > at0.SpO2-4 || at30.PulseRate < at0.PulseRate+20 || at30.RespRate < at0.RespRate+6 {
			t.Errorf("seed %d: after 30 s SpO2 %.1f→%.1f, pulse %.0f→%.0f, RR %.0f→%.0f: want a clear deterioration",
				seed, at0.SpO2, at30.SpO2, at0.PulseRate, at30.PulseRate, at0.RespRate, at30.RespRate)
		}
	}
}
