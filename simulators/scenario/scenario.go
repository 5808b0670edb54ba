package scenario

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Vitals are a patient's values at one instant.
type Vitals struct {
	SpO2           float64 // oxygen saturation by pulse oximetry, %
	PulseRate      float64 // pulse rate from the oximeter, /min
	PerfusionIndex float64 // pulse-oximetry perfusion index, %
	RespRate       float64 // respiratory rate, /min
	HeartRate      float64 // heart rate from the ECG, /min
	SysBP          float64 // systolic blood pressure, mm[Hg]
	DiaBP          float64 // diastolic blood pressure, mm[Hg]
	MeanBP         float64 // mean arterial pressure, mm[Hg]
	TempC          float64 // body temperature, Cel
	EtCO2          float64 // end-tidal CO2, mm[Hg]

	// SensorOff: the sensor is off the patient; a device measures nothing.
	SensorOff bool
	// NoSignal: the sensor is on but the device finds no pulse yet (pulse
	// search); it measures nothing.
	NoSignal bool
	// Artefact: the device shows values but flags them as unreliable
	// (motion, interference); the pulse-oximetry values are erratic.
	Artefact bool
}

// Names lists the scenarios in a fixed order.
func Names() []string {
	return []string{"stable", "deteriorating", "artefact", "sensor-off", "deteriorating-fast", "sensor-off-fast"}
}

// fast are the scenarios that run another's events faster (the noise keeps
// its pace): what a 30-second demo can show.
var fast = map[string]struct {
	of    string
	scale float64
}{
	"deteriorating-fast": {"deteriorating", 40}, // the 30-minute slide in 45 s
	"sensor-off-fast":    {"sensor-off", 4},     // 5 s off in every 30 s, first 7.5 to 17.5 s in
}

// Engine computes the vitals of one scenario under one seed. It holds no
// mutable state and is safe for concurrent use.
type Engine struct {
	name string
	// kind is the scenario whose events the engine plays, scale times as
	// fast (1, or a fast scenario's).
	kind  string
	scale float64
	seed  uint64
	base  Vitals
}

// New returns the engine of the named scenario. The seed picks the
// patient's baseline and noise.
func New(name string, seed int64) (*Engine, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("scenario: unknown scenario %q (valid: %v)", name, Names())
	}
	e := &Engine{name: name, kind: name, scale: 1, seed: uint64(seed)}
	if f, ok := fast[name]; ok {
		e.kind, e.scale = f.of, f.scale
	}
	// A seeded, healthy adult baseline.
	e.base = Vitals{
		SpO2:           97 + e.uniform(1, 0),
		PulseRate:      72 + 6*e.uniform(2, 0),
		PerfusionIndex: 3.5 + 1.5*e.uniform(3, 0),
		RespRate:       14 + 2*e.uniform(4, 0),
		SysBP:          122 + 8*e.uniform(5, 0),
		DiaBP:          76 + 5*e.uniform(6, 0),
		TempC:          36.8 + 0.3*e.uniform(7, 0),
		EtCO2:          38 + 3*e.uniform(8, 0),
	}
	return e, nil
}

// Name returns the scenario's name.
func (e *Engine) Name() string { return e.name }

// At returns the vitals at elapsed time since the start of the run
// (negative times are taken as zero).
func (e *Engine) At(elapsed time.Duration) Vitals {
	t := max(elapsed.Seconds(), 0)
	b := e.base
	v := Vitals{
		SpO2:           b.SpO2 + 0.8*e.smooth(11, t, 20),
		PulseRate:      b.PulseRate + 3*e.smooth(12, t, 15) + 0.8*e.smooth(13, t, 4),
		PerfusionIndex: b.PerfusionIndex * (1 + 0.12*e.smooth(14, t, 25)),
		RespRate:       b.RespRate + 1.2*e.smooth(15, t, 30),
		SysBP:          b.SysBP + 4*e.smooth(16, t, 60),
		DiaBP:          b.DiaBP + 3*e.smooth(17, t, 60),
		TempC:          b.TempC + 0.1*e.smooth(18, t, 600),
		EtCO2:          b.EtCO2 + 1.5*e.smooth(19, t, 30),
	}
	switch ts := t * e.scale; e.kind {
	case "deteriorating":
		deteriorate(ts, &v)
	case "artefact":
		e.artefact(ts, &v)
	case "sensor-off":
		e.sensorOff(ts, &v)
	}
	if !v.Artefact {
		v.HeartRate = v.PulseRate + 0.5*e.smooth(20, t, 5)
	}
	clamp(&v)
	v.MeanBP = v.DiaBP + (v.SysBP-v.DiaBP)/3
	return v
}

