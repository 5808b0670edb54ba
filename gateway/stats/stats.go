package stats

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// Snapshot is the state of a gateway at one instant.
type Snapshot struct {
	Gateway string    `json:"gateway"`
	Site    string    `json:"site"`
	Ward    string    `json:"ward"`
	Version string    `json:"version,omitempty"`
	Time    time.Time `json:"time"`
	Started time.Time `json:"started"`

	Outbox   Outbox   `json:"outbox"`
	Link     Link     `json:"link"`
	Readings Readings `json:"readings"`
	Clock    Clock    `json:"clock"`
	Beds     []Bed    `json:"beds"`
	// MLLP counts what the HL7 listener received and answered; nil when
	// mllp.listen is not set.
	MLLP *MLLP `json:"mllp,omitempty"`

	// SubscriptionError says why the broker refused a subscription the
	// gateway needs (admissions, nurse entries); empty when all are in place.
	SubscriptionError string `json:"subscription_error,omitempty"`
}

// Outbox reports the durable outbox.
type Outbox struct {
	// Open is false once the outbox is closed (the gateway is stopping).
	Open      bool     `json:"open"`
	Entries   int64    `json:"entries"`
	Bytes     int64    `json:"bytes"`
	MaxBytes  int64    `json:"max_bytes"`
	OldestAge Duration `json:"oldest_age"`
	MaxAge    Duration `json:"max_age"`
	InFlight  int64    `json:"in_flight"`
	// Dropped counts entries the outbox dropped, by reason ("full", "age").
	Dropped map[string]uint64 `json:"dropped"`
	// Quarantined counts stored entries that could not be read back.
	Quarantined int64 `json:"quarantined"`
	// RecoveredFrom names where an unreadable store was moved at start,
	// and Salvage what was recovered from it.
	RecoveredFrom string   `json:"recovered_from,omitempty"`
	Salvage       *Salvage `json:"salvage,omitempty"`
	// Incarnation identifies the store; NextSeq is the sequence number the
	// next entry gets.
	Incarnation string `json:"incarnation"`
	NextSeq     uint64 `json:"next_seq"`
	// DiskFree is the free space on the store's filesystem (-1 unknown),
	// DiskReserve what the store keeps free, LimitBytes the bound in force
	// (max_bytes, or lower while the disk is nearly full).
	DiskFree    int64 `json:"disk_free"`
	DiskReserve int64 `json:"disk_reserve"`
	LimitBytes  int64 `json:"limit_bytes"`
}

// MLLP reports the HL7 v2 listener: connections, messages and the
// acknowledgements it sent.
type MLLP struct {
	Connections int64 `json:"connections"` // connections served
	Refused     int64 `json:"refused"`     // connections refused (source, certificate, too many)
	Messages    int64 `json:"messages"`    // messages read
	AA          int64 `json:"aa"`          // accepted (stored, or a resend already stored)
	AE          int64 `json:"ae"`          // not accepted: content, or not stored (the sender sends it again)
	AR          int64 `json:"ar"`          // rejected: not an HL7 ORU^R01 the gateway takes
	Duplicates  int64 `json:"duplicates"`  // resends answered AA without storing again
	Unanswered  int64 `json:"unanswered"`  // acknowledgements the sender was gone for
}

// Salvage counts the entries of a damaged store: recovered into the new
// one, unreadable, and missing (known by their numbers, never read).
type Salvage struct {
	Recovered  int64 `json:"recovered"`
	Unreadable int64 `json:"unreadable"`
	Missing    int64 `json:"missing"`
}

// Link reports the connection to the MQTT broker.
type Link struct {
	Connected bool `json:"connected"`
	// Broker is the node connected to; empty while not connected.
	Broker string `json:"broker,omitempty"`
	// LastAck is when the latest PUBACK removed an entry; zero before one.
	LastAck time.Time `json:"last_ack,omitzero"`
	// Connects counts connections made; Reconnects is Connects less the
	// first.
	Connects        int64 `json:"connects"`
	Reconnects      int64 `json:"reconnects"`
	ConnectFailures int64 `json:"connect_failures"`
	// LastError is why the latest connection attempt failed; empty once
	// connected.
	LastError string `json:"last_error,omitempty"`
	Published int64  `json:"published"`
	Acked     int64  `json:"acked"`
	Resent    int64  `json:"resent"`
}

