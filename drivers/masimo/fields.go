package masimo

import (
	"strings"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// IEEE 11073-10101 codes (partition 2 << 16 | term code) of the parameters
// this driver knows. See the package documentation for the choices.
const (
	MDCSpO2           = mdc.SpO2          // MDC_PULS_OXIM_SAT_O2
	MDCPulseRate      = mdc.PulsOximPulse // MDC_PULS_OXIM_PULS_RATE
	MDCPerfusionIndex = mdc.PerfusionRel  // MDC_PULS_OXIM_PERF_REL
	MDCSpCO           = mdc.ConcHbCOGen   // MDC_CONC_HB_CO_GEN
	MDCSpMet          = mdc.ConcHbMetGen  // MDC_CONC_HB_MET_GEN
	MDCSpHb           = mdc.ConcHbArt     // MDC_CONC_HB_ART
)

// Field describes one ASCII 1 parameter the driver knows: how its value
// maps to a drivers.Value and how a device prints it.
type Field struct {
	Key  string // the key as a Radical-7 sends it, for example "SPO2"
	MDC  uint32 // MDC code, or 0 when the parameter has none
	Ref  string // MDC reference id, or empty
	Unit string // UCUM unit of the value

	Width    int  // digits before the decimal point, zero padded
	Decimals int  // digits after the decimal point
	Percent  bool // the device prints "%" after the value
	Signed   bool // the device always prints a sign
}

// fields are the parameters of the Rad-8 manual and the Radical-7 lines.
var fields = [...]Field{
	{Key: "SPO2", MDC: MDCSpO2, Ref: "MDC_PULS_OXIM_SAT_O2", Unit: "%", Width: 3, Percent: true},
	{Key: "BPM", MDC: MDCPulseRate, Ref: "MDC_PULS_OXIM_PULS_RATE", Unit: "/min", Width: 3},
	{Key: "PI", MDC: MDCPerfusionIndex, Ref: "MDC_PULS_OXIM_PERF_REL", Unit: "%", Width: 2, Decimals: 2, Percent: true},
	{Key: "SPCO", MDC: MDCSpCO, Ref: "MDC_CONC_HB_CO_GEN", Unit: "%", Width: 2, Decimals: 1, Percent: true},
	{Key: "SPMET", MDC: MDCSpMet, Ref: "MDC_CONC_HB_MET_GEN", Unit: "%", Width: 2, Decimals: 1, Percent: true},
	{Key: "SPHB", MDC: MDCSpHb, Ref: "MDC_CONC_HB_ART", Unit: "g/dL", Width: 2, Decimals: 1},
	{Key: "SPOC", Unit: "mL/dL", Width: 2},
	{Key: "PVI", Unit: "%", Width: 3},
	{Key: "DESAT", Unit: "1", Width: 2},
	{Key: "PIDELTA", Unit: "%", Width: 2, Signed: true},
}

// LookupField returns the known parameter sent under key, matched without
// regard to case.
func LookupField(key string) (Field, bool) {
	k := strings.ToUpper(key)
	if k == "PR" { // the pulse rate in the manual's trend output
		k = "BPM"
	}
	for _, f := range fields {
		if f.Key == k {
			return f, true
		}
	}
	return Field{}, false
}

// lookupMDC returns the known parameter with a non-zero MDC code.
func lookupMDC(code uint32) (Field, bool) {
	for _, f := range fields {
		if code != 0 && f.MDC == code {
			return f, true
		}
	}
	return Field{}, false
}

// Value builds the drivers.Value for this parameter. v nil means the device
// sent dashes, and Unavailable is added to st. The Label is f.Key.
func (f Field) Value(v *float64, st drivers.Status) drivers.Value {
	if v == nil {
		st |= drivers.Unavailable
	}
	return drivers.Value{MDC: f.MDC, Ref: f.Ref, Label: f.Key, Value: v, Unit: f.Unit, Status: st}
}

// Exception is the EXC word: the device's exception bits [Rad-8 manual,
// serial output, exception codes].
type Exception uint32

// The exception bits. 0x100 and 0x200 are reserved.
const (
	ExcNoSensor           Exception = 0x001
	ExcDefectiveSensor    Exception = 0x002
	ExcLowPerfusion       Exception = 0x004
	ExcPulseSearch        Exception = 0x008
	ExcInterference       Exception = 0x010
	ExcSensorOff          Exception = 0x020
	ExcAmbientLight       Exception = 0x040
	ExcUnrecognizedSensor Exception = 0x080
	ExcLowSignalIQ        Exception = 0x400
	ExcSET                Exception = 0x800
)

const (
	excSensorFault = ExcNoSensor | ExcDefectiveSensor | ExcSensorOff | ExcUnrecognizedSensor
	excQuestion    = ExcLowPerfusion | ExcPulseSearch | ExcInterference | ExcAmbientLight | ExcLowSignalIQ
)

// Status returns the flags the exception bits set on every value of a line:
// SensorOff|Invalid for a missing, defective, unrecognised or detached
// sensor, Questionable for low perfusion, pulse search, interference,
// ambient light or low signal IQ. Other bits set nothing.
func (e Exception) Status() drivers.Status {
	var st drivers.Status
	if e&excSensorFault != 0 {
		st |= drivers.SensorOff | drivers.Invalid
	}
	if e&excQuestion != 0 {
		st |= drivers.Questionable
	}
	return st
}
