package mdc

import "slices"

// Codes: partition << 16 | term code. The partition of every code below
// is 2 (SCADA) except where noted.
const (
	ECGHeartRate    uint32 = 147842 // MDC_ECG_HEART_RATE
	PulseRate       uint32 = 149514 // MDC_PULS_RATE
	PulsOximPulse   uint32 = 149530 // MDC_PULS_OXIM_PULS_RATE
	PulseRateNonInv uint32 = 149546 // MDC_PULS_RATE_NON_INV

	PressBldSys    uint32 = 150017 // MDC_PRESS_BLD_SYS
	NIBP           uint32 = 150020 // MDC_PRESS_BLD_NONINV (the panel)
	NIBPSys        uint32 = 150021 // MDC_PRESS_BLD_NONINV_SYS
	NIBPDia        uint32 = 150022 // MDC_PRESS_BLD_NONINV_DIA
	NIBPMean       uint32 = 150023 // MDC_PRESS_BLD_NONINV_MEAN
	ArterialBP     uint32 = 150032 // MDC_PRESS_BLD_ART (the panel)
	ArterialBPSys  uint32 = 150033 // MDC_PRESS_BLD_ART_SYS
	ArterialBPDia  uint32 = 150034 // MDC_PRESS_BLD_ART_DIA
	ArterialBPMean uint32 = 150035 // MDC_PRESS_BLD_ART_MEAN

	Temp       uint32 = 150344 // MDC_TEMP
	TempBody   uint32 = 150364 // MDC_TEMP_BODY
	TempCore   uint32 = 150368 // MDC_TEMP_CORE
	TempTymp   uint32 = 150392 // MDC_TEMP_TYMP
	TempRect   uint32 = 188420 // MDC_TEMP_RECT
	TempOral   uint32 = 188424 // MDC_TEMP_ORAL
	TempEar    uint32 = 188428 // MDC_TEMP_EAR
	TempAxilla uint32 = 188452 // MDC_TEMP_AXILLA

	PerfusionRel   uint32 = 150448 // MDC_PULS_OXIM_PERF_REL
	SpO2           uint32 = 150456 // MDC_PULS_OXIM_SAT_O2
	PerfusionIndex uint32 = 150488 // MDC_BLD_PERF_INDEX

	RespRate      uint32 = 151562 // MDC_RESP_RATE
	AwayRespRate  uint32 = 151570 // MDC_AWAY_RESP_RATE
	TThorRespRate uint32 = 151578 // MDC_TTHOR_RESP_RATE
	CO2RespRate   uint32 = 151594 // MDC_CO2_RESP_RATE
	AwayCO2Et     uint32 = 151708 // MDC_AWAY_CO2_ET

	ConcHbArt    uint32 = 159764 // MDC_CONC_HB_ART
	ConcHbMetGen uint32 = 160124 // MDC_CONC_HB_MET_GEN
	ConcHbCOGen  uint32 = 160128 // MDC_CONC_HB_CO_GEN
)

// Vital names: the keys of validation.ranges in the configuration.
const (
	VitalPulseRate      = "pulse-rate"
	VitalSpO2           = "spo2"
	VitalRespRate       = "resp-rate"
	VitalSystolic       = "bp-systolic"
	VitalDiastolic      = "bp-diastolic"
	VitalMean           = "bp-mean"
	VitalTemperature    = "temperature"
	VitalEtCO2          = "etco2"
	VitalPerfusionIndex = "perfusion-index"
)

// NEWS2 is the NEWS2 parameter (RCP 2017) a vital feeds, if any.
type NEWS2 uint8

// The NEWS2 parameters a monitor measures. Consciousness and air or oxygen
// come from the nurse, not from a code.
const (
	NoNEWS2 NEWS2 = iota
	NEWS2RespRate
	NEWS2SpO2
	NEWS2Systolic
	NEWS2Pulse
	NEWS2Temperature
)

// BPRole is the part a code plays in a blood-pressure panel.
type BPRole uint8

// Blood-pressure roles.
const (
	NoBPRole BPRole = iota
	Systolic
	Diastolic
	Mean
)

// Range is a default plausibility range in the vital's unit: outside
// [Min, Max] a value is implausible, outside [SoftMin, SoftMax]
// questionable.
type Range struct {
	Min, Max, SoftMin, SoftMax float64
}

