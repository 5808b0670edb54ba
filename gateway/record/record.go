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
	// Device identifies the device; DeviceKey is the stable string
	// observation identifiers derive from: "<driver>:<serial>" when the
	// device reports a serial, else "bed:<site>/<ward>/<device name>". The
	// encoders identify the device itself by Device.Driver and
	// Device.Serial when there is a serial, else by Gateway and DeviceKey.
	Device    drivers.DeviceID `json:"device"`
	DeviceKey string           `json:"device_key"`
	// DeviceTime is the device's own timestamp (zero when it sends none),
	// ReceivedAt the gateway clock when the reading was complete.
	DeviceTime time.Time `json:"device_time"`
	ReceivedAt time.Time `json:"received_at"`
	// ClockOffset is DeviceTime - ReceivedAt as the gateway measured it,
	// zero when the device sends no time.
	ClockOffset time.Duration `json:"clock_offset"`
	// Episodic is true for a record of one episodic measurement (a
	// non-invasive blood pressure): its values were taken at DeviceTime,
	// the time the device stamped on them (drivers.Value.MeasuredAt) or,
	// from a device that stamps none, the time they were first reported;
	// ClockOffset is that of the reading that reported them. The gateway
	// forwards each measurement once.
	Episodic bool `json:"episodic,omitempty"`
	// Patient is the patient in the bed when the reading was taken, or nil.
	Patient *Patient `json:"patient,omitempty"`
	// Claim is the patient the reading's sender named (HL7 PID-3), kept
	// with the record until its association is decided (it may be held
	// first) and reconciled then; nil for serial readings. Encoders ignore
	// it.
	Claim *Claim `json:"claim,omitempty"`
	// DeviceStatus is the device's own status word for the reading,
	// verbatim. The encoders do not publish it: the values' flags carry
	// what it means.
	DeviceStatus string `json:"device_status,omitempty"`
	// Observations are the accepted values of the reading.
	Observations []Observation `json:"observations"`
	// Kind says what the record carries: "" (KindObservations) device
	// observations, KindRejected values quarantined with their reasons,
	// KindNEWS2 an advisory NEWS2 score. Encoders handle observations; the
	// gateway encodes the other kinds.
	Kind string `json:"kind,omitempty"`
	// Unassociated is true when no patient was associated with the bed at
	// the reading's time and the record is forwarded with location and
	// device only; AssocReason says why.
	Unassociated bool   `json:"unassociated,omitempty"`
	AssocReason  string `json:"assoc_reason,omitempty"`
	// Rejected holds the quarantined values of a KindRejected record.
	Rejected []Rejected `json:"rejected,omitempty"`
	// NEWS2 holds the score of a KindNEWS2 record.
	NEWS2 *NEWS2 `json:"news2,omitempty"`
	// Metrics are the kinds of value the device reports, for a KindContext
	// record: what the observation messages of the bed refer to.
	Metrics []Metric `json:"metrics,omitempty"`
	// Unmeasured names the parameters the device listed with no value and
	// no status flag that are not vital signs (for example SpCO on an
	// oximeter without that licence): the device does not measure them, so
	// they become no observation, but the record keeps the fact (the
	// encoders do not publish it).
	Unmeasured []string `json:"unmeasured,omitempty"`
}

// Record kinds.
const (
	KindObservations = ""
	KindRejected     = "rejected"
	KindNEWS2        = "news2"
	// KindContext is a bed's context: its location, its device and the
	// device's Metrics, which the bed's observation messages refer to
	// instead of carrying them (see ContextEncoder).
	KindContext = "context"
)

// Metric is one kind of value a device reports (a FHIR DeviceMetric): its
// MDC code and reference id, or the device's label for a value without an
// MDC code, and the UCUM unit of its values.
type Metric struct {
	MDC   uint32 `json:"mdc"`
	Ref   string `json:"ref,omitempty"`
	Label string `json:"label,omitempty"`
	Unit  string `json:"unit,omitempty"`
}

