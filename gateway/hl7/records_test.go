package hl7

import (
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
)

// Realistic records shared by the field and conformance tests.

const testNHSNumber = "9449305552" // a test NHS number with a valid check digit

func ptr(f float64) *float64 { return &f }

// obsID derives a stable observation id the way the gateway does (UUIDv5 of
// gateway, device key, MDC code and time), so fixtures look like real ones.
func obsID(gateway, key string, mdc uint32, at time.Time) string {
	name := fmt.Sprintf("%s|%s|%d|%s", gateway, key, mdc, at.Format(time.RFC3339Nano))
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String()
}

var (
	bst        = time.FixedZone("BST", 3600)
	deviceTime = time.Date(2026, 6, 11, 9, 15, 0, 0, bst)
	receivedAt = time.Date(2026, 6, 11, 8, 15, 1, 250e6, time.UTC)
)

func baseRecord() record.Record {
	return record.Record{
		Gateway:      "gw-ward7",
		Site:         "St Elsewhere",
		Ward:         "Ward 7",
		Bed:          "Bed 3",
		Topic:        "bedgate/v1/St Elsewhere/Ward 7/Bed 3/obs",
		Device:       drivers.DeviceID{Driver: "masimo", Model: "Radical-7", Serial: "1000123456"},
		DeviceKey:    "1000123456",
		DeviceTime:   deviceTime,
		ReceivedAt:   receivedAt,
		ClockOffset:  deviceTime.Sub(receivedAt),
		Patient:      &record.Patient{NHSNumber: testNHSNumber},
		DeviceStatus: "EXC=000000 ALARM=0000",
	}
}

func newObs(r record.Record, mdc uint32, ref string, value *float64, unit string) record.Observation {
	at := r.DeviceTime
	if at.IsZero() {
		at = r.ReceivedAt
	}
	return record.Observation{ID: obsID(r.Gateway, r.DeviceKey, mdc, at), MDC: mdc, Ref: ref, Value: value, Unit: unit}
}

// pulseOximetry: SpO2 and pulse rate for a patient, device time with offset.
func pulseOximetry() record.Record {
	r := baseRecord()
	r.Observations = []record.Observation{
		newObs(r, 150456, "MDC_PULS_OXIM_SAT_O2", ptr(97), "%"),
		newObs(r, 149530, "MDC_PULS_OXIM_PULS_RATE", ptr(72), "/min"),
	}
	return r
}

// monitorNoPatient: a multi-parameter monitor at a bed with no patient bound,
// no device serial (key = configured name) and no device clock.
func monitorNoPatient() record.Record {
	r := baseRecord()
	r.Patient = nil
	r.DeviceStatus = ""
	r.Device = drivers.DeviceID{Driver: "intellivue"}
	r.DeviceKey = "bed3-monitor"
	r.DeviceTime = time.Time{}
	r.ClockOffset = 0
	r.Observations = []record.Observation{
		newObs(r, 147842, "MDC_ECG_HEART_RATE", ptr(80), "/min"),
		newObs(r, 151562, "MDC_RESP_RATE", ptr(16), "/min"),
		newObs(r, 150364, "MDC_TEMP_BODY", ptr(37.2), "Cel"),
		newObs(r, 150021, "MDC_PRESS_BLD_NONINV_SYS", ptr(121), "mm[Hg]"),
		newObs(r, 150022, "MDC_PRESS_BLD_NONINV_DIA", ptr(79), "mm[Hg]"),
		newObs(r, 150023, "MDC_PRESS_BLD_NONINV_MEAN", ptr(93), "mm[Hg]"),
		newObs(r, 151708, "MDC_AWAY_CO2_ET", ptr(5.1), "kPa"),
	}
	return r
}

// monitorWithPatient: the same monitor with a patient bound.
func monitorWithPatient() record.Record {
	r := monitorNoPatient()
	r.Patient = &record.Patient{NHSNumber: testNHSNumber}
	return r
}

