// Package record defines the gateway's unit of work: a Record is one device
// reading after validation and association, in a neutral form that the
// buffer stores and the encoders (gateway/fhir, ...) turn into messages.
//
// Records are stored as JSON; fields are only ever added, so that a backlog
// written by one version of the gateway is still published by the next.
package record

import (
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// Record is one reading from one device at one bed, ready to publish.
type Record struct {
	// Gateway is the id of the gateway that read the device.
	Gateway string `json:"gateway"`
	// Site, Ward and Bed locate the device. Bed is the configured bed name.
	Site string `json:"site"`
	Ward string `json:"ward"`
	Bed  string `json:"bed"`
	// Topic is where the encoded record is published.
	Topic string `json:"topic"`
	// Device identifies the device; DeviceKey is the stable string used in
	// identifiers (the serial when the device reports one, else the bed's
	// configured device name).
	Device    drivers.DeviceID `json:"device"`
	DeviceKey string           `json:"device_key"`
	// DeviceTime is the device's own timestamp (zero when it sends none),
	// ReceivedAt the gateway clock when the reading was complete.
	DeviceTime time.Time `json:"device_time"`
	ReceivedAt time.Time `json:"received_at"`
	// ClockOffset is DeviceTime - ReceivedAt as the gateway measured it,
	// zero when the device sends no time.
	ClockOffset time.Duration `json:"clock_offset"`
	// Patient is the patient in the bed when the reading was taken, or nil.
	Patient *Patient `json:"patient,omitempty"`
	// DeviceStatus is the device's own status word for the reading, verbatim.
	DeviceStatus string `json:"device_status,omitempty"`
	// Observations are the accepted values of the reading.
	Observations []Observation `json:"observations"`
	// Unmeasured names the parameters the device listed with no value and
	// no status flag that are not vital signs (for example SpCO on an
	// oximeter without that licence): the device does not measure them, so
	// they become no observation, but the record keeps the fact.
	Unmeasured []string `json:"unmeasured,omitempty"`
}

// Patient is the patient associated with the bed.
type Patient struct {
	// NHSNumber is the 10-digit NHS number (Modulus 11 checked), or empty.
	NHSNumber string `json:"nhs_number,omitempty"`
	// LocalID is a local hospital number, or empty.
	LocalID string `json:"local_id,omitempty"`
}

// Observation is one value of a reading.
type Observation struct {
	// ID is the stable identifier of the observation: a UUIDv5 of the
	// gateway id, device key, MDC code and device time (receive time when
	// the device sends no time). Re-deliveries carry the same ID.
	ID string `json:"id"`
	// MDC and Ref name the measurement in IEEE 11073-10101 terms.
	MDC uint32 `json:"mdc"`
	Ref string `json:"ref,omitempty"`
	// Label is the device's own label, when it sends one.
	Label string `json:"label,omitempty"`
	// Value is nil when the device reported no valid number; Absent then
	// says why.
	Value *float64 `json:"value"`
	// Unit is the UCUM unit of Value.
	Unit string `json:"unit"`
	// Status is the device's verdict on the value.
	Status drivers.Status `json:"status"`
	// Absent is the reason there is no value, as a FHIR data-absent-reason
	// code ("not-performed", "error", "unknown", "asked-declined", ...);
	// empty when Value is set.
	Absent string `json:"absent,omitempty"`
	// Questionable marks a value forwarded with a warning; Reason says why.
	Questionable bool   `json:"questionable,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// Encoder turns a record into the bytes published to the EPR. seq is the
// gateway's sequence number of the record (contiguous across restarts),
// which the encoding carries so that a receiver can prove there is no gap.
type Encoder interface {
	// Encode returns the message body for r.
	Encode(r Record, seq uint64) ([]byte, error)
	// ContentType names the format, for example "application/fhir+json".
	ContentType() string
}
