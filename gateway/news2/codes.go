package news2

// SNOMED CT (UK edition) codes for publishing NEWS2. The total and
// sub-score codes are observable entities used as Observation.code and
// Observation.component.code in the UK Core NEWS2 examples
// (NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN,
// examples/UKCore-Bundle-NEWS2Observations-Example.xml); the Scale 2
// sub-score code is from HL7 Norway's NEWS2 example
// (HL7Norway/VkpObservation, vkp-news2-create.fsh) and NHS England's
// virtual-wards Observation guidance. The ACVPU codes are from the UK Core
// ACVPU value set.
const (
	// SystemSNOMED is the FHIR system URI of SNOMED CT.
	SystemSNOMED = "http://snomed.info/sct"
	// ScoreUnit is the UCUM annotation used as the unit of NEWS2 scores.
	ScoreUnit = "{ScoreOf}"

	// CodeTotal is "Royal College of Physicians NEWS2 total score".
	CodeTotal = "1104051000000101"
	// CodeRespRateScore is the respiration rate sub-score.
	CodeRespRateScore = "1104301000000104"
	// CodeSpO2Scale1Score is the oxygen saturation scale 1 sub-score.
	CodeSpO2Scale1Score = "1104311000000102"
	// CodeSpO2Scale2Score is the oxygen saturation scale 2 sub-score.
	CodeSpO2Scale2Score = "1104321000000108"
	// CodeAirOrOxygenScore is the air or oxygen sub-score.
	CodeAirOrOxygenScore = "1104331000000105"
	// CodeSystolicBPScore is the systolic blood pressure sub-score.
	CodeSystolicBPScore = "1104341000000101"
	// CodePulseScore is the pulse sub-score.
	CodePulseScore = "1104351000000103"
	// CodeConsciousnessScore is the consciousness sub-score.
	CodeConsciousnessScore = "1104361000000100"
	// CodeTemperatureScore is the temperature sub-score.
	CodeTemperatureScore = "1104371000000107"

	// CodeACVPU is "ACVPU (Alert Confusion Voice Pain Unresponsive) scale
	// score", the code of an observation whose value is an ACVPU level.
	CodeACVPU = "1104441000000107"
	// CodeMentallyAlert is the ACVPU value Alert.
	CodeMentallyAlert = "248234008"
	// CodeAcuteConfusion is the ACVPU value new Confusion.
	CodeAcuteConfusion = "130987000"
	// CodeRespondsToVoice is the ACVPU value Voice.
	CodeRespondsToVoice = "300202002"
	// CodeRespondsToPain is the ACVPU value Pain.
	CodeRespondsToPain = "450847001"
	// CodeUnresponsive is the ACVPU value Unresponsive.
	CodeUnresponsive = "422768004"
	// CodeRoomAir is "Breathing room air", as in the UK Core NEWS2 example.
	// The reference names no single code for supplemental oxygen.
	CodeRoomAir = "722742002"
)

// ScoreCode returns the SNOMED CT code of p's sub-score, or "" for an
// invalid parameter.
func (p Parameter) ScoreCode() string {
	switch p {
	case RespRate:
		return CodeRespRateScore
	case SpO2Scale1:
		return CodeSpO2Scale1Score
	case SpO2Scale2:
		return CodeSpO2Scale2Score
	case AirOrOxygen:
		return CodeAirOrOxygenScore
	case SystolicBP:
		return CodeSystolicBPScore
	case Pulse:
		return CodePulseScore
	case Consciousness:
		return CodeConsciousnessScore
	case Temperature:
		return CodeTemperatureScore
	}
	return ""
}
