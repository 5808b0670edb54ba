package intellivue

import (
	"math"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/intellivue"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// NBPInterval is the default automatic cycle of the simulated non-invasive
// blood pressure (Config.NBPInterval): a measurement at the start of the
// run and one every interval after; the monitor reports the last
// measurement until the next.
const NBPInterval = 5 * time.Minute

// updatePeriod is the numerics' update period in each object's metric
// specification: 8192 ticks (1.024 s), as IntelliVue monitors refresh them.
const updatePeriod driver.RelativeTime = 8192

// Attribute ids the simulator sends that the driver keeps verbatim [DEI
// "Attribute IDs"].
const (
	attrColor   driver.AttributeID = 0x0911 // NOM_ATTR_COLOR
	attrDispRes driver.AttributeID = 0x0917 // NOM_ATTR_DISP_RES
)

// Colours of the numerics on the monitor's screen [DEI "SimpleColour"].
const (
	colourRed     = 1
	colourGreen   = 2
	colourYellow  = 3
	colourMagenta = 5
	colourCyan    = 6
	colourWhite   = 7
)

// Context ids of the poll reply: the monitor's calculated parameters and
// its measurements.
const (
	contextCalculated = 0
	contextMeasured   = 1
)

// Units (NOM_PART_DIM) [DEI "Units of Measure"].
const (
	unitDimless   = 512  // NOM_DIM_DIMLESS
	unitPercent   = 544  // NOM_DIM_PERCENT
	unitMM        = 1298 // NOM_DIM_MILLI_M (ST deviation)
	unitBeatMin   = 2720 // NOM_DIM_BEAT_PER_MIN
	unitRespMin   = 2784 // NOM_DIM_RESP_PER_MIN
	unitMMHg      = 3872 // NOM_DIM_MMHG
	unitCelsius   = 6048 // NOM_DIM_DEGC
	textIDSCADA   = driver.PartitionSCADA << 16
	dispWhole     = 0x0300 // three digits before the point, none after
	dispOneDigit  = 0x0201 // two digits before the point, one after
	dispTwoDigits = 0x0102 // one digit before the point, two after
)

// Physiological ids (NOM_PART_SCADA) [DEI "Physiological Identifiers"].
const (
	physioHR       = 0x4182 // NOM_ECG_CARD_BEAT_RATE
	physioPVC      = 0x4261 // NOM_ECG_V_P_C_CNT
	physioSpO2     = 0x4BB8 // NOM_PULS_OXIM_SAT_O2
	physioPulse    = 0x4822 // NOM_PLETH_PULS_RATE
	physioPulsBP   = 0x480A // NOM_PULS_RATE (from a pressure)
	physioPerf     = 0x4BB0 // NOM_PULS_OXIM_PERF_REL
	physioNBPSys   = 0x4A05 // NOM_PRESS_BLD_NONINV_SYS
	physioNBPDia   = 0x4A06 // NOM_PRESS_BLD_NONINV_DIA
	physioNBPMean  = 0x4A07 // NOM_PRESS_BLD_NONINV_MEAN
	physioNBP      = 0x4A04 // NOM_PRESS_BLD_NONINV (the compound's label)
	physioRR       = 0x500A // NOM_RESP_RATE
	physioAwRR     = 0x5012 // NOM_AWAY_RESP_RATE
	physioEtCO2    = 0x50B0 // NOM_AWAY_CO2_ET
	physioTemp     = 0x4B48 // NOM_TEMP
	physioST       = 0x0300 // NOM_ECG_AMPL_ST (the compound's label)
	physioQT       = 0x3F20 // NOM_ECG_TIME_PD_QT_GL
	physioQTc      = 0x3F24 // NOM_ECG_TIME_PD_QTc
	physioCPP      = 0x5804 // NOM_PRESS_CEREB_PERF
	physioSpO2Diff = 0x4BC4 // NOM_PULS_OXIM_SAT_O2_DIFF
	physioTempDiff = 0xE018 // NOM_TEMP_DIFF
	physioABP      = 0x4A14 // NOM_PRESS_BLD_ART_ABP
	physioPAP      = 0x4A1C // NOM_PRESS_BLD_ART_PULM
	physioCVP      = 0x4A44 // NOM_PRESS_BLD_VEN_CENT
	physioICP      = 0x5808 // NOM_PRESS_INTRA_CRAN
	physioSTIndex  = 0xF03D // NOM_ECG_AMPL_ST_INDEX (Philips)
)

// stLeads are the leads of the ST compound (12-lead ECG), in the
// monitor's order.
var stLeads = [...]uint16{
	0x0301, // NOM_ECG_AMPL_ST_I
	0x0302, // NOM_ECG_AMPL_ST_II
	0x033D, // NOM_ECG_AMPL_ST_III
	0x033E, // NOM_ECG_AMPL_ST_AVR
	0x033F, // NOM_ECG_AMPL_ST_AVL
	0x0340, // NOM_ECG_AMPL_ST_AVF
	0x0303, // NOM_ECG_AMPL_ST_V1
	0x0304, // NOM_ECG_AMPL_ST_V2
	0x0305, // NOM_ECG_AMPL_ST_V3
	0x0306, // NOM_ECG_AMPL_ST_V4
	0x0307, // NOM_ECG_AMPL_ST_V5
	0x0308, // NOM_ECG_AMPL_ST_V6
}

// object is one numeric object of the simulated monitor.
type object struct {
	handle  uint16
	label   string // the label string, as on the screen
	textID  uint16 // the label's code (SCADA partition)
	colour  uint16
	dispRes uint16 // 0: no display resolution attribute
	// values are the object's numerics: none for a parameter that is
	// switched off (the monitor still lists the object), one, or several
	// for a compound value.
	values []driver.NuObsValue
	// measuredAt, when not zero, is sent as NOM_ATTR_TIME_STAMP_ABS (the
	// time of an intermittent measurement).
	measuredAt time.Time
}

// observation encodes o as the monitor lists it in a poll reply.
func (o object) observation() driver.Observation {
	specn := make([]byte, 0, 12)
	specn = be32(specn, uint32(updatePeriod))
	specn = be16(specn, 1)      // category: AUTO_MEASUREMENT
	specn = be16(specn, 0x4000) // access: AVAIL_INTERMITTENT
	if len(o.values) > 1 {
		specn = append(specn, 1, byte(len(o.values))) // compound, with its component count
	} else {
		specn = append(specn, 0, 0) // simple
	}
	specn = be16(specn, 0) // relevance
	attrs := []driver.AVA{
		{ID: driver.AttrIDHandle, Value: be16(nil, o.handle)},
		{ID: driver.AttrIDType, Value: be16(be16(nil, driver.PartitionObject), driver.ClassNumeric)},
		{ID: driver.AttrMetricSpecn, Value: specn},
		{ID: driver.AttrIDLabel, Value: be32(nil, textIDSCADA|uint32(o.textID))},
		{ID: driver.AttrIDLabelString, Value: driver.AppendString(nil, padLabel(o.label))},
	}
	if o.dispRes != 0 {
		attrs = append(attrs, driver.AVA{ID: attrDispRes, Value: be16(nil, o.dispRes)})
	}
	attrs = append(attrs, driver.AVA{ID: attrColor, Value: be16(nil, o.colour)})
	switch len(o.values) {
	case 0:
	case 1:
		attrs = append(attrs, driver.AVA{ID: driver.AttrNuValObs, Value: driver.AppendNuObsValue(nil, o.values[0])})
	default:
		attrs = append(attrs, driver.AVA{ID: driver.AttrNuCmpdValObs, Value: driver.AppendCompoundNuObsValue(nil, o.values)})
	}
	if !o.measuredAt.IsZero() {
		// After the value, as the NBP of a real MP-series monitor sends
		// it (../shared/vectors/intellivue): the same stamp in every
		// poll until the next measurement.
		abs := driver.NewAbsoluteTime(o.measuredAt)
		attrs = append(attrs, driver.AVA{ID: driver.AttrTimeStampAbs, Value: abs[:]})
	}
	return driver.Observation{Handle: o.handle, Attributes: attrs}
}

// padLabel pads a label to the six characters the monitor sends.
func padLabel(s string) string {
	for n := len([]rune(s)); n < 6; n++ {
		s += " "
	}
	return s
}

// measured returns a numeric with value x rounded to decimals digits and
// state 0 (valid).
func measured(physio, unit uint16, x float64, decimals int) driver.NuObsValue {
	p := math.Pow(10, float64(decimals))
	return driver.NuObsValue{PhysioID: physio, Unit: unit, Value: driver.NewFloat(math.Round(x*p) / p)}
}

// noValue returns a numeric the monitor cannot show: NaN with state.
func noValue(physio, unit uint16, state driver.MeasurementState) driver.NuObsValue {
	return driver.NuObsValue{PhysioID: physio, Unit: unit, State: state, Value: driver.FloatNaN}
}

// oximetry returns the pulse-oximetry numerics for v with the states an
// IntelliVue monitor gives them: INVALID and UNAVAILABLE without a value
// while the sensor is off, UNAVAILABLE without a value while the pulse is
// searched for, QUESTIONABLE on the erratic values of motion artefact.
func oximetry(v scenario.Vitals) (spo2, pulse, perf driver.NuObsValue) {
	switch {
	case v.SensorOff:
		const st = driver.StateInvalid | driver.StateUnavailable
		return noValue(physioSpO2, unitPercent, st), noValue(physioPulse, unitBeatMin, st), noValue(physioPerf, unitDimless, st)
	case v.NoSignal:
		const st = driver.StateUnavailable
		return noValue(physioSpO2, unitPercent, st), noValue(physioPulse, unitBeatMin, st), noValue(physioPerf, unitDimless, st)
	}
	spo2 = measured(physioSpO2, unitPercent, v.SpO2, 0)
	pulse = measured(physioPulse, unitBeatMin, v.PulseRate, 0)
	perf = measured(physioPerf, unitDimless, v.PerfusionIndex, 2)
	if v.Artefact {
		spo2.State |= driver.StateQuestionable
		pulse.State |= driver.StateQuestionable
		perf.State |= driver.StateQuestionable
	}
	return spo2, pulse, perf
}

// objects returns the monitor's numeric objects at elapsed time since the
// start of the run, in the order it lists them: the calculated parameters
// that are switched off (listed without values), then the measurements.
// start is the device time of the start of the run.
func (d *Device) objects(elapsed time.Duration, start time.Time) []object {
	v := d.engine.At(elapsed)
	spo2, pulse, perf := oximetry(v)

	// NBP: the last automatic measurement, with its time.
	nbpAt := elapsed.Truncate(d.cfg.NBPInterval)
	nbp := d.engine.At(nbpAt)

	st := make([]driver.NuObsValue, len(stLeads))
	for i, lead := range stLeads {
		st[i] = measured(lead, unitMM, d.st[i], 1)
	}
	off := func(handle uint16, label string, textID uint16) object {
		return object{handle: handle, label: label, textID: textID, colour: colourWhite}
	}
	return []object{
		off(0x0120, "CPP", physioCPP),
		off(0x0121, "ΔSpO₂", physioSpO2Diff),
		off(0x0122, "ΔTemp", physioTempDiff),
		off(0x0124, "QT", physioQT),
		off(0x0125, "QTc", physioQTc),
		off(0x0126, "STindx", physioSTIndex),
		off(0x0127, "ABP", physioABP),
		off(0x0128, "PAP", physioPAP),
		off(0x0129, "CVP", physioCVP),
		off(0x012A, "ICP", physioICP),
		off(0x012B, "Pulse", physioPulsBP),
		{handle: 0x0140, label: "NBP", textID: physioNBP, colour: colourRed, dispRes: dispWhole,
			measuredAt: start.Add(nbpAt).Truncate(time.Second),
			values: []driver.NuObsValue{
				measured(physioNBPSys, unitMMHg, nbp.SysBP, 0),
				measured(physioNBPDia, unitMMHg, nbp.DiaBP, 0),
				measured(physioNBPMean, unitMMHg, nbp.MeanBP, 0),
			}},
		{handle: 0x0141, label: "HR", textID: physioHR, colour: colourGreen, dispRes: dispWhole,
			values: []driver.NuObsValue{measured(physioHR, unitBeatMin, v.HeartRate, 0)}},
		{handle: 0x0142, label: "ST", textID: physioST, colour: colourGreen, dispRes: dispOneDigit, values: st},
		{handle: 0x0143, label: "PVC", textID: physioPVC, colour: colourGreen, dispRes: dispWhole,
			values: []driver.NuObsValue{measured(physioPVC, unitBeatMin, 0, 0)}},
		{handle: 0x0144, label: "RR", textID: physioRR, colour: colourYellow, dispRes: dispWhole,
			values: []driver.NuObsValue{measured(physioRR, unitRespMin, v.RespRate, 0)}},
		{handle: 0x0150, label: "SpO₂", textID: physioSpO2, colour: colourCyan, dispRes: dispWhole,
			values: []driver.NuObsValue{spo2}},
		{handle: 0x0151, label: "Pulse", textID: physioPulse, colour: colourCyan, dispRes: dispWhole,
			values: []driver.NuObsValue{pulse}},
		{handle: 0x0152, label: "Perf", textID: physioPerf, colour: colourCyan, dispRes: dispTwoDigits,
			values: []driver.NuObsValue{perf}},
		{handle: 0x0160, label: "Temp", textID: physioTemp, colour: colourMagenta, dispRes: dispOneDigit,
			values: []driver.NuObsValue{measured(physioTemp, unitCelsius, v.TempC, 1)}},
		{handle: 0x0170, label: "etCO₂", textID: physioEtCO2, colour: colourWhite, dispRes: dispWhole,
			values: []driver.NuObsValue{measured(physioEtCO2, unitMMHg, v.EtCO2, 0)}},
		{handle: 0x0171, label: "awRR", textID: physioAwRR, colour: colourWhite, dispRes: dispWhole,
			values: []driver.NuObsValue{measured(physioAwRR, unitRespMin, v.RespRate, 0)}},
	}
}

// contexts lists the objects as the poll reply's contexts: the switched-off
// calculated parameters in one, the measurements in the other.
func contexts(objs []object) []driver.ContextPoll {
	calc := driver.ContextPoll{ContextID: contextCalculated}
	meas := driver.ContextPoll{ContextID: contextMeasured}
	for _, o := range objs {
		if len(o.values) == 0 {
			calc.Observations = append(calc.Observations, o.observation())
		} else {
			meas.Observations = append(meas.Observations, o.observation())
		}
	}
	return []driver.ContextPoll{calc, meas}
}

// meantValues returns the values a host reads from contexts, in wire
// order, mapped by the driver's own table (drivers/intellivue
// NumericValue), each with its object's measurement time in loc: what the
// monitor means to say.
func meantValues(cs []driver.ContextPoll, loc *time.Location) []drivers.Value {
	var out []drivers.Value
	for _, c := range cs {
		for _, o := range c.Observations {
			nums, _ := o.Numerics()                // built here: always decodes
			stamp, _ := o.TimeStamp()              // likewise
			at, _ := stamp.At(loc, 0, time.Time{}) // absolute stamps only
			for _, n := range nums {
				v := driver.NumericValue(n, o.Label())
				v.MeasuredAt = at
				out = append(out, v)
			}
		}
	}
	return out
}

// stBaselines returns each lead's ST deviation in mm for a seed: small,
// fixed for the run, one decimal as the monitor shows them.
func stBaselines(seed int64) []float64 {
	out := make([]float64, len(stLeads))
	for i := range out {
		x := uint64(seed)*0x9e3779b97f4a7c15 + uint64(i+1)*0xbf58476d1ce4e5b9
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		x ^= x >> 31
		u := float64(x>>11)/float64(1<<52) - 1 // [-1, 1)
		out[i] = math.Round(12*u) / 10         // -1.2 .. 1.2 mm
	}
	return out
}

func be16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }
func be32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
