// Package tracker keeps, per bed, the latest input of each NEWS2 parameter
// and turns a complete, fresh set into an advisory NEWS2 score record
// (record.KindNEWS2). It is pure: it reads records and nurse entries it is
// given, computes with package news2, and knows nothing of MQTT, storage
// or clocks (every time comes from its inputs).
//
// # Inputs
//
// [Tracker.Observe] reads observation records (record.KindObservations).
// A value is an input when it has a finite number, no data-absent reason,
// is not questionable (Observation.Questionable or the device's
// Questionable flag) and carries no device status flag except AlarmActive
// (an alarm on a real value does not make it less real; Invalid,
// Unavailable, SensorOff, Demo, Calibrating and OutOfRange values are
// never scored), and is in the parameter's canonical UCUM unit (the
// validator normalises units before records are built; a value in any
// other unit is ignored). Its time is the record's device time, or its
// receive time when the device sends none. The codes read (IEEE
// 11073-10101), in order of precedence:
//
//   - respiration rate (/min): 151562 MDC_RESP_RATE, 151578
//     MDC_TTHOR_RESP_RATE, 151594 MDC_CO2_RESP_RATE, 151570
//     MDC_AWAY_RESP_RATE;
//   - SpO2 (%): 150456 MDC_PULS_OXIM_SAT_O2;
//   - systolic pressure (mm[Hg]): 150021 MDC_PRESS_BLD_NONINV_SYS, 150033
//     MDC_PRESS_BLD_ART_SYS, 150017 MDC_PRESS_BLD_SYS;
//   - pulse (/min): 149530 MDC_PULS_OXIM_PULS_RATE, 149546
//     MDC_PULS_RATE_NON_INV, 149514 MDC_PULS_RATE, 147842
//     MDC_ECG_HEART_RATE;
//   - temperature (Cel): 150364 MDC_TEMP_BODY, 150368 MDC_TEMP_CORE,
//     188424 MDC_TEMP_ORAL, 188452 MDC_TEMP_AXILLA, 150392 MDC_TEMP_TYMP,
//     188428 MDC_TEMP_EAR, 188420 MDC_TEMP_RECT, 150344 MDC_TEMP (skin
//     and other site temperatures are not body temperature and are not
//     read).
//
// The latest value wins: a value replaces the bed's current input of its
// parameter when it was taken later, or at the same time by a code earlier
// in the list above. An older value (a late or re-delivered record) never
// replaces a newer one.
//
// Consciousness (ACVPU) and air or oxygen are assessed by people: the EPR
// or a nurse-entry application publishes a [NurseEntry], retained, on the
// bed's [NurseTopic], bedgate/v1/<site>/<ward>/<bed>/nurse, and the
// gateway passes it, parsed with [ParseNurseEntry], to [Tracker.Nurse].
// The wire format is described at [NurseEntry].
//
// # Patients
//
// Inputs belong to the patient in the bed. When an observation record names
// a different patient from the bed's previous records (including a change
// between a patient and none), the bed's device inputs are dropped: no score
// ever mixes two patients' values. Nurse entries name their patient and are
// kept per bed (the latest few) whatever the bed's patient: at each call the
// latest entry naming the bed's current patient, assessed no more than
// Options.NurseFor before the call and (with Options.Stays) in the stay the
// patient is in now, supplies each assessed parameter. An entry received
// before the patient's first reading is therefore used once the readings
// come; an entry of an earlier patient, or of the same patient's earlier
// stay, never is. A bed with no patient gets no nurse inputs, so no score. A
// score record carries the patient (and association flags) of the bed's
// latest observation record.
//
// # When a score is produced
//
// After every call the bed's inputs are scored with news2.Score (each
// input's window, news2.DefaultWindows by default: 15 minutes for
// respiration, SpO2, pulse and the assessed parameters, an hour for the
// episodic systolic pressure and temperature, is measured back from the
// newest input, so an input older than its window is not current and the
// bed waits for a new one; scale 2 when the bed is marked for it,
// [Tracker.SetScale2]). An input's time is its record's device time: for
// a blood pressure the time of the cuff measurement, which the gateway
// forwards once, not the time it was last reported. A
// score record is returned only when
//
//   - the set is complete and inside the window, and
//   - it differs from the bed's last score: a new input (or a change of
//     scale) gives a new score identity, the same inputs never give a
//     second score, and
//   - at least Options.MinInterval (one minute by default) has passed, on
//     the gateway's receive clock of the triggering input, since the bed's
//     last score. A change inside the interval is not lost: it is scored by
//     the first call for the bed after the interval.
//
// A score's ID is a UUIDv5 of the gateway id, the bed, the effective time
// (the newest input's time), the scale and the ids of the seven inputs, so
// recomputing the same inputs, after a restart for example, gives the same
// ID and the EPR's conditional create files it once.
//
// Not implemented: oxygen delivery devices and flow rates, observation
// frequencies, and reading consciousness or air-or-oxygen from device data.
package tracker