// Readings counts what the gateway did with readings since it started.
type Readings struct {
	// Read counts readings the drivers delivered.
	Read int64 `json:"read"`
	// Stored counts records appended to the outbox, by kind: "obs"
	// (observations), "news2" (scores), "rejected" (quarantines),
	// "correction" (messages striking out or refiling a reading).
	Stored map[string]int64 `json:"stored"`
	// Quarantined counts values not forwarded, by reason.
	Quarantined map[string]uint64 `json:"quarantined"`
	// Flagged counts values forwarded flagged questionable, by reason.
	Flagged map[string]uint64 `json:"flagged"`
	// Repeats counts values of episodic measurements (a blood pressure)
	// the device reported again and the gateway did not forward again.
	Repeats uint64 `json:"repeats"`
	// Held counts readings waiting for a patient association now.
	Held int `json:"held"`
	// Corrections counts filed readings corrected since the start: a late
	// admission event showed they were filed for the wrong subject.
	Corrections int64 `json:"corrections"`
	// Lost counts held readings and NEWS2 scores that could not be stored.
	Lost int64 `json:"lost"`
	// NotCharted counts readings not forwarded because of the charting
	// cadence (forward_every): complete readings within an interval
	// already charted. They are not stored.
	NotCharted int64 `json:"not_charted"`
}

// Clock reports whether the gateway's clock is synchronised (the kernel's
// view, set by NTP or systemd-timesyncd).
type Clock struct {
	// Known is false where the kernel cannot be asked.
	Known        bool `json:"known"`
	Synchronised bool `json:"synchronised"`
	// MaxError is the kernel's estimate of the clock's maximum error.
	MaxError Duration `json:"max_error"`
}

// DeviceState is the state of a bed's device link.
type DeviceState string

// The device states.
const (
	// Opening: trying to open the port.
	Opening DeviceState = "opening"
	// PortMissing: the port does not exist (the adapter is not plugged
	// in, or the by-path/by-id name is wrong); retried.
	PortMissing DeviceState = "port-missing"
	// PortError: the port exists but cannot be opened (permission, busy,
	// not a serial port); retried.
	PortError DeviceState = "port-error"
	// Listening: the port is open, no reading yet.
	Listening DeviceState = "listening"
	// Connected: readings are arriving.
	Connected DeviceState = "connected"
	// Disconnected: the link was lost (or the gateway stops): the port
	// failed and is reopened, or the device fell silent and its port
	// stays open for its next bytes.
	Disconnected DeviceState = "disconnected"
)

// States lists every device state, in the order of the link's life.
func States() []DeviceState {
	return []DeviceState{Opening, PortMissing, PortError, Listening, Connected, Disconnected}
}

// Bed is one bed's device and readings.
type Bed struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
	Port   string `json:"port"`
	// Node is the device node the port resolved to when last opened.
	Node   string           `json:"node,omitempty"`
	Device drivers.DeviceID `json:"device"`

	State DeviceState `json:"state"`
	// Reason says why the state is what it is (the open error, the lost
	// link); empty for opening, listening and connected.
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
	// RetryIn is the delay before the next attempt to open the port, while
	// port-missing, port-error or disconnected.
	RetryIn Duration `json:"retry_in,omitzero"`

	// DriverStats are the driver's counters for the bed since the gateway
	// started, every session's summed (LastError: the latest one).
	DriverStats drivers.Stats `json:"driver_stats"`
	// Readings counts readings the driver delivered for this bed.
	Readings int64 `json:"readings"`
	// LastReading is when the latest reading arrived (gateway clock).
	LastReading time.Time `json:"last_reading,omitzero"`
	// ClockOffset is the latest reading's device time less its arrival
	// time; zero when the device sends no time.
	ClockOffset Duration `json:"clock_offset"`
	// Vitals are the key values of the latest reading that carried each,
	// as the device sent them.
	Vitals []Vital `json:"vitals"`
	// Trend is the last hour of SpO2, pulse and respiration rate, at most
	// one point per TrendStep.
	Trend []TrendPoint `json:"trend"`
	// Quarantined counts this bed's values not forwarded, by reason.
	Quarantined map[string]uint64 `json:"quarantined"`
	// NotCharted counts this bed's readings left out by its charting
	// cadence (Readings.NotCharted).
	NotCharted int64 `json:"not_charted"`
	// Admitted says whether a patient is associated with the bed now
	// (admission or static assignment). Never who.
	Admitted bool `json:"admitted"`
}

