package dri

import (
	"fmt"
	"math"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// refs names the MDC codes this driver sends.
var refs = map[uint32]string{
	mdc.ECGHeartRate:    "MDC_ECG_HEART_RATE",
	mdc.TThorRespRate:   "MDC_TTHOR_RESP_RATE",
	mdc.ArterialBPSys:   "MDC_PRESS_BLD_ART_SYS",
	mdc.ArterialBPDia:   "MDC_PRESS_BLD_ART_DIA",
	mdc.ArterialBPMean:  "MDC_PRESS_BLD_ART_MEAN",
	mdc.NIBPSys:         "MDC_PRESS_BLD_NONINV_SYS",
	mdc.NIBPDia:         "MDC_PRESS_BLD_NONINV_DIA",
	mdc.NIBPMean:        "MDC_PRESS_BLD_NONINV_MEAN",
	mdc.PulseRateNonInv: "MDC_PULS_RATE_NON_INV",
	mdc.Temp:            "MDC_TEMP",
	mdc.TempCore:        "MDC_TEMP_CORE",
	mdc.TempTymp:        "MDC_TEMP_TYMP",
	mdc.TempRect:        "MDC_TEMP_RECT",
	mdc.TempAxilla:      "MDC_TEMP_AXILLA",
	mdc.SpO2:            "MDC_PULS_OXIM_SAT_O2",
	mdc.PulsOximPulse:   "MDC_PULS_OXIM_PULS_RATE",
	mdc.CO2RespRate:     "MDC_CO2_RESP_RATE",
	mdc.AwayCO2Et:       "MDC_AWAY_CO2_ET",
	mdc.AwayRespRate:    "MDC_AWAY_RESP_RATE",
}

// Invasive pressure labels (p_group label) [8005313 table 3-16].
var pressureLabels = [...]string{"", "ART", "CVP", "PA", "RAP", "RVP", "LAP", "ICP", "ABP", "P1", "P2", "P3", "P4",
	"P5", "P6", "SP", "FEM", "UAC", "UVC", "ICP2", "P7", "P8", "FEMV"}

// arterial reports whether an invasive pressure label is an arterial line.
func arterial(label uint16) bool {
	switch label {
	case 1, 8, 16, 17: // ART, ABP, FEM, UAC
		return true
	}
	return false
}

// Temperature labels (t_group label) [8005313 table 3-20].
var tempLabels = [...]string{"", "ESO", "NASO", "TYMP", "RECT", "BLAD", "AXIL", "SKIN", "AIRW", "ROOM", "MYO",
	"T1", "T2", "T3", "T4", "CORE", "SURF", "T5", "T6"}

// tempCode returns the MDC code of a temperature site, or 0 for a
// temperature that is not the patient's body temperature (skin, airway,
// room, myocardial, surface).
func tempCode(label uint16) uint32 {
	switch label {
	case 1, 2, 5, 15: // ESO, NASO, BLAD, CORE
		return mdc.TempCore
	case 3:
		return mdc.TempTymp
	case 4:
		return mdc.TempRect
	case 6:
		return mdc.TempAxilla
	case 0, 11, 12, 13, 14, 17, 18: // not labelled, T1-T6
		return mdc.Temp
	}
	return 0
}

// Anaesthetic agent labels (aa_group label) [8005313 table 3-35].
var agentLabels = [...]string{"unknown", "NONE", "HAL", "ENF", "ISO", "DES", "SEV"}

// Saturation labels (SpO2 label bits 0-1, svo2_group label).
var satLabels = [...]string{"SO2", "SaO2", "SvO2"}

func labelOf(names []string, label uint16) string {
	if int(label) < len(names) {
		return names[label]
	}
	return fmt.Sprintf("label%d", label)
}

// Parameter specific status bits.
const (
	ecgAsystole    = 1 << 2
	ecgNoise       = 1 << 7
	ecgArtifact    = 1 << 8
	ecgLearning    = 1 << 9
	pressZeroing   = 1 << 2
	nibpMeasuring  = 1 << 5 // in the label
	nibpCalibrate  = 1 << 7 // in the label
	nibpOlder60s   = 1 << 8 // in the label: the measurement ended over 60 s ago
	co2Apnea       = 1 << 2
	co2Calibrating = 1 << 3
	co2Zeroing     = 1 << 4
	co2Occlusion   = 1 << 5
	co2AirLeak     = 1 << 6
	co2ApneaResp   = 1 << 7
	gasCalibrating = 1 << 2
	gasOff         = 1 << 3
	flowDisconnect = 1 << 2
	flowCalibrate  = 1 << 3
	flowZeroing    = 1 << 4
	flowObstruct   = 1 << 5
	flowLeak       = 1 << 6
	flowOff        = 1 << 7
	svo2Old        = 1 << 2
	svo2FaultCable = 1 << 3
	svo2NoCable    = 1 << 4
	svo2NotCal     = 1 << 5
	svo2Recal      = 1 << 6
	svo2Range      = 1 << 7
	svo2Catheter   = 1 << 8
	svo2Intensity  = 1 << 9
)

// groupFlags returns the flags a group's status (and, for NIBP, label)
// sets on all its values, and whether the group measures: a group whose
// measurement is not active (or is off) sends no numbers.
func groupFlags(kind groupKind, status uint32, label uint16) (drivers.Status, bool) {
	active := status&StatusActive != 0
	var f drivers.Status
	has := func(bits uint32) bool { return status&bits != 0 }
	switch kind {
	case kindECG, kindECGExtra:
		if has(ecgNoise | ecgArtifact | ecgLearning) {
			f |= drivers.Questionable
		}
	case kindPressure:
		if has(pressZeroing) {
			f |= drivers.Calibrating
		}
	case kindNIBP:
		if label&nibpCalibrate != 0 {
			f |= drivers.Calibrating
		}
		active = true // NIBP values stand between measurements; its label says how old
	case kindCO2:
		if has(co2Calibrating | co2Zeroing) {
			f |= drivers.Calibrating
		}
		if has(co2Occlusion | co2AirLeak) {
			f |= drivers.Questionable
		}
	case kindGas, kindAgent:
		if has(gasCalibrating) {
			f |= drivers.Calibrating
		}
		active = active && !has(gasOff)
	case kindFlow:
		if has(flowCalibrate | flowZeroing) {
			f |= drivers.Calibrating
		}
		if has(flowObstruct | flowLeak) {
			f |= drivers.Questionable
		}
		if has(flowDisconnect) {
			f |= drivers.SensorOff
		}
		active = active && !has(flowOff)
	case kindSvO2:
		if has(svo2FaultCable | svo2NoCable) {
			f |= drivers.SensorOff
		}
		if has(svo2NotCal) {
			f |= drivers.Calibrating
		}
		if has(svo2Range) {
			f |= drivers.OutOfRange
		}
		if has(svo2Old | svo2Recal | svo2Catheter | svo2Intensity) {
			f |= drivers.Questionable
		}
	}
	return f, active
}

// special returns the flags of a reserved value, or ok false for a number.
func special(raw int16) (drivers.Status, bool) {
	if raw > DataInvalidLimit {
		return 0, false
	}
	switch raw {
	case DataNotUpdated, DataDiscont:
		return drivers.Unavailable, true
	case DataUnderRange, DataOverRange:
		return drivers.Unavailable | drivers.OutOfRange, true
	case DataNotCalibrated:
		return drivers.Unavailable | drivers.Calibrating, true
	}
	return drivers.Unavailable | drivers.Invalid, true // DATA_INVALID and the rest
}

// value builds one value from a raw field: a reserved value, or any value
// of a group that does not measure, becomes a value without a number.
func value(code uint32, label string, f field, raw int16, flags drivers.Status, measuring bool) drivers.Value {
	v := drivers.Value{MDC: code, Ref: refs[code], Label: label, Unit: f.unit, Status: flags}
	if sp, ok := special(raw); ok {
		v.Status |= sp
		return v
	}
	if !measuring {
		v.Status |= drivers.Unavailable
		return v
	}
	v.Value = drivers.Float(float64(raw) / f.div)
	return v
}

// groupValues returns every value of an existing group, in the spec's
// order, each under its MDC code when it has one and always under the
// label "<group>[(<label>)].<field>". ecgStatus is the ECG group's status,
// which the ECG extra group (without a header) shares.
func groupValues(l groupLayout, g Group, ecgStatus uint32) []drivers.Value {
	status := g.Status
	if l.kind == kindECGExtra {
		status = ecgStatus
	}
	flags, measuring := groupFlags(l.kind, status, g.Label)
	name := l.name
	codes := make([]uint32, len(l.fields))
	switch l.kind {
	case kindECG:
		codes[0], codes[4] = mdc.ECGHeartRate, mdc.TThorRespRate
	case kindPressure:
		name += "(" + labelOf(pressureLabels[:], g.Label) + ")"
		if arterial(g.Label) {
			codes[0], codes[1], codes[2] = mdc.ArterialBPSys, mdc.ArterialBPDia, mdc.ArterialBPMean
		}
	case kindNIBP:
		codes = []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean, mdc.PulseRateNonInv}
	case kindTemp:
		name += "(" + labelOf(tempLabels[:], g.Label) + ")"
		codes[0] = tempCode(g.Label)
	case kindSpO2:
		codes[0], codes[1] = mdc.SpO2, mdc.PulsOximPulse
	case kindCO2:
		codes[2] = mdc.CO2RespRate
	case kindAgent:
		name += "(" + labelOf(agentLabels[:], g.Label) + ")"
	case kindFlow:
		codes[0] = mdc.AwayRespRate
	case kindSvO2:
		name += "(" + labelOf(satLabels[:], g.Label) + ")"
	}
	out := make([]drivers.Value, 0, len(l.fields)+1)
	for i, f := range l.fields {
		label := name + "." + f.name
		if l.kind == kindSpO2 && f.name == "svo2" {
			label = name + "." + labelOf(satLabels[:], g.Label&3)
		}
		fl := flags
		if l.kind == kindECG && i == 0 && status&ecgAsystole != 0 {
			fl |= drivers.AlarmActive
		}
		if l.kind == kindCO2 && f.name == "rr" && status&(co2Apnea|co2ApneaResp) != 0 {
			fl |= drivers.AlarmActive
		}
		out = append(out, value(codes[i], label, f, g.Values[i], fl, measuring))
	}
	if l.kind == kindCO2 {
		out = append(out, etCO2(g, flags, measuring))
	}
	return out
}

