package news2

import (
	"fmt"
	"time"
)

// DefaultWindow is the Options.Window used when it is zero: the longest
// span between the oldest and the newest observation of a set. The RCP
// report sets no such limit; 15 minutes is this package's choice for the
// observations of one bedside visit.
const DefaultWindow = 15 * time.Minute

// DefaultEpisodicWindow is the window of the parameters measured
// episodically, systolic blood pressure and temperature, in
// [DefaultWindows]: one hour. A ward monitor takes a cuff pressure on an
// automatic cycle of 15 to 60 minutes and a temperature is taken by hand at
// an observation round. RCP NEWS2 (2017) chart 4, "Clinical response to
// the NEWS trigger thresholds", sets the frequency of monitoring: minimum
// 12-hourly at a score of 0, 4–6-hourly at 1–4, hourly at 5 or more or a 3
// in one parameter, continuous at 7 or more. A pressure taken within the
// hour is therefore as current as the tightest intermittent frequency the
// chart asks for, while a 15-minute window would score only in the minutes
// after each cuff cycle; older pressures and temperatures are not current,
// and the score waits for a new one. (At 7 or more the chart asks for
// continuous monitoring, which a cuff cannot give: a site can shorten
// news2.windows.systolic_bp.)
const DefaultEpisodicWindow = time.Hour

// DefaultWindows are the windows of the gateway's scores: DefaultWindow
// for the continuous monitor values (respiration, SpO2, pulse) and the
// nurse's assessments (consciousness, air or oxygen, which a nurse entry
// also bounds by its own time), DefaultEpisodicWindow for systolic blood
// pressure and temperature.
func DefaultWindows() Windows {
	return Windows{SystolicBP: DefaultEpisodicWindow, Temperature: DefaultEpisodicWindow}
}

// Windows are per-parameter windows: the longest time the parameter's
// observation may precede the newest observation of the set. A zero field
// is Options.Window; a negative one is an error.
type Windows struct {
	RespRate, SpO2, AirOrOxygen, SystolicBP, Pulse, Consciousness, Temperature time.Duration
}

// of returns p's window, or def when it has none.
func (w Windows) of(p Parameter, def time.Duration) time.Duration {
	var d time.Duration
	switch p {
	case RespRate:
		d = w.RespRate
	case SpO2Scale1, SpO2Scale2:
		d = w.SpO2
	case AirOrOxygen:
		d = w.AirOrOxygen
	case SystolicBP:
		d = w.SystolicBP
	case Pulse:
		d = w.Pulse
	case Consciousness:
		d = w.Consciousness
	case Temperature:
		d = w.Temperature
	}
	if d == 0 {
		return def
	}
	return d
}

// Check returns an error wrapping ErrWindow when a window is negative.
func (w Windows) Check() error {
	for _, d := range []time.Duration{w.RespRate, w.SpO2, w.AirOrOxygen, w.SystolicBP, w.Pulse, w.Consciousness, w.Temperature} {
		if d < 0 {
			return fmt.Errorf("%w: %v", ErrWindow, d)
		}
	}
	return nil
}

// Observation is one value of a set and the time it was taken.
type Observation[T any] struct {
	// Value is the reading: a float64 in the chart's unit, an [ACVPU] or a
	// [Breathing].
	Value T
	// Time is when the value was measured or assessed.
	Time time.Time
}

// Set is one set of observations to score. A nil field is a parameter not
// observed.
type Set struct {
	// RespRate is the respiration rate in breaths per minute.
	RespRate *Observation[float64]
	// SpO2 is the peripheral oxygen saturation in percent, scored on the
	// scale chosen by Options.Scale2.
	SpO2 *Observation[float64]
	// AirOrOxygen is whether the patient is on air or supplemental oxygen.
	AirOrOxygen *Observation[Breathing]
	// SystolicBP is the systolic blood pressure in mmHg.
	SystolicBP *Observation[float64]
	// Pulse is the pulse rate in beats per minute.
	Pulse *Observation[float64]
	// Consciousness is the ACVPU level.
	Consciousness *Observation[ACVPU]
	// Temperature is the body temperature in degrees Celsius.
	Temperature *Observation[float64]
}

// Options control Score. The zero value scores on SpO2 Scale 1 with
// DefaultWindow.
type Options struct {
	// Scale2 scores SpO2 on Scale 2. Set it only for a patient whose bed is
	// marked for Scale 2 (a clinician-prescribed target of 88–92 %, as in
	// hypercapnic respiratory failure); every other patient is scored on
	// Scale 1.
	Scale2 bool
	// Window is the longest time any observation of the set may precede
	// the newest one. Zero means DefaultWindow; negative is an error.
	Window time.Duration
	// Windows override Window per parameter (an old blood pressure is not
	// current though the pulse is). The zero value overrides none.
	Windows Windows
}

// Item is the sub-score of one parameter in a Result.
type Item struct {
	// Parameter is the scored parameter (SpO2Scale1 or SpO2Scale2 for SpO2).
	Parameter Parameter
	// Score is the chart 1 sub-score, 0–3.
	Score int
	// Charted is the value as banded: rounded to the chart's resolution,
	// or the [ACVPU] or [Breathing] level as a float64.
	Charted float64
	// Time is the time of the observation.
	Time time.Time
}