// Rejected is one value the gateway did not forward as an observation.
type Rejected struct {
	// Observation is the value as it was read (ID, code, value, unit).
	Observation Observation `json:"observation"`
	// Reason is a short code ("implausible-high", "unit", "stale",
	// "duplicate", "no-patient", ...); Text explains it for people.
	Reason string `json:"reason"`
	Text   string `json:"text"`
}

// NEWS2 is an advisory National Early Warning Score 2 computed from the
// bed's latest observations (RCP 2017).
type NEWS2 struct {
	// ID is the stable identifier of the score (a UUID).
	ID string `json:"id"`
	// Total is the aggregate score, Band the clinical risk band ("low",
	// "low-medium", "medium", "high"), Scale2 whether SpO2 scale 2 was used.
	Total  int    `json:"total"`
	Band   string `json:"band"`
	Scale2 bool   `json:"scale2,omitempty"`
	// SubScores are the seven parameters' scores, in chart order.
	SubScores []NEWS2SubScore `json:"sub_scores"`
	// Effective is the time of the newest observation used.
	Effective time.Time `json:"effective"`
	// Advisory is the chart's suggested response, for people.
	Advisory string `json:"advisory"`
}

// NEWS2SubScore is one parameter's contribution to a NEWS2 score.
type NEWS2SubScore struct {
	// Parameter names it: "resp-rate", "spo2-scale1", "spo2-scale2",
	// "air-or-oxygen", "systolic-bp", "pulse", "consciousness",
	// "temperature".
	Parameter string `json:"parameter"`
	// Code is the SNOMED CT code of the sub-score.
	Code  string `json:"code"`
	Score int    `json:"score"`
	// Value is the charted value (for consciousness and air or oxygen the
	// recorded category's text in ValueText).
	Value     *float64 `json:"value,omitempty"`
	ValueText string   `json:"value_text,omitempty"`
	// Observations are the IDs of the observations it came from.
	Observations []string `json:"observations,omitempty"`
	// Time is when the input was measured or assessed (a blood pressure:
	// the cuff measurement's time); zero when unknown.
	Time time.Time `json:"time,omitzero"`
	// Panel is set when the observation was a systolic pressure read
	// with exactly one diastolic of its pressure (and at most one mean):
	// an encoder that publishes such a pressure as one panel Observation
	// (gateway/fhir) names the panel, not the systolic, which is no
	// Observation of its own.
	Panel *NEWS2Panel `json:"panel,omitempty"`
}

// NEWS2Panel is the blood pressure a systolic input of a NEWS2 score was
// read in.
type NEWS2Panel struct {
	// MDC is the panel's code (150020 non-invasive, 150032 arterial).
	MDC uint32 `json:"mdc"`
	// Diastolic is the ID of the diastolic observation of the reading.
	Diastolic string `json:"diastolic"`
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
	// OriginalValue and OriginalUnit are what the device sent when the
	// gateway converted the value to the vital's canonical unit (Reason
	// then states the conversion); nil and empty otherwise.
	OriginalValue *float64 `json:"original_value,omitempty"`
	OriginalUnit  string   `json:"original_unit,omitempty"`
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

// ContextEncoder is an Encoder whose observation messages refer to the
// bed's context (a KindContext record: location, device, metrics) by
// identifier instead of carrying it. The gateway stores a context record
// before the first observation record of a bed that needs it, and again
// whenever the context changes, in the same ordered outbox.
type ContextEncoder interface {
	Encoder
	// Metrics returns the metrics the message of observation record r
	// refers to, in order of first use; the context record must hold them.
	Metrics(r Record) []Metric
}

// Claim is a patient a reading's sender named, to be reconciled with the
// bed's association when the reading is decided.
type Claim struct {
	Patient Patient `json:"patient"`
	// SenderWins makes the sender's patient the reading's patient when the
	// bed has none (mllp.patient: sender).
	SenderWins bool `json:"sender_wins,omitempty"`
}
