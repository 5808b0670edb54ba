package terminology

import "github.com/bedgate/bedgate/drivers/mdc"

// Units, MDC dimension codes from the IEEE 11073-20601 agent headers
// (partition 4: MDC_DIM_PERCENT term 544, MDC_DIM_BEAT_PER_MIN 2720, ...),
// UCUM codes as fixed by the FHIR R4 vital-signs profiles, displays as in
// the UK Core examples. Read only.
var (
	percent    = Unit{UCUM: "%", Display: "percent", MDC: 262688, MDCRef: "MDC_DIM_PERCENT"}
	beatPerMin = Unit{UCUM: "/min", Display: "per minute", MDC: 264864, MDCRef: "MDC_DIM_BEAT_PER_MIN"}
	respPerMin = Unit{UCUM: "/min", Display: "per minute", MDC: 264928, MDCRef: "MDC_DIM_RESP_PER_MIN"}
	mmHg       = Unit{UCUM: "mm[Hg]", Display: "millimeter of mercury", MDC: 266016, MDCRef: "MDC_DIM_MMHG"}
	kPa        = Unit{UCUM: "kPa", Display: "kilopascal", MDC: 265987, MDCRef: "MDC_DIM_KILO_PASCAL"}
	degC       = Unit{UCUM: "Cel", Display: "degree Celsius", MDC: 268192, MDCRef: "MDC_DIM_DEGC"}
	degF       = Unit{UCUM: "[degF]", Display: "degree Fahrenheit", MDC: 266560, MDCRef: "MDC_DIM_FAHR"}

	// units lists every unit once per UCUM code (the first wins for "/min").
	units = [...]Unit{percent, beatPerMin, mmHg, kPa, degC, degF}
)

