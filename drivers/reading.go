package drivers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeviceID identifies one physical device as far as its protocol allows.
type DeviceID struct {
	// Driver is the registry name of the protocol that read the device.
	Driver string `json:"driver"`
	// Model is the device model when the protocol reports it, else empty.
	Model string `json:"model,omitempty"`
	// Serial is the device serial number when the protocol reports it, else empty.
	Serial string `json:"serial,omitempty"`
}

// Reading is one set of values a device reported at one instant.
type Reading struct {
	Device DeviceID `json:"device"`
	// DeviceTime is the time the device stamped on the values, in the
	// device's own clock. It is the zero Time when the device sent none.
	DeviceTime time.Time `json:"device_time"`
	// ReceivedAt is the gateway's clock when the reading was complete.
	ReceivedAt time.Time `json:"received_at"`
	// Values are every value the device reported, known to the driver or
	// not, in the order the device sent them.
	Values []Value `json:"values"`
	// DeviceStatus is the device's own status word for the whole reading,
	// verbatim (for example Masimo's "EXC=000820 ALARM=0000"); empty when the
	// protocol has none.
	DeviceStatus string `json:"device_status,omitempty"`
}

// Value is one measured value in IEEE 11073-10101 terms.
type Value struct {
	// MDC is the IEEE 11073-10101 code (partition << 16 | term code).
	MDC uint32 `json:"mdc"`
	// Ref is the MDC reference id, for example "MDC_PULS_OXIM_SAT_O2".
	// Empty when the code is not one the driver knows by name.
	Ref string `json:"ref,omitempty"`
	// Label is the device's own label for the value when it sends one.
	Label string `json:"label,omitempty"`
	// Value is the number, or nil when the device sent no number (dashes,
	// NaN or another sentinel); Status then says why.
	Value *float64 `json:"value"`
	// Unit is the UCUM unit of Value, for example "%", "/min", "mm[Hg]".
	Unit string `json:"unit"`
	// Status is the device's verdict on the value. Zero means valid.
	Status Status `json:"status"`
	// MeasuredAt is when the device took this value, in the device's own
	// clock, when the device time-stamps the value itself (a non-invasive
	// blood pressure: the cuff measurement's time, repeated unchanged in
	// every later report of it). It is the zero Time for continuous values,
	// measured at the reading's DeviceTime. The gateway forwards a value
	// with a MeasuredAt once per measurement, at that time.
	MeasuredAt time.Time `json:"measured_at,omitzero"`
}

// Status is a set of flags a device reports about a value.
type Status uint32

// The status flags, from the least to the most severe. A driver sets every
// flag its device reports; the gateway decides what each means for the EPR.
const (
	// Unavailable: the device sent no value (dashes, NaN, "no result").
	Unavailable Status = 1 << iota
	// Invalid: the device says the value is not valid.
	Invalid
	// Questionable: the device says the value may be unreliable
	// (low signal quality, interference, low perfusion, searching).
	Questionable
	// SensorOff: no sensor, sensor off the patient, or a defective sensor.
	SensorOff
	// Demo: the device is in demonstration or test mode.
	Demo
	// Calibrating: the device is calibrating or zeroing.
	Calibrating
	// OutOfRange: the value is outside the device's measurement range.
	OutOfRange
	// AlarmActive: an alarm is active on this value.
	AlarmActive
)

var statusNames = [...]string{
	"unavailable", "invalid", "questionable", "sensor-off",
	"demo", "calibrating", "out-of-range", "alarm",
}

// String returns "ok" for a valid value, else the flag names joined with "|".
func (s Status) String() string {
	if s == 0 {
		return "ok"
	}
	var b strings.Builder
	for i, name := range statusNames {
		if s&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
	}
	if rest := s &^ (1<<len(statusNames) - 1); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("unknown")
	}
	return b.String()
}

// knownStatus is every flag statusNames names.
const knownStatus = Status(1<<len(statusNames) - 1)

// MarshalText encodes the status as its String form, except that bits no
// flag names are written as one hexadecimal number ("questionable|0x400")
// instead of "unknown", so that UnmarshalText gives back the same status.
func (s Status) MarshalText() ([]byte, error) {
	rest := s &^ knownStatus
	if rest == 0 {
		return []byte(s.String()), nil
	}
	var text []byte
	if known := s & knownStatus; known != 0 {
		text = append([]byte(known.String()), '|')
	}
	return fmt.Appendf(text, "%#x", uint32(rest)), nil
}

// UnmarshalText parses what MarshalText writes: the String form, with
// bits no flag names as one hexadecimal number.
func (s *Status) UnmarshalText(text []byte) error {
	*s = 0
	if string(text) == "ok" || len(text) == 0 {
		return nil
	}
	for _, part := range strings.Split(string(text), "|") {
		if rest, ok := unknownBits(part); ok {
			*s |= rest
			continue
		}
		found := false
		for i, name := range statusNames {
			if part == name {
				*s |= 1 << i
				found = true
			}
		}
		if !found {
			return &StatusError{Text: part}
		}
	}
	return nil
}

// unknownBits parses a hexadecimal part of a status's text: bits that no
// flag names, and none that one does.
func unknownBits(part string) (Status, bool) {
	if !strings.HasPrefix(part, "0x") {
		return 0, false
	}
	n, err := strconv.ParseUint(part[2:], 16, 32)
	if err != nil || n == 0 || Status(n)&knownStatus != 0 {
		return 0, false
	}
	return Status(n), true
}

// StatusError reports a status name that is not one of the known flags.
type StatusError struct{ Text string }

func (e *StatusError) Error() string { return "drivers: unknown status flag " + `"` + e.Text + `"` }

// Float returns a pointer to v, for building Values.
func Float(v float64) *float64 { return &v }