// deteriorate slides toward sepsis-like values over 30 minutes.
func deteriorate(t float64, v *Vitals) {
	p := t / (30 * 60)
	p = min(p, 1)
	p = p * p * (3 - 2*p) // smoothstep: slow start, slow end
	v.SpO2 -= 9 * p
	v.PulseRate += 45 * p
	v.RespRate += 14 * p
	v.SysBP -= 34 * p
	v.DiaBP -= 24 * p
	v.TempC += 2.1 * p
	v.PerfusionIndex *= 1 - 0.7*p
	v.EtCO2 -= 8 * p
}

// artefact adds a burst of erratic, flagged values 8 s in every minute.
func (e *Engine) artefact(t float64, v *Vitals) {
	const period, length = 60.0, 8.0
	cycle := math.Floor(t / period)
	start := 10 + 40*(e.uniform(30, int64(cycle))+1)/2 // seeded, 10..50 s into the minute
	if in := t - cycle*period - start; in < 0 || in >= length {
		return
	}
	v.HeartRate = v.PulseRate + 0.5*e.smooth(20, t, 5) // the ECG is unaffected
	s := int64(math.Floor(t))
	v.Artefact = true
	v.SpO2 -= 12 + 10*(e.uniform(31, s)+1)
	v.PulseRate = 115 + 75*e.uniform(32, s)
	v.PerfusionIndex = 0.4 + 0.2*e.uniform(33, s)
}

// sensorOff takes the sensor off for 20 s in every two minutes, then
// searches for the pulse for 6 s.
func (e *Engine) sensorOff(t float64, v *Vitals) {
	const period, off, search = 120.0, 20.0, 6.0
	cycle := math.Floor(t / period)
	start := 30 + 40*(e.uniform(40, int64(cycle))+1)/2 // seeded, 30..70 s into the cycle
	switch in := t - cycle*period - start; {
	case in >= 0 && in < off:
		v.SensorOff = true
	case in >= off && in < off+search:
		v.NoSignal = true
	}
}

func clamp(v *Vitals) {
	c := func(x *float64, lo, hi float64) { *x = min(max(*x, lo), hi) }
	c(&v.SpO2, 50, 100)
	c(&v.PulseRate, 30, 220)
	c(&v.HeartRate, 30, 220)
	c(&v.PerfusionIndex, 0.02, 20)
	c(&v.RespRate, 4, 60)
	c(&v.SysBP, 50, 250)
	c(&v.DiaBP, 25, 150)
	c(&v.TempC, 33, 42)
	c(&v.EtCO2, 10, 80)
}

// uniform returns a value in [-1, 1) fixed by the seed, a channel and an
// index (splitmix64 over the three).
func (e *Engine) uniform(channel uint64, index int64) float64 {
	x := e.seed ^ channel*0x9e3779b97f4a7c15 ^ uint64(index)*0xbf58476d1ce4e5b9
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/float64(1<<52) - 1
}

// smooth returns noise in [-1, 1] that varies smoothly over about span
// seconds: seeded knots every span seconds, joined by cosine curves.
func (e *Engine) smooth(channel uint64, t, span float64) float64 {
	k := math.Floor(t / span)
	f := t/span - k
	a, b := e.uniform(channel, int64(k)), e.uniform(channel, int64(k)+1)
	w := (1 - math.Cos(f*math.Pi)) / 2
	return a + (b-a)*w
}