// Vital is one vital sign and the codes that measure it.
type Vital struct {
	Name string
	// Unit is the canonical UCUM unit values are normalised to.
	Unit string
	// Same lists units taken on Unit's scale without conversion.
	Same []string
	// LOINC is the vital's LOINC code, or empty when it has none.
	LOINC string
	// Range is the default plausibility range, in Unit.
	Range Range
	// NEWS2 is the NEWS2 parameter the vital feeds.
	NEWS2 NEWS2
	// Codes measure the vital, in NEWS2 precedence (the first wins when two
	// arrive at the same instant).
	Codes []uint32
}

// Ranges from published sources; see gateway/validate's documentation.
var vitals = [...]Vital{
	{Name: VitalPulseRate, Unit: "/min", LOINC: "8867-4", Range: Range{20, 300, 30, 220}, NEWS2: NEWS2Pulse,
		Codes: []uint32{PulsOximPulse, PulseRateNonInv, PulseRate, ECGHeartRate}},
	{Name: VitalSpO2, Unit: "%", LOINC: "59408-5", Range: Range{50, 100, 70, 100}, NEWS2: NEWS2SpO2,
		Codes: []uint32{SpO2}},
	{Name: VitalRespRate, Unit: "/min", LOINC: "9279-1", Range: Range{1, 70, 5, 50}, NEWS2: NEWS2RespRate,
		Codes: []uint32{RespRate, TThorRespRate, CO2RespRate, AwayRespRate}},
	{Name: VitalSystolic, Unit: "mm[Hg]", LOINC: "8480-6", Range: Range{40, 300, 40, 300}, NEWS2: NEWS2Systolic,
		Codes: []uint32{NIBPSys, ArterialBPSys, PressBldSys}},
	{Name: VitalDiastolic, Unit: "mm[Hg]", LOINC: "8462-4", Range: Range{10, 200, 10, 200},
		Codes: []uint32{NIBPDia, ArterialBPDia}},
	{Name: VitalMean, Unit: "mm[Hg]", LOINC: "8478-0", Range: Range{20, 250, 20, 250},
		Codes: []uint32{NIBPMean, ArterialBPMean}},
	{Name: VitalTemperature, Unit: "Cel", LOINC: "8310-5", Range: Range{25, 45, 32, 42}, NEWS2: NEWS2Temperature,
		Codes: []uint32{TempBody, TempCore, TempOral, TempAxilla, TempTymp, TempEar, TempRect, Temp}},
	{Name: VitalEtCO2, Unit: "kPa", LOINC: "19891-1", Range: Range{0, 20, 0, 20},
		Codes: []uint32{AwayCO2Et}},
	// Philips reports its relative perfusion index dimensionless ("1") on
	// the scale Masimo reports PI in "%".
	{Name: VitalPerfusionIndex, Unit: "%", Same: []string{"1"}, Range: Range{0.02, 20, 0.02, 20},
		Codes: []uint32{PerfusionRel, PerfusionIndex}},
}

// Vitals returns every vital, copies in a fixed order.
func Vitals() []Vital {
	out := make([]Vital, len(vitals))
	for i, v := range vitals {
		v.Same = append([]string(nil), v.Same...)
		v.Codes = append([]uint32(nil), v.Codes...)
		out[i] = v
	}
	return out
}

// VitalOf returns the vital code measures and the code's NEWS2 precedence
// (0 first), or false when code measures no vital in the table.
// It is called for every value read, so it copies only the vital found.
func VitalOf(code uint32) (v Vital, rank int, ok bool) {
	for i := range vitals {
		if rank := slices.Index(vitals[i].Codes, code); rank >= 0 {
			v := vitals[i]
			v.Same = slices.Clone(v.Same)
			v.Codes = slices.Clone(v.Codes)
			return v, rank, true
		}
	}
	return Vital{}, 0, false
}

// Panel is one blood pressure a device may report: the panel's code and
// its parts.
type Panel struct {
	Code                      uint32
	Systolic, Diastolic, Mean uint32
}

// Panels are the blood pressures whose parts are checked and encoded
// together: non-invasive and invasive arterial.
func Panels() []Panel {
	return []Panel{
		{NIBP, NIBPSys, NIBPDia, NIBPMean},
		{ArterialBP, ArterialBPSys, ArterialBPDia, ArterialBPMean},
	}
}

// RoleOf returns the part code plays in a blood-pressure panel and the
// panel, or NoBPRole.
func RoleOf(code uint32) (BPRole, Panel) {
	for _, p := range Panels() {
		switch code {
		case p.Systolic:
			return Systolic, p
		case p.Diastolic:
			return Diastolic, p
		case p.Mean:
			return Mean, p
		}
	}
	return NoBPRole, Panel{}
}
