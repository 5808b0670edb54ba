package news2

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func num(v float64, t time.Time) *Observation[float64] {
	return &Observation[float64]{Value: v, Time: t}
}

// vitals is a compact description of a set, all taken at t0.
type vitals struct {
	rr, spo2 float64
	on       Breathing
	sbp, hr  float64
	acvpu    ACVPU
	temp     float64
}

func (v vitals) set() Set {
	return Set{
		RespRate:      num(v.rr, t0),
		SpO2:          num(v.spo2, t0),
		AirOrOxygen:   &Observation[Breathing]{Value: v.on, Time: t0},
		SystolicBP:    num(v.sbp, t0),
		Pulse:         num(v.hr, t0),
		Consciousness: &Observation[ACVPU]{Value: v.acvpu, Time: t0},
		Temperature:   num(v.temp, t0),
	}
}

// normal scores 0 in every parameter on either scale.
var normal = vitals{rr: 16, spo2: 97, on: Air, sbp: 120, hr: 70, acvpu: Alert, temp: 37.0}

func with(f func(*vitals)) vitals { v := normal; f(&v); return v }

func TestScoreAggregateAndBand(t *testing.T) {
	tests := []struct {
		name   string
		v      vitals
		scale2 bool
		total  int
		band   Band
		red    bool
	}{
		{"all normal scores 0, low", normal, false, 0, BandLow, false},
		{"one 1 is low", with(func(v *vitals) { v.hr = 95 }), false, 1, BandLow, false},
		{"4 without a 3 is low", with(func(v *vitals) { v.on = Oxygen; v.rr = 22 }), false, 4, BandLow, false},
		{"single 3 with total 3 is low-medium", with(func(v *vitals) { v.acvpu = Voice }), false, 3, BandLowMedium, true},
		{"new confusion alone is low-medium", with(func(v *vitals) { v.acvpu = Confusion }), false, 3, BandLowMedium, true},
		{"single 3 with total 4 is low-medium", with(func(v *vitals) { v.rr = 25; v.hr = 91 }), false, 4, BandLowMedium, true},
		{"5 without a 3 is medium", with(func(v *vitals) { v.on = Oxygen; v.rr = 22; v.temp = 38.5 }), false, 5, BandMedium, false},
		{"single 3 with total 5 is medium", with(func(v *vitals) { v.sbp = 85; v.rr = 21 }), false, 5, BandMedium, true},
		{"6 is medium", with(func(v *vitals) { v.on = Oxygen; v.rr = 22; v.temp = 39.5 }), false, 6, BandMedium, false},
		{"7 is high", with(func(v *vitals) { v.on = Oxygen; v.rr = 22; v.temp = 39.5; v.hr = 100 }), false, 7, BandHigh, false},
		{"everything at its worst is 20, high", vitals{rr: 30, spo2: 80, on: Oxygen, sbp: 80, hr: 150, acvpu: Unresponsive, temp: 34}, false, 20, BandHigh, true},
		{"scale 2: 97% on oxygen scores 3+2", with(func(v *vitals) { v.on = Oxygen }), true, 5, BandMedium, true},
		{"scale 2: 97% on air scores 0", normal, true, 0, BandLow, false},
		{"scale 2: 90% on air scores 0 (scale 1 would give 3)", with(func(v *vitals) { v.spo2 = 90 }), true, 0, BandLow, false},
		{"scale 1: 90% on air scores 3", with(func(v *vitals) { v.spo2 = 90 }), false, 3, BandLowMedium, true},
		{"scale 2: 94% on oxygen scores 1+2", with(func(v *vitals) { v.spo2 = 94; v.on = Oxygen }), true, 3, BandLow, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Score(tt.v.set(), Options{Scale2: tt.scale2})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tt.total || r.Band != tt.band || r.Red() != tt.red {
				t.Errorf("got total %d band %v red %v, want %d %v %v (items %+v)", r.Total, r.Band, r.Red(), tt.total, tt.band, tt.red, r.Items)
			}
			sum := 0
			for _, it := range r.Items {
				sum += it.Score
			}
			if sum != r.Total {
				t.Errorf("items sum to %d, total %d", sum, r.Total)
			}
			if !strings.Contains(r.Advisory, "Advisory only") {
				t.Errorf("advisory %q does not say it is advisory", r.Advisory)
			}
		})
	}
}