// Vital is one key value of a bed.
type Vital struct {
	// Key names the value: see the Key constants.
	Key   string `json:"key"`
	Label string `json:"label"`
	// Value is nil when the device sent no number; Status then says why.
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
	// Status names the device's flags on the value ("sensor-off", ...);
	// empty when valid.
	Status string    `json:"status,omitempty"`
	At     time.Time `json:"at"`
}

// The key vitals a bed tile shows, in its order. Two respiration rates are
// told apart: impedance (chest leads) and airway CO2 (capnography).
const (
	KeySpO2         = "spo2"
	KeyPulse        = "pulse"
	KeyHeartRate    = "hr"
	KeyRespImpeda   = "rr"
	KeyRespAirway   = "rr-co2"
	KeySystolic     = "bp-sys"
	KeyDiastolic    = "bp-dia"
	KeyTemperature  = "temp"
	KeyPerfusionIdx = "pi"
)

// KeyVital names the key vital an MDC code measures (a Key constant),
// with its label and its precedence among the codes of that vital (0
// first); ok is false for a code that is no key vital.
func KeyVital(code uint32) (key, label string, rank int, ok bool) {
	v, rank, ok := mdc.VitalOf(code)
	if !ok {
		return "", "", 0, false
	}
	switch v.Name {
	case mdc.VitalSpO2:
		return KeySpO2, "SpO2", rank, true
	case mdc.VitalPulseRate:
		if code == mdc.ECGHeartRate {
			return KeyHeartRate, "HR (ECG)", rank, true
		}
		return KeyPulse, "Pulse", rank, true
	case mdc.VitalRespRate:
		if code == mdc.CO2RespRate || code == mdc.AwayRespRate {
			return KeyRespAirway, "RR (airway CO2)", rank, true
		}
		return KeyRespImpeda, "RR (impedance)", rank, true
	case mdc.VitalSystolic:
		return KeySystolic, "BP sys", rank, true
	case mdc.VitalDiastolic:
		return KeyDiastolic, "BP dia", rank, true
	case mdc.VitalTemperature:
		return KeyTemperature, "Temp", rank, true
	case mdc.VitalPerfusionIndex:
		return KeyPerfusionIdx, "PI", rank, true
	}
	return "", "", 0, false
}

// TrendPoint is one point of a bed's trend; a nil value was not measured
// (or not valid) at the time.
type TrendPoint struct {
	Time  time.Time `json:"t"`
	SpO2  *float64  `json:"spo2"`
	Pulse *float64  `json:"pulse"`
	Resp  *float64  `json:"rr"`
}

// TrendStep is the spacing of trend points, and TrendPoints how many are
// kept: 10 s and 360, the last hour. The trend costs at most about 26 KB
// per bed (72 bytes a point).
const (
	TrendStep   = 10 * time.Second
	TrendPoints = 360
)

// Duration is a time.Duration that reads as people write it: JSON "1.5s",
// "2m0s".
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Round(time.Millisecond).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ReadyBacklogAge is the oldest entry an outbox may hold, while the broker
// is unreachable, for the gateway to still count as ready: 5 minutes.
// Shorter outages are what the outbox is for; a longer one needs someone.
const ReadyBacklogAge = 5 * time.Minute

// Ready returns nil when the gateway does its job: the outbox is open, and
// the broker is connected or the backlog is within bounds (oldest entry
// younger than ReadyBacklogAge, under half of the outbox's bytes). Else it
// says why not.
func (s Snapshot) Ready() error {
	o := s.Outbox
	switch {
	case !o.Open:
		return errors.New("the outbox is closed")
	case s.Link.Connected:
		return nil
	case o.OldestAge.Std() >= ReadyBacklogAge:
		return fmt.Errorf("broker unreachable (%s) and the oldest reading waiting is %s old", orUnknown(s.Link.LastError), o.OldestAge.Std().Round(time.Second))
	case o.MaxBytes > 0 && o.Bytes >= o.MaxBytes/2:
		return fmt.Errorf("broker unreachable (%s) and the outbox is %d%% full", orUnknown(s.Link.LastError), 100*o.Bytes/o.MaxBytes)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "no connection yet"
	}
	return s
}
