package recordtest

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
)

// NHSNumber is a test NHS number with a valid check digit.
const NHSNumber = "9449305552"

// Float returns a pointer to f, for observation values.
func Float(f float64) *float64 { return &f }

// ObsID derives a stable observation id the way the gateway does (a UUIDv5
// of gateway, device key, MDC code and time), so that fixtures look like
// real records.
func ObsID(gateway, key string, mdc uint32, at time.Time) string {
	name := fmt.Sprintf("%s|%s|%d|%s", gateway, key, mdc, at.Format(time.RFC3339Nano))
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String()
}

// Zone is the device clock's time zone: British Summer Time, UTC+1.
func Zone() *time.Location { return time.FixedZone("BST", 3600) }

// DeviceTime is the device's clock at the records' reading: 11 June 2026,
// 09:15 BST.
func DeviceTime() time.Time { return time.Date(2026, 6, 11, 9, 15, 0, 0, Zone()) }

// ReceivedAt is when the gateway received the reading: 08:15:01.25 UTC.
func ReceivedAt() time.Time { return time.Date(2026, 6, 11, 8, 15, 1, 250e6, time.UTC) }

// Base returns a record from a Masimo Radical-7 for a patient, with its
// status word and no observations.
func Base() record.Record {
	return record.Record{
		Gateway:      "gw-ward7",
		Site:         "St Elsewhere",
		Ward:         "Ward 7",
		Bed:          "Bed 3",
		Topic:        "bedgate/v1/St Elsewhere/Ward 7/Bed 3/obs",
		Device:       drivers.DeviceID{Driver: "masimo", Model: "Radical-7", Serial: "1000123456"},
		DeviceKey:    "masimo:1000123456",
		DeviceTime:   DeviceTime(),
		ReceivedAt:   ReceivedAt(),
		ClockOffset:  DeviceTime().Sub(ReceivedAt()),
		Patient:      &record.Patient{NHSNumber: NHSNumber},
		DeviceStatus: "EXC=000000 ALARM=0000",
	}
}

// Obs returns an observation of r with the id the gateway would give it:
// MDC code and reference id, value (nil when absent) and UCUM unit.
func Obs(r record.Record, mdc uint32, ref string, value *float64, unit string) record.Observation {
	at := r.DeviceTime
	if at.IsZero() {
		at = r.ReceivedAt
	}
	return record.Observation{ID: ObsID(r.Gateway, r.DeviceKey, mdc, at), MDC: mdc, Ref: ref, Value: value, Unit: unit}
}

// PulseOximetry returns SpO2 and pulse rate for a patient, with a device
// time that has an offset.
func PulseOximetry() record.Record {
	r := Base()
	r.Observations = []record.Observation{
		Obs(r, 150456, "MDC_PULS_OXIM_SAT_O2", Float(97), "%"),
		Obs(r, 149530, "MDC_PULS_OXIM_PULS_RATE", Float(72), "/min"),
	}
	return r
}

// MasimoReading returns what the Masimo driver gives once a second for a
// Radical-7 with a SET sensor on a patient: SpO2, pulse rate and perfusion
// index (the line's dashed SpCO is no value and no observation).
func MasimoReading() record.Record {
	r := PulseOximetry()
	r.Observations = append(r.Observations, Obs(r, 150448, "MDC_PULS_OXIM_PERF_REL", Float(4.1), "%"))
	return r
}

// MonitorNoPatient returns a multi-parameter monitor's reading at a bed
// with no patient bound, no device serial (the key is the configured
// name), no device clock and no status word: heart and respiration rates,
// temperature, a complete NIBP and end-tidal CO2.
func MonitorNoPatient() record.Record {
	r := Base()
	r.Patient = nil
	r.Device = drivers.DeviceID{Driver: "intellivue"}
	r.DeviceKey = "bed:St Elsewhere/Ward 7/bed3-monitor"
	r.DeviceTime = time.Time{}
	r.ClockOffset = 0
	r.DeviceStatus = ""
	r.Observations = []record.Observation{
		Obs(r, 147842, "MDC_ECG_HEART_RATE", Float(80), "/min"),
		Obs(r, 151562, "MDC_RESP_RATE", Float(16), "/min"),
		Obs(r, 150364, "MDC_TEMP_BODY", Float(37.2), "Cel"),
		Obs(r, 150021, "MDC_PRESS_BLD_NONINV_SYS", Float(121), "mm[Hg]"),
		Obs(r, 150022, "MDC_PRESS_BLD_NONINV_DIA", Float(79), "mm[Hg]"),
		Obs(r, 150023, "MDC_PRESS_BLD_NONINV_MEAN", Float(93), "mm[Hg]"),
		Obs(r, 151708, "MDC_AWAY_CO2_ET", Float(5.1), "kPa"),
	}
	return r
}

// MonitorWithPatient returns the same monitor's reading with a patient
// bound.
func MonitorWithPatient() record.Record {
	r := MonitorNoPatient()
	r.Patient = &record.Patient{NHSNumber: NHSNumber}
	return r
}

// SensorOff returns a pulse oximeter whose probe is off: the status word
// says so, and the SpO2 and pulse rate are absent.
func SensorOff() record.Record {
	r := Base()
	r.DeviceStatus = "EXC=000820 ALARM=0000"
	spo2 := Obs(r, 150456, "MDC_PULS_OXIM_SAT_O2", nil, "%")
	spo2.Status = drivers.SensorOff | drivers.Invalid | drivers.Unavailable
	spo2.Absent = "error"
	pr := Obs(r, 149530, "MDC_PULS_OXIM_PULS_RATE", nil, "/min")
	pr.Status = drivers.Unavailable
	pr.Absent = "not-performed"
	r.Observations = []record.Observation{spo2, pr}
	return r
}

// Questionable returns a pulse oximeter reporting low perfusion: the
// values are forwarded, marked questionable with the reason, the SpO2 in
// alarm.
func Questionable() record.Record {
	r := Base()
	spo2 := Obs(r, 150456, "MDC_PULS_OXIM_SAT_O2", Float(91), "%")
	spo2.Status = drivers.Questionable | drivers.AlarmActive
	spo2.Questionable = true
	spo2.Reason = "device reports low perfusion"
	pr := Obs(r, 149530, "MDC_PULS_OXIM_PULS_RATE", Float(104), "/min")
	pr.Status = drivers.Questionable
	pr.Questionable = true
	pr.Reason = "device reports low perfusion"
	r.Observations = []record.Observation{spo2, pr}
	return r
}
