package fhir

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
)

// Realistic records shared by the shape and conformance tests.

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
		Gateway:     "gw-ward7",
		Site:        "St Elsewhere",
		Ward:        "Ward 7",
		Bed:         "Bed 3",
		Topic:       "bedgate/v1/St Elsewhere/Ward 7/Bed 3/obs",
		Device:      drivers.DeviceID{Driver: "masimo", Model: "Radical-7", Serial: "1000123456"},
		DeviceKey:   "1000123456",
		DeviceTime:  deviceTime,
		ReceivedAt:  receivedAt,
		ClockOffset: deviceTime.Sub(receivedAt),
		Patient:     &record.Patient{NHSNumber: testNHSNumber},
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

// monitorWithPatient: the same monitor with a patient bound, so every
// vital claims its core (and UK Core) profile.
func monitorWithPatient() record.Record {
	r := monitorNoPatient()
	r.Patient = &record.Patient{NHSNumber: testNHSNumber}
	return r
}

// sensorOff: the probe is off; the SpO2 value is absent, the pulse rate too.
func sensorOff() record.Record {
	r := baseRecord()
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

// localPatient: a patient known only by a local hospital number.
func localPatient() record.Record {
	r := pulseOximetry()
	r.Patient = &record.Patient{LocalID: "RX1234567"}
	return r
}

// deviceObservations: values that are not vital signs: perfusion index,
// an MDC code the terminology table does not know (SpCO), and a value the
// driver knows only by the device's label (MDC code 0).
func deviceObservations() record.Record {
	r := baseRecord()
	r.Patient = nil
	pvi := newObs(r, 0, "", ptr(14), "%")
	pvi.Label = "PVI"
	pvi.ID = obsID(r.Gateway, r.DeviceKey+"|PVI", 0, r.DeviceTime)
	r.Observations = []record.Observation{
		newObs(r, 150456, "MDC_PULS_OXIM_SAT_O2", ptr(98), "%"),
		newObs(r, 150448, "MDC_PULS_OXIM_PERF_REL", ptr(2.35), "%"),
		newObs(r, 160128, "MDC_CONC_HB_CO_GEN", ptr(1.5), "%"),
		pvi,
	}
	return r
}

// demo: a device in demonstration mode; its values are labelled test data.
func demo() record.Record {
	r := pulseOximetry()
	for i := range r.Observations {
		r.Observations[i].Status = drivers.Demo
	}
	return r
}

// nibp returns an NIBP reading (systolic, diastolic and mean, in that
// order) for a patient, with a heart rate before it.
func nibp(sys, dia, mean *float64) record.Record {
	r := baseRecord()
	r.Device = drivers.DeviceID{Driver: "welchallyn", Model: "Connex", Serial: "CX-100"}
	r.DeviceKey = "CX-100"
	r.Observations = []record.Observation{
		newObs(r, 149546, "MDC_PULS_RATE_NON_INV", ptr(68), "/min"),
		newObs(r, 150021, "MDC_PRESS_BLD_NONINV_SYS", sys, "mm[Hg]"),
		newObs(r, 150022, "MDC_PRESS_BLD_NONINV_DIA", dia, "mm[Hg]"),
		newObs(r, 150023, "MDC_PRESS_BLD_NONINV_MEAN", mean, "mm[Hg]"),
	}
	return r
}

// bpComplete: a complete NIBP reading with a patient.
func bpComplete() record.Record { return nibp(ptr(122), ptr(78), ptr(93)) }

// bpNoMean: systolic and diastolic only.
func bpNoMean() record.Record {
	r := nibp(ptr(118), ptr(74), nil)
	r.Observations = r.Observations[:3]
	return r
}

// bpSystolicOnly: the device sent a systolic value and nothing else of the
// reading: no panel, single Observations.
func bpSystolicOnly() record.Record {
	r := nibp(ptr(131), nil, nil)
	r.Observations = r.Observations[:2]
	return r
}

// bpAbsent: the cuff measurement failed; every part is absent.
func bpAbsent() record.Record {
	r := nibp(nil, nil, nil)
	for i := 1; i < 4; i++ {
		r.Observations[i].Status = drivers.Invalid
		r.Observations[i].Absent = "error"
	}
	return r
}

// bpPartlyAbsent: systolic and diastolic measured, the mean not.
func bpPartlyAbsent() record.Record {
	r := nibp(ptr(140), ptr(90), nil)
	r.Observations[3].Status = drivers.Unavailable
	r.Observations[3].Absent = "not-performed"
	return r
}

// bpQuestionable: a systolic value above the soft range, converted from
// kPa, and a diastolic value in alarm.
func bpQuestionable() record.Record {
	r := nibp(ptr(225), ptr(95), ptr(138))
	sys := &r.Observations[1]
	sys.Questionable = true
	sys.Reason = "questionable-high: above the plausible 220 mm[Hg]"
	sys.OriginalValue, sys.OriginalUnit = ptr(30), "kPa"
	r.Observations[2].Status = drivers.AlarmActive
	return r
}

// arterial: invasive arterial pressure next to an NIBP reading on one
// monitor with no patient bound.
func arterial() record.Record {
	r := monitorNoPatient()
	r.Unassociated = true
	r.AssocReason = "no admission for the bed"
	r.Observations = append(r.Observations,
		newObs(r, 150033, "MDC_PRESS_BLD_ART_SYS", ptr(128), "mm[Hg]"),
		newObs(r, 150034, "MDC_PRESS_BLD_ART_DIA", ptr(71), "mm[Hg]"),
		newObs(r, 150035, "MDC_PRESS_BLD_ART_MEAN", ptr(90), "mm[Hg]"),
	)
	return r
}

// arterialWithPatient: the same with a patient, so the panels claim bp.
func arterialWithPatient() record.Record {
	r := arterial()
	r.Unassociated, r.AssocReason = false, ""
	r.Patient = &record.Patient{NHSNumber: testNHSNumber}
	return r
}

// unassociated: a pulse oximeter at a bed with no patient bound.
func unassociated() record.Record {
	r := pulseOximetry()
	r.Patient = nil
	r.Unassociated = true
	r.AssocReason = "bed has no admitted patient"
	return r
}

// converted: a temperature the device sent in degrees Fahrenheit and an
// etCO2 in kPa converted to mm[Hg] by the gateway.
func converted() record.Record {
	r := monitorWithPatient()
	r.Observations = []record.Observation{
		newObs(r, 150364, "MDC_TEMP_BODY", ptr(37), "Cel"),
		newObs(r, 151708, "MDC_AWAY_CO2_ET", ptr(37.5), "mm[Hg]"),
	}
	r.Observations[0].OriginalValue, r.Observations[0].OriginalUnit = ptr(98.6), "[degF]"
	r.Observations[0].Reason = "unit converted: 98.6 [degF] = 37 Cel"
	r.Observations[1].OriginalValue, r.Observations[1].OriginalUnit = ptr(5), "kPa"
	return r
}
