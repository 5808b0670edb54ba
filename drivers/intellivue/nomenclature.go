package intellivue

import "strconv"

// physioRefs names common physiological ids (SCADA partition) by their
// IEEE 11073-10101 reference ids. The Philips NOM_ names in the Data Export
// guide are the same with a NOM_ prefix, except the heart rate, whose
// 10101 name is MDC_ECG_HEART_RATE (NOM_ECG_CARD_BEAT_RATE) [DEI
// "Physiological Identifiers"].
var physioRefs = map[uint16]string{
	0x0101: "MDC_ECG_ELEC_POTL_I",
	0x0102: "MDC_ECG_ELEC_POTL_II",
	0x0301: "MDC_ECG_AMPL_ST_I",
	0x0302: "MDC_ECG_AMPL_ST_II",
	0x0303: "MDC_ECG_AMPL_ST_V1",
	0x0304: "MDC_ECG_AMPL_ST_V2",
	0x0305: "MDC_ECG_AMPL_ST_V3",
	0x0306: "MDC_ECG_AMPL_ST_V4",
	0x0307: "MDC_ECG_AMPL_ST_V5",
	0x0308: "MDC_ECG_AMPL_ST_V6",
	0x033D: "MDC_ECG_AMPL_ST_III",
	0x033E: "MDC_ECG_AMPL_ST_AVR",
	0x033F: "MDC_ECG_AMPL_ST_AVL",
	0x0340: "MDC_ECG_AMPL_ST_AVF",
	0x0343: "MDC_ECG_AMPL_ST_V",
	0x034B: "MDC_ECG_AMPL_ST_MCL",
	0x4182: "MDC_ECG_HEART_RATE",
	0x4261: "MDC_ECG_V_P_C_CNT",
	0x480A: "MDC_PULS_RATE",
	0x4822: "MDC_PLETH_PULS_RATE",
	0x4A05: "MDC_PRESS_BLD_NONINV_SYS",
	0x4A06: "MDC_PRESS_BLD_NONINV_DIA",
	0x4A07: "MDC_PRESS_BLD_NONINV_MEAN",
	0x4A15: "MDC_PRESS_BLD_ART_ABP_SYS",
	0x4A16: "MDC_PRESS_BLD_ART_ABP_DIA",
	0x4A17: "MDC_PRESS_BLD_ART_ABP_MEAN",
	0x4BB0: "MDC_PULS_OXIM_PERF_REL",
	0x4BB8: "MDC_PULS_OXIM_SAT_O2",
	0x4B48: "MDC_TEMP",
	0x500A: "MDC_RESP_RATE",
	0x5012: "MDC_AWAY_RESP_RATE",
	0x50B0: "MDC_AWAY_CO2_ET",
}

// PhysioRef returns the MDC reference id of a physiological id, or "" when
// this package does not know it by name.
func PhysioRef(physioID uint16) string { return physioRefs[physioID] }

// MDCCode returns the IEEE 11073-10101 code of a physiological id:
// partition 2 (SCADA) in the high 16 bits. NOM_PULS_OXIM_SAT_O2 (19384)
// is 150456.
func MDCCode(physioID uint16) uint32 { return PartitionSCADA<<16 | uint32(physioID) }

// units maps unit codes (DIM partition) to UCUM [DEI "Units of
// Measure"].
var units = map[uint16]string{
	0:    "",         // NOM_DIM_NOS: no unit
	512:  "1",        // NOM_DIM_DIMLESS
	544:  "%",        // NOM_DIM_PERCENT
	576:  "[ppth]",   // NOM_DIM_PARTS_PER_THOUSAND
	608:  "[ppm]",    // NOM_DIM_PARTS_PER_MILLION
	992:  "[pH]",     // NOM_DIM_PH
	1280: "m",        // NOM_DIM_X_M
	1297: "cm",       // NOM_DIM_CENTI_M
	1298: "mm",       // NOM_DIM_MILLI_M
	1299: "um",       // NOM_DIM_MICRO_M
	1600: "L",        // NOM_DIM_X_L
	1618: "mL",       // NOM_DIM_MILLI_L
	1650: "mL",       // NOM_DIM_MILLI_L_PER_BREATH
	1728: "g",        // NOM_DIM_X_G
	1731: "kg",       // NOM_DIM_KILO_G
	2112: "g/dL",     // NOM_DIM_X_G_PER_DL
	2130: "mg/dL",    // NOM_DIM_MILLI_G_PER_DL
	2176: "s",        // NOM_DIM_SEC
	2194: "ms",       // NOM_DIM_MILLI_SEC
	2208: "min",      // NOM_DIM_MIN
	2240: "h",        // NOM_DIM_HR
	2496: "Hz",       // NOM_DIM_HZ
	2528: "/min",     // NOM_DIM_PER_MIN
	2720: "/min",     // NOM_DIM_BEAT_PER_MIN
	2752: "/min",     // NOM_DIM_PULS_PER_MIN
	2784: "/min",     // NOM_DIM_RESP_PER_MIN
	2848: "L/min/m2", // NOM_DIM_X_L_PER_MIN_PER_M_SQ
	3072: "L/min",    // NOM_DIM_X_L_PER_MIN
	3090: "mL/min",   // NOM_DIM_MILLI_L_PER_MIN
	3843: "kPa",      // NOM_DIM_KILO_PASCAL
	3872: "mm[Hg]",   // NOM_DIM_MMHG
	3904: "cm[H2O]",  // NOM_DIM_CM_H2O
	3954: "mbar",     // NOM_DIM_MILLI_BAR
	4274: "mV",       // NOM_DIM_MILLI_VOLT
	4275: "uV",       // NOM_DIM_MICRO_VOLT
	4288: "Ohm",      // NOM_DIM_X_OHM
	4384: "K",        // NOM_DIM_KELVIN
	4416: "[degF]",   // NOM_DIM_FAHR
	4722: "mmol/L",   // NOM_DIM_MILLI_MOLE_PER_L
	4723: "umol/L",   // NOM_DIM_MICRO_MOLE_PER_L
	4850: "meq/L",    // NOM_DIM_MILLI_EQUIV_PER_L
	6048: "Cel",      // NOM_DIM_DEGC
}

// UnitUCUM returns the UCUM unit of a unit code. A code this package does
// not know is passed through as "mdc-dim:" and its decimal value (for
// example "mdc-dim:9999"), so the gateway can still tell units apart.
func UnitUCUM(code uint16) string {
	if u, ok := units[code]; ok {
		return u
	}
	return "mdc-dim:" + strconv.Itoa(int(code))
}