func TestScoreItems(t *testing.T) {
	v := vitals{rr: 20.5, spo2: 95.5, on: Oxygen, sbp: 100.4, hr: 90.5, acvpu: Pain, temp: 38.05}
	r, err := Score(v.set(), Options{Scale2: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{RespRate, 2, 21, t0},
		{SpO2Scale2, 2, 96, t0}, // 95.5 → 96; 95–96 on oxygen → 2
		{AirOrOxygen, 2, float64(Oxygen), t0},
		{SystolicBP, 2, 100, t0},
		{Pulse, 1, 91, t0},
		{Consciousness, 3, float64(Pain), t0},
		{Temperature, 1, 38.1, t0},
	}
	if !slices.Equal(r.Items, want) {
		t.Errorf("items\n got %+v\nwant %+v", r.Items, want)
	}
	if r.Total != 13 || r.Band != BandHigh {
		t.Errorf("total %d band %v, want 13 high", r.Total, r.Band)
	}
	for _, it := range want {
		got, ok := r.SubScore(it.Parameter)
		if !ok || got != it.Score {
			t.Errorf("SubScore(%v) = %d, %v; want %d, true", it.Parameter, got, ok, it.Score)
		}
	}
	if _, ok := r.SubScore(SpO2Scale1); ok {
		t.Error("a scale 2 result reports a scale 1 sub-score")
	}
}

func TestScoreWindow(t *testing.T) {
	tests := []struct {
		name    string
		ages    map[Parameter]time.Duration // how long before the newest (t0)
		window  time.Duration
		windows Windows
		stale   []Parameter
		wantErr bool
	}{
		{"all at once", nil, 0, Windows{}, nil, false},
		{"temperature exactly 15 min old is in the default window", map[Parameter]time.Duration{Temperature: 15 * time.Minute}, 0, Windows{}, nil, false},
		{"temperature 15 min 1 s old is stale", map[Parameter]time.Duration{Temperature: 15*time.Minute + time.Second}, 0, Windows{}, []Parameter{Temperature}, true},
		{"two stale in chart order", map[Parameter]time.Duration{Temperature: time.Hour, RespRate: 20 * time.Minute}, 0, Windows{}, []Parameter{RespRate, Temperature}, true},
		{"custom 5 min window", map[Parameter]time.Duration{Pulse: 6 * time.Minute}, 5 * time.Minute, Windows{}, []Parameter{Pulse}, true},
		{"custom 1 h window", map[Parameter]time.Duration{Pulse: 59 * time.Minute}, time.Hour, Windows{}, nil, false},
		{"default windows: a 59 min blood pressure and temperature are current", map[Parameter]time.Duration{SystolicBP: 59 * time.Minute, Temperature: time.Hour}, 0, DefaultWindows(), nil, false},
		{"default windows: a 61 min blood pressure is not", map[Parameter]time.Duration{SystolicBP: 61 * time.Minute}, 0, DefaultWindows(), []Parameter{SystolicBP}, true},
		{"default windows: a 16 min pulse is not", map[Parameter]time.Duration{Pulse: 16 * time.Minute, SystolicBP: 30 * time.Minute}, 0, DefaultWindows(), []Parameter{Pulse}, true},
		{"a blood pressure window shorter than the set's", map[Parameter]time.Duration{SystolicBP: 6 * time.Minute}, 0, Windows{SystolicBP: 5 * time.Minute}, []Parameter{SystolicBP}, true},
		{"each parameter its own window", map[Parameter]time.Duration{RespRate: 3 * time.Minute, Pulse: 2 * time.Minute, Temperature: 2 * time.Hour},
			0, Windows{RespRate: 2 * time.Minute, Pulse: 2 * time.Minute, Temperature: 3 * time.Hour}, []Parameter{RespRate}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := normal.set()
			for p, age := range tt.ages {
				at := t0.Add(-age)
				switch p {
				case RespRate:
					s.RespRate.Time = at
				case Pulse:
					s.Pulse.Time = at
				case Temperature:
					s.Temperature.Time = at
				case SystolicBP:
					s.SystolicBP.Time = at
				default:
					t.Fatalf("test does not age %v", p)
				}
			}
			r, err := Score(s, Options{Window: tt.window, Windows: tt.windows})
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if !r.Newest.Equal(t0) {
					t.Errorf("Newest = %v, want %v", r.Newest, t0)
				}
				var oldest time.Duration
				for _, a := range tt.ages {
					oldest = max(oldest, a)
				}
				if !r.Oldest.Equal(t0.Add(-oldest)) {
					t.Errorf("Oldest = %v, want %v", r.Oldest, t0.Add(-oldest))
				}
				return
			}
			var ie *IncompleteError
			if !errors.As(err, &ie) || !errors.Is(err, ErrIncomplete) {
				t.Fatalf("error = %v, want *IncompleteError", err)
			}
			if !slices.Equal(ie.Stale, tt.stale) || len(ie.Missing) != 0 || len(ie.Untimed) != 0 || !ie.Newest.Equal(t0) || len(ie.StaleWindows) != len(ie.Stale) {
				t.Errorf("got %+v, want stale %v", ie, tt.stale)
			}
			for i, p := range ie.Stale {
				if w := ie.StaleWindows[i]; !strings.Contains(err.Error(), "stale "+p.String()+" (more than "+w.String()) {
					t.Errorf("error %q does not name %s's window %v", err, p, w)
				}
			}
			if r.Total != 0 || r.Items != nil {
				t.Errorf("incomplete set returned a score: %+v", r)
			}
		})
	}
}

