package terminology

import (
	"slices"
)

// Code system URIs.
const (
	// SystemMDC is the FHIR system of IEEE 11073-10101 codes.
	SystemMDC = "urn:iso:std:iso:11073:10101"
	// SystemLOINC is the FHIR system of LOINC codes.
	SystemLOINC = "http://loinc.org"
	// SystemSNOMED is the FHIR system of SNOMED CT codes.
	SystemSNOMED = "http://snomed.info/sct"
	// SystemUCUM is the FHIR system of UCUM unit codes.
	SystemUCUM = "http://unitsofmeasure.org"
)

// MDC code partitions (IEEE 11073-10101 §A.2): a code is partition<<16 | term.
const (
	// PartitionSCADA holds measurements (metrics).
	PartitionSCADA uint16 = 2
	// PartitionDIM holds units of measure (dimensions).
	PartitionDIM uint16 = 4
)

// MDCCode returns the 32-bit context-free code of a term in a partition.
func MDCCode(partition, term uint16) uint32 { return uint32(partition)<<16 | uint32(term) }

// SplitMDC returns the partition and term code of a 32-bit MDC code.
func SplitMDC(code uint32) (partition, term uint16) { return uint16(code >> 16), uint16(code) }

// Coding is one code from a code system.
type Coding struct {
	System  string
	Code    string
	Display string
}

// IsZero reports whether c holds no code.
func (c Coding) IsZero() bool { return c.Code == "" }

// Unit is a unit of measure in UCUM (FHIR) and MDC (HL7 v2 OBX-6) terms.
type Unit struct {
	// UCUM is the UCUM code, for example "/min".
	UCUM string
	// Display is the human-readable name, for example "per minute".
	Display string
	// MDC is the MDC dimension code (partition 4), for example 264864.
	MDC uint32
	// MDCRef is the MDC RefID of the dimension, for example "MDC_DIM_BEAT_PER_MIN".
	MDCRef string
}

// Role is the part a value plays in a blood-pressure panel.
type Role uint8

// Roles.
const (
	NoRole Role = iota
	Systolic
	Diastolic
	Mean
)

// String names the role.
func (r Role) String() string {
	switch r {
	case Systolic:
		return "systolic"
	case Diastolic:
		return "diastolic"
	case Mean:
		return "mean"
	}
	return "none"
}

// Core FHIR R4 vital-signs profile ids (canonical ProfileBase + id).
const (
	ProfileBase       = "http://hl7.org/fhir/StructureDefinition/"
	ProfileVitalSigns = "vitalsigns"
	ProfileHeartRate  = "heartrate"
	ProfileRespRate   = "resprate"
	ProfileOxygenSat  = "oxygensat"
	ProfileBodyTemp   = "bodytemp"
	ProfileBP         = "bp"
)

// UK Core vital-signs profile ids (canonical UKCoreBase + id).
const (
	UKCoreBase            = "https://fhir.hl7.org.uk/StructureDefinition/"
	UKCoreHeartRate       = "UKCore-Observation-VitalSigns-HeartRate"
	UKCoreRespirationRate = "UKCore-Observation-VitalSigns-RespirationRate"
	UKCoreOxygenSat       = "UKCore-Observation-VitalSigns-OxygenSaturation"
	UKCoreBodyTemperature = "UKCore-Observation-VitalSigns-BodyTemperature"
	UKCoreBloodPressure   = "UKCore-Observation-VitalSigns-BloodPressure"
)

// Vital describes one MDC measurement code.
type Vital struct {
	// MDC is the IEEE 11073-10101 code and Ref its RefID.
	MDC uint32
	Ref string
	// Display is a short human-readable name, for example "Heart rate".
	Display string
	// LOINC are the LOINC codings, the code a FHIR profile fixes first
	// (SpO2: 2708-6, then 59408-5). Empty for a device observation that
	// is not a vital sign.
	LOINC []Coding
	// SNOMED is the SNOMED CT coding (UK Core), or zero when there is none.
	SNOMED Coding
	// Units are the accepted units, the usual one first.
	Units []Unit
	// Profile is the id of the FHIR R4 core profile for the measurement
	// (ProfileOxygenSat, ...; ProfileVitalSigns when only the generic
	// profile applies), empty for a device observation.
	Profile string
	// UKCoreProfile is the id of the UK Core vital-signs profile, empty
	// when none applies or the table lacks a code that profile needs.
	UKCoreProfile string
	// Components are the MDC codes of a panel's parts (blood pressure),
	// empty for a single value.
	Components []uint32
	// Role is the part the value plays in a blood-pressure panel.
	Role Role
}

// IsVitalSign reports whether v is a vital sign (it has a LOINC coding).
func (v Vital) IsVitalSign() bool { return len(v.LOINC) > 0 }

// IsPanel reports whether v is a panel whose values are its components.
func (v Vital) IsPanel() bool { return len(v.Components) > 0 }

// Unit returns the accepted unit with UCUM code ucum.
func (v Vital) Unit(ucum string) (Unit, bool) {
	for _, u := range v.Units {
		if u.UCUM == ucum {
			return u, true
		}
	}
	return Unit{}, false
}

// Lookup returns the entry for an MDC code. The result is a copy: callers
// may change it freely.
func Lookup(mdc uint32) (Vital, bool) {
	i, ok := slices.BinarySearchFunc(table[:], mdc, func(v Vital, code uint32) int {
		switch {
		case v.MDC < code:
			return -1
		case v.MDC > code:
			return 1
		}
		return 0
	})
	if !ok {
		return Vital{}, false
	}
	return clone(table[i]), true
}

// PanelOf returns the panel that lists the MDC code as a component (the
// NIBP panel for 150021, the invasive arterial panel for 150033, ...).
func PanelOf(component uint32) (Vital, bool) {
	for _, v := range table {
		if slices.Contains(v.Components, component) {
			return clone(v), true
		}
	}
	return Vital{}, false
}

// All returns every entry in MDC code order, as copies.
func All() []Vital {
	out := make([]Vital, len(table))
	for i, v := range table {
		out[i] = clone(v)
	}
	return out
}

// UnitByUCUM returns the unit the table knows for a UCUM code.
func UnitByUCUM(ucum string) (Unit, bool) {
	for _, u := range units {
		if u.UCUM == ucum {
			return u, true
		}
	}
	return Unit{}, false
}

func clone(v Vital) Vital {
	v.LOINC = slices.Clone(v.LOINC)
	v.Units = slices.Clone(v.Units)
	v.Components = slices.Clone(v.Components)
	return v
}
