package fhir

import (
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// Records only the FHIR tests need (blood-pressure panels, conversions,
// unassociated readings, the profile cases), built on the realistic records
// of recordtest that the HL7 tests share.

// localPatient: a patient known only by a local hospital number.
func localPatient() record.Record {
	r := recordtest.PulseOximetry()
	r.Patient = &record.Patient{LocalID: "RX1234567"}
	return r
}

// deviceObservations: values that are not vital signs: perfusion index,
// an MDC code the terminology table does not know (SpCO), and a value the
// driver knows only by the device's label (MDC code 0).
func deviceObservations() record.Record {
	r := recordtest.Base()
	r.Patient = nil
	pvi := recordtest.Obs(r, 0, "", recordtest.Float(14), "%")
	pvi.Label = "PVI"
	pvi.ID = recordtest.ObsID(r.Gateway, r.DeviceKey+"|PVI", 0, r.DeviceTime)
	r.Observations = []record.Observation{
		recordtest.Obs(r, 150456, "MDC_PULS_OXIM_SAT_O2", recordtest.Float(98), "%"),
		recordtest.Obs(r, 150448, "MDC_PULS_OXIM_PERF_REL", recordtest.Float(2.35), "%"),
		recordtest.Obs(r, 160128, "MDC_CONC_HB_CO_GEN", recordtest.Float(1.5), "%"),
		pvi,
	}
	return r
}

// demo: a device in demonstration mode; its values are labelled test data.
func demo() record.Record {
	r := recordtest.PulseOximetry()
	for i := range r.Observations {
		r.Observations[i].Status = drivers.Demo
	}
	return r
}

// nibp returns an NIBP reading (systolic, diastolic and mean, in that
// order) for a patient, with a heart rate before it.
func nibp(sys, dia, mean *float64) record.Record {
	r := recordtest.Base()
	r.Device = drivers.DeviceID{Driver: "welchallyn", Model: "Connex", Serial: "CX-100"}
	r.DeviceKey = "welchallyn:CX-100"
	r.Observations = []record.Observation{
		recordtest.Obs(r, 149546, "MDC_PULS_RATE_NON_INV", recordtest.Float(68), "/min"),
		recordtest.Obs(r, 150021, "MDC_PRESS_BLD_NONINV_SYS", sys, "mm[Hg]"),
		recordtest.Obs(r, 150022, "MDC_PRESS_BLD_NONINV_DIA", dia, "mm[Hg]"),
		recordtest.Obs(r, 150023, "MDC_PRESS_BLD_NONINV_MEAN", mean, "mm[Hg]"),
	}
	return r
}

// bpComplete: a complete NIBP reading with a patient.
func bpComplete() record.Record {
	return nibp(recordtest.Float(122), recordtest.Float(78), recordtest.Float(93))
}

// bpNoMean: systolic and diastolic only.
func bpNoMean() record.Record {
	r := nibp(recordtest.Float(118), recordtest.Float(74), nil)
	r.Observations = r.Observations[:3]
	return r
}

// bpSystolicOnly: the device sent a systolic value and nothing else of the
// reading: no panel, single Observations.
func bpSystolicOnly() record.Record {
	r := nibp(recordtest.Float(131), nil, nil)
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
	r := nibp(recordtest.Float(140), recordtest.Float(90), nil)
	r.Observations[3].Status = drivers.Unavailable
	r.Observations[3].Absent = "not-performed"
	return r
}

// bpQuestionable: a systolic value above the soft range, converted from
// kPa, and a diastolic value in alarm.
func bpQuestionable() record.Record {
	r := nibp(recordtest.Float(225), recordtest.Float(95), recordtest.Float(138))
	sys := &r.Observations[1]
	sys.Questionable = true
	sys.Reason = "questionable-high: above the plausible 220 mm[Hg]"
	sys.OriginalValue, sys.OriginalUnit = recordtest.Float(30), "kPa"
	r.Observations[2].Status = drivers.AlarmActive
	return r
}

// arterial: invasive arterial pressure next to an NIBP reading on one
// monitor with no patient bound.
func arterial() record.Record {
	r := recordtest.MonitorNoPatient()
	r.Unassociated = true
	r.AssocReason = "no admission for the bed"
	r.Observations = append(r.Observations,
		recordtest.Obs(r, 150033, "MDC_PRESS_BLD_ART_SYS", recordtest.Float(128), "mm[Hg]"),
		recordtest.Obs(r, 150034, "MDC_PRESS_BLD_ART_DIA", recordtest.Float(71), "mm[Hg]"),
		recordtest.Obs(r, 150035, "MDC_PRESS_BLD_ART_MEAN", recordtest.Float(90), "mm[Hg]"),
	)
	return r
}

// arterialWithPatient: the same with a patient, so the panels claim bp.
func arterialWithPatient() record.Record {
	r := arterial()
	r.Unassociated, r.AssocReason = false, ""
	r.Patient = &record.Patient{NHSNumber: recordtest.NHSNumber}
	return r
}

// unassociated: a pulse oximeter at a bed with no patient bound.
func unassociated() record.Record {
	r := recordtest.PulseOximetry()
	r.Patient = nil
	r.Unassociated = true
	r.AssocReason = "bed has no admitted patient"
	return r
}

// converted: a temperature the device sent in degrees Fahrenheit and an
// etCO2 in kPa converted to mm[Hg] by the gateway.
func converted() record.Record {
	r := recordtest.MonitorWithPatient()
	r.Observations = []record.Observation{
		recordtest.Obs(r, 150364, "MDC_TEMP_BODY", recordtest.Float(37), "Cel"),
		recordtest.Obs(r, 151708, "MDC_AWAY_CO2_ET", recordtest.Float(37.5), "mm[Hg]"),
	}
	r.Observations[0].OriginalValue, r.Observations[0].OriginalUnit = recordtest.Float(98.6), "[degF]"
	r.Observations[0].Reason = "unit converted: 98.6 [degF] = 37 Cel"
	r.Observations[1].OriginalValue, r.Observations[1].OriginalUnit = recordtest.Float(5), "kPa"
	return r
}