// LOINC codings (FHIR R4 value set observation-vitalsignresult; 59408-5,
// 8478-0 and 19891-1 as listed by DK Core and the MII ICU module).
var (
	loincHeartRate = Coding{SystemLOINC, "8867-4", "Heart rate"}
	loincRespRate  = Coding{SystemLOINC, "9279-1", "Respiratory rate"}
	loincSpO2      = Coding{SystemLOINC, "2708-6", "Oxygen saturation in Arterial blood"}
	loincSpO2Pulse = Coding{SystemLOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"}
	loincBodyTemp  = Coding{SystemLOINC, "8310-5", "Body temperature"}
	loincBPPanel   = Coding{SystemLOINC, "85354-9", "Blood pressure panel with all children optional"}
	loincSystolic  = Coding{SystemLOINC, "8480-6", "Systolic blood pressure"}
	loincDiastolic = Coding{SystemLOINC, "8462-4", "Diastolic blood pressure"}
	loincMeanBP    = Coding{SystemLOINC, "8478-0", "Mean blood pressure"}
	loincEtCO2     = Coding{SystemLOINC, "19891-1", "Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration"}
)

// SNOMED CT codings (UK Core value sets and examples, DK Core).
var (
	sctHeartRate = Coding{SystemSNOMED, "364075005", "Heart rate"}
	sctPulseRate = Coding{SystemSNOMED, "78564009", "Pulse rate"}
	sctSpO2      = Coding{SystemSNOMED, "431314004", "Peripheral oxygen saturation"}
	sctRespRate  = Coding{SystemSNOMED, "86290005", "Respiratory rate"}
	sctSystolic  = Coding{SystemSNOMED, "271649006", "Systolic blood pressure"}
	sctDiastolic = Coding{SystemSNOMED, "271650006", "Diastolic blood pressure"}
	sctBP        = Coding{SystemSNOMED, "75367002", "Blood pressure"}
	sctBodyTemp  = Coding{SystemSNOMED, "386725007", "Body temperature"}
	sctCoreTemp  = Coding{SystemSNOMED, "276885007", "Core body temperature"}
	sctTympTemp  = Coding{SystemSNOMED, "415974002", "Tympanic temperature"}
	sctRectTemp  = Coding{SystemSNOMED, "307047009", "Rectal temperature"}
	sctOralTemp  = Coding{SystemSNOMED, "415945006", "Oral temperature"}
	sctAxilTemp  = Coding{SystemSNOMED, "415882003", "Axillary temperature"}
	sctEtCO2     = Coding{SystemSNOMED, "250790007", ""}
)

// table is sorted by MDC code (Lookup searches it). Read only: Lookup and
// All return copies.
var table = [...]Vital{
	{MDC: mdc.ECGHeartRate, Ref: "MDC_ECG_HEART_RATE", Display: "Heart rate",
		LOINC: []Coding{loincHeartRate}, SNOMED: sctHeartRate, Units: []Unit{beatPerMin},
		Profile: ProfileHeartRate, UKCoreProfile: UKCoreHeartRate},
	{MDC: mdc.PulseRate, Ref: "MDC_PULS_RATE", Display: "Pulse rate",
		LOINC: []Coding{loincHeartRate}, SNOMED: sctPulseRate, Units: []Unit{beatPerMin},
		Profile: ProfileHeartRate, UKCoreProfile: UKCoreHeartRate},
	{MDC: mdc.PulsOximPulse, Ref: "MDC_PULS_OXIM_PULS_RATE", Display: "Pulse rate (pulse oximeter)",
		LOINC: []Coding{loincHeartRate}, SNOMED: sctPulseRate, Units: []Unit{beatPerMin},
		Profile: ProfileHeartRate, UKCoreProfile: UKCoreHeartRate},
	{MDC: mdc.PulseRateNonInv, Ref: "MDC_PULS_RATE_NON_INV", Display: "Pulse rate (non-invasive blood pressure)",
		LOINC: []Coding{loincHeartRate}, SNOMED: sctPulseRate, Units: []Unit{beatPerMin},
		Profile: ProfileHeartRate, UKCoreProfile: UKCoreHeartRate},
	// The NIBP panel: SNOMED CT 75367002 as in the UK Core blood-pressure
	// example, so a panel with a patient claims UK Core BloodPressure.
	// MDC_PRESS_BLD_SYS: a systolic pressure of no named source, in no
	// panel.
	{MDC: mdc.PressBldSys, Ref: "MDC_PRESS_BLD_SYS", Display: "Systolic blood pressure",
		LOINC: []Coding{loincSystolic}, SNOMED: sctSystolic, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns},
	{MDC: mdc.NIBP, Ref: "MDC_PRESS_BLD_NONINV", Display: "Non-invasive blood pressure",
		LOINC: []Coding{loincBPPanel}, SNOMED: sctBP, Units: []Unit{mmHg},
		Profile: ProfileBP, UKCoreProfile: UKCoreBloodPressure, Components: []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean}},
	{MDC: mdc.NIBPSys, Ref: "MDC_PRESS_BLD_NONINV_SYS", Display: "Systolic blood pressure (non-invasive)",
		LOINC: []Coding{loincSystolic}, SNOMED: sctSystolic, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns, Role: Systolic},
	{MDC: mdc.NIBPDia, Ref: "MDC_PRESS_BLD_NONINV_DIA", Display: "Diastolic blood pressure (non-invasive)",
		LOINC: []Coding{loincDiastolic}, SNOMED: sctDiastolic, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns, Role: Diastolic},
	{MDC: mdc.NIBPMean, Ref: "MDC_PRESS_BLD_NONINV_MEAN", Display: "Mean blood pressure (non-invasive)",
		LOINC: []Coding{loincMeanBP}, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns, Role: Mean},
	// The invasive arterial panel (term 18960). Its parts carry no SNOMED
	// coding in the table, so neither does the panel: no UK Core claim.
	{MDC: mdc.ArterialBP, Ref: "MDC_PRESS_BLD_ART", Display: "Arterial blood pressure (invasive)",
		LOINC: []Coding{loincBPPanel}, Units: []Unit{mmHg},
		Profile: ProfileBP, Components: []uint32{mdc.ArterialBPSys, mdc.ArterialBPDia, mdc.ArterialBPMean}},
	{MDC: mdc.ArterialBPSys, Ref: "MDC_PRESS_BLD_ART_SYS", Display: "Systolic arterial blood pressure (invasive)",
		LOINC: []Coding{loincSystolic}, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns, Role: Systolic},
	{MDC: mdc.ArterialBPDia, Ref: "MDC_PRESS_BLD_ART_DIA", Display: "Diastolic arterial blood pressure (invasive)",
		LOINC: []Coding{loincDiastolic}, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns, Role: Diastolic},
	{MDC: mdc.ArterialBPMean, Ref: "MDC_PRESS_BLD_ART_MEAN", Display: "Mean arterial blood pressure (invasive)",
		LOINC: []Coding{loincMeanBP}, Units: []Unit{mmHg},
		Profile: ProfileVitalSigns, Role: Mean},
	// MDC_TEMP: the generic temperature many monitors send; no SNOMED body
	// temperature concept is claimed for it.
	{MDC: mdc.Temp, Ref: "MDC_TEMP", Display: "Temperature",
		LOINC: []Coding{loincBodyTemp}, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp},
	{MDC: mdc.TempBody, Ref: "MDC_TEMP_BODY", Display: "Body temperature",
		LOINC: []Coding{loincBodyTemp}, SNOMED: sctBodyTemp, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp, UKCoreProfile: UKCoreBodyTemperature},
	{MDC: mdc.TempCore, Ref: "MDC_TEMP_CORE", Display: "Core body temperature",
		LOINC: []Coding{loincBodyTemp}, SNOMED: sctCoreTemp, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp, UKCoreProfile: UKCoreBodyTemperature},
	{MDC: mdc.TempTymp, Ref: "MDC_TEMP_TYMP", Display: "Tympanic temperature",
		LOINC: []Coding{loincBodyTemp}, SNOMED: sctTympTemp, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp, UKCoreProfile: UKCoreBodyTemperature},
	// Perfusion index: no LOINC vital-signs code, a device observation.
	// MDC_PULS_OXIM_PERF_REL is term 19376 (150448); some PCD-01 senders use
	// MDC_BLD_PERF_INDEX (150488, below) for the same reading.
	{MDC: mdc.PerfusionRel, Ref: "MDC_PULS_OXIM_PERF_REL", Display: "Perfusion index",
		Units: []Unit{percent}},
	{MDC: mdc.SpO2, Ref: "MDC_PULS_OXIM_SAT_O2", Display: "Oxygen saturation (pulse oximetry)",
		LOINC: []Coding{loincSpO2, loincSpO2Pulse}, SNOMED: sctSpO2, Units: []Unit{percent},
		Profile: ProfileOxygenSat, UKCoreProfile: UKCoreOxygenSat},
	{MDC: mdc.PerfusionIndex, Ref: "MDC_BLD_PERF_INDEX", Display: "Perfusion index",
		Units: []Unit{percent}},
	{MDC: mdc.RespRate, Ref: "MDC_RESP_RATE", Display: "Respiratory rate",
		LOINC: []Coding{loincRespRate}, SNOMED: sctRespRate, Units: []Unit{respPerMin},
		Profile: ProfileRespRate, UKCoreProfile: UKCoreRespirationRate},
	{MDC: mdc.AwayRespRate, Ref: "MDC_AWAY_RESP_RATE", Display: "Respiratory rate (airway flow)",
		LOINC: []Coding{loincRespRate}, SNOMED: sctRespRate, Units: []Unit{respPerMin},
		Profile: ProfileRespRate, UKCoreProfile: UKCoreRespirationRate},
	{MDC: mdc.TThorRespRate, Ref: "MDC_TTHOR_RESP_RATE", Display: "Respiratory rate (thoracic impedance)",
		LOINC: []Coding{loincRespRate}, SNOMED: sctRespRate, Units: []Unit{respPerMin},
		Profile: ProfileRespRate, UKCoreProfile: UKCoreRespirationRate},
	{MDC: mdc.CO2RespRate, Ref: "MDC_CO2_RESP_RATE", Display: "Respiratory rate (CO2)",
		LOINC: []Coding{loincRespRate}, SNOMED: sctRespRate, Units: []Unit{respPerMin},
		Profile: ProfileRespRate, UKCoreProfile: UKCoreRespirationRate},
	// etCO2: UK capnographs often show kPa.
	{MDC: mdc.AwayCO2Et, Ref: "MDC_AWAY_CO2_ET", Display: "End-tidal CO2",
		LOINC: []Coding{loincEtCO2}, SNOMED: sctEtCO2, Units: []Unit{mmHg, kPa},
		Profile: ProfileVitalSigns},
	{MDC: mdc.TempRect, Ref: "MDC_TEMP_RECT", Display: "Rectal temperature",
		LOINC: []Coding{loincBodyTemp}, SNOMED: sctRectTemp, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp, UKCoreProfile: UKCoreBodyTemperature},
	{MDC: mdc.TempOral, Ref: "MDC_TEMP_ORAL", Display: "Oral temperature",
		LOINC: []Coding{loincBodyTemp}, SNOMED: sctOralTemp, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp, UKCoreProfile: UKCoreBodyTemperature},
	{MDC: mdc.TempEar, Ref: "MDC_TEMP_EAR", Display: "Ear temperature",
		LOINC: []Coding{loincBodyTemp}, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp},
	{MDC: mdc.TempAxilla, Ref: "MDC_TEMP_AXILLA", Display: "Axillary temperature",
		LOINC: []Coding{loincBodyTemp}, SNOMED: sctAxilTemp, Units: []Unit{degC, degF},
		Profile: ProfileBodyTemp, UKCoreProfile: UKCoreBodyTemperature},
}