// sensorOff: the probe is off; the SpO2 value is absent, the pulse rate too.
func sensorOff() record.Record {
	r := baseRecord()
	r.DeviceStatus = "EXC=000820 ALARM=0000"
	spo2 := newObs(r, 150456, "MDC_PULS_OXIM_SAT_O2", nil, "%")
	spo2.Status = drivers.SensorOff | drivers.Invalid | drivers.Unavailable
	spo2.Absent = "error"
	pr := newObs(r, 149530, "MDC_PULS_OXIM_PULS_RATE", nil, "/min")
	pr.Status = drivers.Unavailable
	pr.Absent = "not-performed"
	r.Observations = []record.Observation{spo2, pr}
	return r
}

// questionable: low perfusion; values forwarded with a warning.
func questionable() record.Record {
	r := baseRecord()
	spo2 := newObs(r, 150456, "MDC_PULS_OXIM_SAT_O2", ptr(91), "%")
	spo2.Status = drivers.Questionable | drivers.AlarmActive
	spo2.Questionable = true
	spo2.Reason = "device reports low perfusion"
	pr := newObs(r, 149530, "MDC_PULS_OXIM_PULS_RATE", ptr(104), "/min")
	pr.Status = drivers.Questionable
	pr.Questionable = true
	pr.Reason = "device reports low perfusion"
	r.Observations = []record.Observation{spo2, pr}
	return r
}

// localPatient: a patient known by a local hospital number as well as the
// NHS number, in a bed whose names need escaping.
func localPatient() record.Record {
	r := pulseOximetry()
	r.Patient = &record.Patient{NHSNumber: testNHSNumber, LocalID: "RX1234567"}
	r.Site = "St Mary & St John"
	r.Ward = "Ward 7|East"
	r.Bed = `Bed 3^A~\B`
	return r
}

// deviceObservations: values that are not vital signs: perfusion index,
// an MDC code the terminology table does not know (SpCO), values the
// driver knows only by the device's label (MDC code 0), and the parameters
// the device lists without measuring them.
func deviceObservations() record.Record {
	r := baseRecord()
	r.Patient = nil
	label := func(l string, v *float64, unit string) record.Observation {
		o := newObs(r, 0, "", v, unit)
		o.Label = l
		o.ID = obsID(r.Gateway, r.DeviceKey+"|"+l, 0, r.DeviceTime)
		return o
	}
	spoc := label("SPOC", nil, "mL/dL")
	spoc.Status = drivers.Unavailable
	spoc.Absent = "not-performed"
	r.Observations = []record.Observation{
		newObs(r, 150456, "MDC_PULS_OXIM_SAT_O2", ptr(98), "%"),
		newObs(r, 150448, "MDC_PULS_OXIM_PERF_REL", ptr(2.35), "%"),
		newObs(r, 160128, "MDC_CONC_HB_CO_GEN", ptr(1.5), "%"),
		label("PVI", ptr(14), "%"),
		label("PIDELTA", ptr(-3), "%"),
		label("DESAT", ptr(0), "1"),
		spoc,
	}
	r.Unmeasured = []string{"SPMET", "SPHB"}
	return r
}

// demo: a device in demonstration mode, also calibrating.
func demo() record.Record {
	r := pulseOximetry()
	for i := range r.Observations {
		r.Observations[i].Status = drivers.Demo
	}
	r.Observations[1].Status |= drivers.Calibrating
	return r
}

// specials: values the device reported as IEEE special numbers.
func specials() record.Record {
	r := monitorWithPatient()
	nan, inf := math.NaN(), math.Inf(1)
	r.Observations = []record.Observation{
		newObs(r, 147842, "MDC_ECG_HEART_RATE", &nan, "/min"),
		newObs(r, 151562, "MDC_RESP_RATE", &inf, "/min"),
	}
	return r
}