// Result is a NEWS2 score.
type Result struct {
	// Total is the aggregate score, 0–20.
	Total int
	// Band is the clinical-risk band of Total and the sub-scores.
	Band Band
	// Advisory is a short advisory text for Band and Total (chart 4
	// responses, paraphrased). It is advice, not an instruction.
	Advisory string
	// Items are the seven sub-scores in chart order: respiration rate,
	// SpO2, air or oxygen, systolic BP, pulse, consciousness, temperature.
	Items []Item
	// Oldest and Newest are the earliest and latest observation times of
	// the set.
	Oldest, Newest time.Time
}

// SubScore returns the sub-score of p and whether the result has it.
func (r Result) SubScore(p Parameter) (int, bool) {
	for _, it := range r.Items {
		if it.Parameter == p {
			return it.Score, true
		}
	}
	return 0, false
}

// Red reports whether any single parameter scored 3 ("red score").
func (r Result) Red() bool {
	for _, it := range r.Items {
		if it.Score == 3 {
			return true
		}
	}
	return false
}

// timed is one present observation, reduced to what Score needs.
type timed struct {
	p     Parameter
	value float64
	t     time.Time
}

// Score computes NEWS2 for set.
//
// Every parameter must be present with a non-zero time, and every
// observation must have been taken within its window (opts.Windows, else
// opts.Window) of the newest;
// otherwise Score returns an [*IncompleteError] (matching ErrIncomplete)
// naming the missing, untimed and stale parameters, and a zero Result. A
// value that cannot be scored returns an error wrapping ErrValue.
func Score(set Set, opts Options) (Result, error) {
	window := opts.Window
	switch {
	case window < 0:
		return Result{}, fmt.Errorf("%w: %v", ErrWindow, window)
	case opts.Windows.Check() != nil:
		return Result{}, opts.Windows.Check()
	case window == 0:
		window = DefaultWindow
	}
	spo2 := SpO2Scale1
	if opts.Scale2 {
		spo2 = SpO2Scale2
	}

	var obs []timed
	var missing []Parameter
	addFloat := func(p Parameter, o *Observation[float64]) {
		if o == nil {
			missing = append(missing, p)
			return
		}
		obs = append(obs, timed{p, o.Value, o.Time})
	}
	addFloat(RespRate, set.RespRate)
	addFloat(spo2, set.SpO2)
	if set.AirOrOxygen == nil {
		missing = append(missing, AirOrOxygen)
	} else {
		obs = append(obs, timed{AirOrOxygen, float64(set.AirOrOxygen.Value), set.AirOrOxygen.Time})
	}
	addFloat(SystolicBP, set.SystolicBP)
	addFloat(Pulse, set.Pulse)
	if set.Consciousness == nil {
		missing = append(missing, Consciousness)
	} else {
		obs = append(obs, timed{Consciousness, float64(set.Consciousness.Value), set.Consciousness.Time})
	}
	addFloat(Temperature, set.Temperature)

	var untimed []Parameter
	var oldest, newest time.Time
	for _, o := range obs {
		if o.t.IsZero() {
			untimed = append(untimed, o.p)
			continue
		}
		if newest.IsZero() || o.t.After(newest) {
			newest = o.t
		}
		if oldest.IsZero() || o.t.Before(oldest) {
			oldest = o.t
		}
	}
	var stale []Parameter
	var staleWindows []time.Duration
	for _, o := range obs {
		if w := opts.Windows.of(o.p, window); !o.t.IsZero() && newest.Sub(o.t) > w {
			stale = append(stale, o.p)
			staleWindows = append(staleWindows, w)
		}
	}
	if len(missing) > 0 || len(untimed) > 0 || len(stale) > 0 {
		return Result{}, &IncompleteError{Missing: missing, Untimed: untimed, Stale: stale, StaleWindows: staleWindows, Newest: newest, Window: window}
	}

	r := Result{Items: make([]Item, 0, len(obs)), Oldest: oldest, Newest: newest}
	for _, o := range obs {
		it, err := item(o, set.AirOrOxygen.Value)
		if err != nil {
			return Result{}, err
		}
		r.Items = append(r.Items, it)
		r.Total += it.Score
	}
	r.Band = BandOf(r.Total, r.Red())
	r.Advisory = advisory(r.Total, r.Band)
	return r, nil
}

// item scores one observation; on is the set's air or oxygen, which Scale 2
// SpO2 needs.
func item(o timed, on Breathing) (Item, error) {
	it := Item{Parameter: o.p, Time: o.t, Charted: o.value}
	var err error
	switch o.p {
	case AirOrOxygen, Consciousness:
		it.Score, err = SubScore(o.p, o.value)
	case SpO2Scale2:
		it.Score, err = Scale2SubScore(o.value, on)
	default:
		it.Score, err = SubScore(o.p, o.value)
	}
	if err != nil {
		return Item{}, err
	}
	if o.p != AirOrOxygen && o.p != Consciousness {
		units, err := charted(o.p, o.value)
		if err != nil {
			return Item{}, err
		}
		it.Charted = chartedValue(o.p, units)
	}
	return it, nil
}