func TestScoreMissingAndUntimed(t *testing.T) {
	s := normal.set()
	s.Pulse = nil
	s.Consciousness = nil
	s.SpO2 = nil
	s.Temperature.Time = time.Time{}
	_, err := Score(s, Options{Scale2: true})
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want *IncompleteError", err)
	}
	if want := []Parameter{SpO2Scale2, Pulse, Consciousness}; !slices.Equal(ie.Missing, want) {
		t.Errorf("Missing = %v, want %v", ie.Missing, want)
	}
	if want := []Parameter{Temperature}; !slices.Equal(ie.Untimed, want) {
		t.Errorf("Untimed = %v, want %v", ie.Untimed, want)
	}
	msg := err.Error()
	for _, w := range []string{"news2: incomplete set", "missing spo2-scale2, pulse, consciousness", "no time for temperature"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}

	_, err = Score(Set{}, Options{})
	if !errors.As(err, &ie) || len(ie.Missing) != 7 || !ie.Newest.IsZero() {
		t.Errorf("empty set: error = %v", err)
	}
}

func TestScoreRejectsBadValuesAndOptions(t *testing.T) {
	tests := []struct {
		name string
		set  Set
		opts Options
		want error
	}{
		{"negative pulse", with(func(v *vitals) { v.hr = -1 }).set(), Options{}, ErrValue},
		{"spo2 above 100", with(func(v *vitals) { v.spo2 = 101 }).set(), Options{}, ErrValue},
		{"zero ACVPU", with(func(v *vitals) { v.acvpu = 0 }).set(), Options{}, ErrValue},
		{"zero breathing on scale 1", with(func(v *vitals) { v.on = 0 }).set(), Options{}, ErrValue},
		{"zero breathing on scale 2", with(func(v *vitals) { v.on = 0 }).set(), Options{Scale2: true}, ErrValue},
		{"negative window", normal.set(), Options{Window: -time.Second}, ErrWindow},
		{"negative blood pressure window", normal.set(), Options{Windows: Windows{SystolicBP: -time.Minute}}, ErrWindow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Score(tt.set, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Score = %+v, %v; want error %v", r, err, tt.want)
			}
		})
	}
}

func TestBandOf(t *testing.T) {
	tests := []struct {
		total int
		red   bool
		want  Band
	}{
		{0, false, BandLow},
		{4, false, BandLow},
		{3, true, BandLowMedium},
		{4, true, BandLowMedium},
		{5, false, BandMedium},
		{5, true, BandMedium},
		{6, true, BandMedium},
		{7, false, BandHigh},
		{7, true, BandHigh},
		{20, true, BandHigh},
	}
	for _, tt := range tests {
		if got := BandOf(tt.total, tt.red); got != tt.want {
			t.Errorf("BandOf(%d, %v) = %v, want %v", tt.total, tt.red, got, tt.want)
		}
	}
}

func TestAdvisoryNamesTheResponse(t *testing.T) {
	tests := []struct {
		total int
		band  Band
		want  string
	}{
		{0, BandLow, "12 hours"},
		{3, BandLow, "4-6 hours"},
		{3, BandLowMedium, "urgent ward-based review"},
		{5, BandMedium, "urgent assessment"},
		{7, BandHigh, "emergency assessment"},
	}
	for _, tt := range tests {
		got := advisory(tt.total, tt.band)
		if !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "NEWS2 ") {
			t.Errorf("advisory(%d, %v) = %q, want it to contain %q", tt.total, tt.band, got, tt.want)
		}
	}
}
