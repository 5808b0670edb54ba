package news2

import "fmt"

// Parameter is one row of NEWS2 chart 1. The zero value is not a parameter.
type Parameter int

// The parameters of chart 1, in the chart's order. A set uses one of
// SpO2Scale1 and SpO2Scale2, never both.
const (
	// RespRate is the respiration rate in breaths per minute.
	RespRate Parameter = iota + 1
	// SpO2Scale1 is peripheral oxygen saturation in percent, scored on
	// Scale 1 (the default).
	SpO2Scale1
	// SpO2Scale2 is peripheral oxygen saturation in percent, scored on
	// Scale 2 (hypercapnic respiratory failure with a prescribed target of
	// 88–92 %).
	SpO2Scale2
	// AirOrOxygen is whether the patient breathes air or supplemental
	// oxygen; its value is a [Breathing].
	AirOrOxygen
	// SystolicBP is the systolic blood pressure in mmHg.
	SystolicBP
	// Pulse is the pulse rate in beats per minute.
	Pulse
	// Consciousness is the ACVPU level; its value is an [ACVPU].
	Consciousness
	// Temperature is the body temperature in degrees Celsius.
	Temperature
)

// Parameters lists every Parameter in chart order.
func Parameters() []Parameter {
	return []Parameter{RespRate, SpO2Scale1, SpO2Scale2, AirOrOxygen, SystolicBP, Pulse, Consciousness, Temperature}
}

// String returns the parameter's name, for example "resp-rate".
func (p Parameter) String() string {
	switch p {
	case RespRate:
		return "resp-rate"
	case SpO2Scale1:
		return "spo2-scale1"
	case SpO2Scale2:
		return "spo2-scale2"
	case AirOrOxygen:
		return "air-or-oxygen"
	case SystolicBP:
		return "systolic-bp"
	case Pulse:
		return "pulse"
	case Consciousness:
		return "consciousness"
	case Temperature:
		return "temperature"
	}
	return fmt.Sprintf("Parameter(%d)", int(p))
}

// valid reports whether p is one of the chart's parameters.
func (p Parameter) valid() bool { return p >= RespRate && p <= Temperature }

// Breathing is the value of the [AirOrOxygen] parameter: whether the
// patient breathes room air or receives supplemental oxygen. The zero value
// is not a valid reading.
type Breathing int

// The two rows of chart 1's "Air or oxygen?" parameter.
const (
	// Air is room air: sub-score 0.
	Air Breathing = iota + 1
	// Oxygen is any supplemental oxygen: sub-score 2.
	Oxygen
)

// String returns "air" or "oxygen".
func (a Breathing) String() string {
	switch a {
	case Air:
		return "air"
	case Oxygen:
		return "oxygen"
	}
	return fmt.Sprintf("Breathing(%d)", int(a))
}

// ACVPU is the value of the [Consciousness] parameter: a level of the
// ACVPU scale. The zero value is not a valid reading, so a forgotten field
// never scores as Alert.
type ACVPU int

// The ACVPU levels. Any level but Alert scores 3.
const (
	// Alert: sub-score 0.
	Alert ACVPU = iota + 1
	// Confusion is new confusion (or new disorientation or agitation);
	// chronic confusion is reported as Alert by the caller. Sub-score 3.
	Confusion
	// Voice: responds to voice. Sub-score 3.
	Voice
	// Pain: responds to pain. Sub-score 3.
	Pain
	// Unresponsive: sub-score 3.
	Unresponsive
)

// String returns the level's ACVPU letter: "A", "C", "V", "P" or "U".
func (c ACVPU) String() string {
	switch c {
	case Alert:
		return "A"
	case Confusion:
		return "C"
	case Voice:
		return "V"
	case Pain:
		return "P"
	case Unresponsive:
		return "U"
	}
	return fmt.Sprintf("ACVPU(%d)", int(c))
}

// Code returns the SNOMED CT concept of the level in the UK Core ACVPU
// value set, or "" for an invalid level.
func (c ACVPU) Code() string {
	switch c {
	case Alert:
		return CodeMentallyAlert
	case Confusion:
		return CodeAcuteConfusion
	case Voice:
		return CodeRespondsToVoice
	case Pain:
		return CodeRespondsToPain
	case Unresponsive:
		return CodeUnresponsive
	}
	return ""
}
