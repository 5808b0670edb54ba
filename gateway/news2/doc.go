// Package news2 computes the National Early Warning Score 2 (NEWS2) of the
// Royal College of Physicians from one set of vital signs.
//
// The score follows Royal College of Physicians, "National Early Warning
// Score (NEWS) 2: Standardising the assessment of acute-illness severity in
// the NHS. Updated report of a working party", London: RCP, December 2017:
//
//   - Chart 1 (the NEWS2 scoring system) gives each of seven parameters a
//     sub-score of 0–3: respiration rate, SpO2 (Scale 1, or Scale 2 for
//     patients with a prescribed 88–92 % target), air or oxygen, systolic
//     blood pressure, pulse, consciousness (ACVPU) and temperature.
//     [SubScore] and [Scale2SubScore] implement the chart band by band.
//   - Charts 2 and 4 (thresholds and triggers) turn the aggregate into a
//     clinical-risk band: 0–4 low; a score of 3 in any single parameter
//     ("red score") with an aggregate of at most 4 low–medium; 5–6 medium
//     (the key threshold for an urgent response); 7 or more high. [Score]
//     returns the aggregate, the sub-scores and the [Band].
//
// # Advisory only
//
// The score and its [Result] Advisory text are advisory. They do not replace
// clinical judgement, the local escalation policy, or a registered
// professional's assessment, and the gateway must publish them as derived
// observations next to (never instead of) the measured vital signs. The
// package raises no alarm.
//
// # Rounding of device values
//
// Chart 1 is written in whole numbers for respiration rate, SpO2, systolic
// pressure and pulse, and to one decimal place for temperature, and a device
// may report finer values (a pulse of 90.5/min, a temperature of 38.05 °C).
// Before banding, a value is rounded half up to the chart's resolution,
// working on the shortest decimal form of the float64 (the digits the device
// sent), so that 90.4 scores as 90, 90.5 as 91, 38.04 as 38.0 and 38.05 as
// 38.1 without binary floating-point surprises. The rounded value is
// returned in [Item.Charted].
//
// # Completeness
//
// NEWS2 is defined on a complete set: a missing parameter is not scored as
// zero. [Score] refuses a set that lacks a parameter or one of whose
// observations was taken longer before the newest of them than its window
// ([Options.Windows] per parameter, else [Options.Window]), returning an
// [*IncompleteError] that names them. The RCP report fixes no such window;
// the default of 15 minutes ([DefaultWindow]) is this package's choice for
// a set taken at one bedside visit, and [DefaultWindows], the gateway's,
// allow the episodically measured systolic pressure and temperature an
// hour ([DefaultEpisodicWindow], argued there from the RCP's observation
// frequencies).
//
// # Codes
//
// The SNOMED CT UK-edition codes of the total and of each sub-score (as
// used by the UK Core NEWS2 examples) are the Code… constants and
// [Parameter.ScoreCode]; the ACVPU and air codes are [ACVPU.Code]
// and [CodeRoomAir].
//
// Not implemented: the chart's guidance on oxygen delivery devices, the
// choice of Scale 2 (the caller says so per bed in [Options.Scale2]),
// "new" versus chronic confusion (the caller decides what to report as
// [Confusion]), and observation frequencies.
package news2