// etCO2 derives the end-tidal CO2 partial pressure from the CO2 group's
// concentration (1/100 %) and ambient pressure (1/10 mmHg), to 0.1 mmHg.
// Without a valid ambient pressure it has no number.
func etCO2(g Group, flags drivers.Status, measuring bool) drivers.Value {
	v := value(mdc.AwayCO2Et, "co2.et_press", field{"et_press", 1, "mm[Hg]"}, g.Values[0], flags, measuring)
	if v.Value == nil {
		return v
	}
	amb := g.Values[3]
	if sp, ok := special(amb); ok || amb <= 0 {
		v.Value, v.Status = nil, v.Status|sp|drivers.Unavailable
		return v
	}
	p := float64(g.Values[0]) / 100 / 100 * float64(amb) / 10
	v.Value = drivers.Float(math.Round(p*10) / 10)
	return v
}

// rawValues passes through a subrecord the driver does not decode: each
// 16-bit word as a value labelled "<what>[<offset>]", without a unit.
func rawValues(what string, data []byte) []drivers.Value {
	out := make([]drivers.Value, 0, len(data)/2)
	for off := 0; off+1 < len(data); off += 2 {
		raw := int16(le.Uint16(data[off:]))
		out = append(out, value(0, fmt.Sprintf("%s[%d]", what, off), field{div: 1}, raw, 0, true))
	}
	return out
}
