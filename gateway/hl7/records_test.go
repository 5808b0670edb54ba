package hl7

import (
	"math"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// Records only the HL7 tests need (names to escape, device labels, IEEE
// special values), built on the realistic records of recordtest that the
// FHIR tests share.

// localPatient: a patient known by a local hospital number as well as the
// NHS number, in a bed whose names need escaping.
func localPatient() record.Record {
	r := recordtest.PulseOximetry()
	r.Patient = &record.Patient{NHSNumber: recordtest.NHSNumber, LocalID: "RX1234567"}
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
	r := recordtest.Base()
	r.Patient = nil
	label := func(l string, v *float64, unit string) record.Observation {
		o := recordtest.Obs(r, 0, "", v, unit)
		o.Label = l
		o.ID = recordtest.ObsID(r.Gateway, r.DeviceKey+"|"+l, 0, r.DeviceTime)
		return o
	}
	spoc := label("SPOC", nil, "mL/dL")
	spoc.Status = drivers.Unavailable
	spoc.Absent = "not-performed"
	r.Observations = []record.Observation{
		recordtest.Obs(r, 150456, "MDC_PULS_OXIM_SAT_O2", recordtest.Float(98), "%"),
		recordtest.Obs(r, 150448, "MDC_PULS_OXIM_PERF_REL", recordtest.Float(2.35), "%"),
		recordtest.Obs(r, 160128, "MDC_CONC_HB_CO_GEN", recordtest.Float(1.5), "%"),
		label("PVI", recordtest.Float(14), "%"),
		label("PIDELTA", recordtest.Float(-3), "%"),
		label("DESAT", recordtest.Float(0), "1"),
		spoc,
	}
	r.Unmeasured = []string{"SPMET", "SPHB"}
	return r
}

// demo: a device in demonstration mode, also calibrating.
func demo() record.Record {
	r := recordtest.PulseOximetry()
	for i := range r.Observations {
		r.Observations[i].Status = drivers.Demo
	}
	r.Observations[1].Status |= drivers.Calibrating
	return r
}

// specials: values the device reported as IEEE special numbers.
func specials() record.Record {
	r := recordtest.MonitorWithPatient()
	nan, inf := math.NaN(), math.Inf(1)
	r.Observations = []record.Observation{
		recordtest.Obs(r, 147842, "MDC_ECG_HEART_RATE", &nan, "/min"),
		recordtest.Obs(r, 151562, "MDC_RESP_RATE", &inf, "/min"),
	}
	return r
}
