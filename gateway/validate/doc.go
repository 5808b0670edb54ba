// Package validate checks the values of a gateway record before it is
// published: physiological plausibility per vital sign, unit normalisation
// to the vital's canonical UCUM unit, and, per device, staleness, duplicates
// and the device clock. It is pure: it reads no configuration file, opens
// nothing and logs nothing; the gateway wires it between [record.Record]
// creation and the outbox.
//
// # Outcomes
//
// Every observation a [Checker] is given comes back exactly once: either in
// the accepted record, possibly converted and possibly flagged
// questionable (record.Observation.Questionable, with the reason appended to
// Reason), or as a [Rejection] carrying the observation as received, a
// [Reason] code and a human text. Nothing is dropped. Rejected values are
// meant for the bed's quarantine topic.
//
//   - A value outside a vital's hard range is rejected as an artefact
//     (implausible-low, implausible-high). Both ends of a hard range are
//     inclusive: Min and Max themselves are plausible.
//   - A value outside the soft range (but inside the hard range) is
//     forwarded flagged questionable. Both ends of a soft range are
//     inclusive: SoftMin and SoftMax themselves are not flagged.
//   - A value in a unit that does not convert to the vital's canonical unit
//     is rejected ("unit X not convertible to Y"); it is never forwarded in
//     a unit the EPR would misread.
//   - An absent value (Value nil) is never range- or unit-checked, nor
//     flagged, and a value whose MDC code has no rule (unknown codes,
//     label-only values, MDC_PRESS_BLD_NONINV) passes through unchanged,
//     except that it too carries the device clock flags of its reading.
//
// # Default ranges (sources)
//
// The defaults are the two-tier rules proposed in the project's standards
// research, output-standards.md §6.1 ("Suggested gateway rules"), which in
// turn rest on the ranges used by public systems: the ricu concept
// dictionary (eth-mds/ricu inst/extdata/config/concept-dict.json), the
// MIMIC-III vitals_first_day filter (MIT-LCP/mimic-code) and the Open e-Obs
// UK ward e-observations entry form (openeobs/openeobs nh_ews/ews.py):
//
//	vital            unit    hard (reject outside)  soft (flag outside)
//	pulse-rate       /min    20–300                 30–220
//	spo2             %       50–100                 70–100
//	resp-rate        /min    1–70                   5–50
//	bp-systolic      mm[Hg]  40–300                 40–300 (none published)
//	bp-diastolic     mm[Hg]  10–200                 10–200 (none published)
//	bp-mean          mm[Hg]  20–250                 20–250 (none published)
//	temperature      Cel     25–45                  32–42
//	etco2            kPa     0–20 (0–150 mm[Hg])    0–20 (none published)
//	perfusion-index  %       0.02–20                0.02–20
//
// Where no soft range is published the soft range equals the hard range,
// so nothing is flagged; a site can configure one ([Config]). The
// perfusion-index range is not in the research: it is the display range of
// pulse-oximetry perfusion index (0.02–20 %), the range the project's
// simulators also clamp to. Heart rate (ECG) and every pulse rate share
// pulse-rate; non-invasive and invasive arterial pressures share the
// bp-* rules, and every body temperature site shares temperature. A range
// can be overridden for a single MDC code (for example invasive arterial
// systolic only) by keying the override with its RefID or decimal code.
//
// Rules carry no version of their own: the gateway should publish the
// configuration it runs with (§6.1 asks that the rule set be traceable).
// Of the cross-field checks of §6.1, the blood pressure order is applied
// to each pressure (non-invasive, arterial) of one reading: when systolic is
// not above diastolic, all its parts are rejected as "inconsistent"; a mean
// outside diastolic..systolic is rejected alone. The SpO2 pulse vs ECG heart
// rate comparison and rate-of-change spikes are not implemented.
//
// # Units
//
// Canonical units are those of output-standards.md §2.1 and the
// gateway/terminology table: % for SpO2 and perfusion index, /min for rates,
// mm[Hg] for blood pressure, Cel for temperature. For end-tidal CO2 the
// canonical unit is kPa: UK capnographs and UK clinical practice report
// etCO2 in kPa (§2.1: "UK capnographs often show kPa"), and
// gateway/terminology accepts kPa for MDC_AWAY_CO2_ET. Conversions ([Convert]):
//
//	kPa    → mm[Hg]  × 1000/133.322387415 (1 kPa = 7.50061683 mm[Hg])
//	mm[Hg] → kPa     × 0.133322387415
//	[degF] → Cel     (F − 32) × 5/9
//	K      → Cel     K − 273.15
//	1      → %       × 100 (a fraction 0–1 sent as the dimensionless unit 1)
//	1/min, {beats}/min, {breaths}/min, any {annotation}/min → /min
//	       (the same unit spelled differently: the value is unchanged)
//
// 1 mm[Hg] is taken as the conventional millimetre of mercury,
// 13.5951 g/cm³ × 9.80665 m/s² × 1 mm = 133.322387415 Pa (BS 350; the UCUM
// table gives m[Hg] = 133.3220 kPa, which differs by 3 ppm, far below the
// rounding below). A converted value is rounded half away from zero to the
// resolution of its canonical unit: mm[Hg] 0.1, kPa 0.01, Cel 0.01, % 0.1,
// /min 0.1; a value already in its canonical unit, or in another spelling
// of it, is never rounded. The
// range check applies to the converted, rounded value, which is the value
// forwarded. The conversion is stated on the observation by appending
// "unit converted: 16 kPa = 120 mm[Hg] (1 kPa = 7.50061683 mm[Hg])" to its
// Reason without setting Questionable (record.Observation has no field of
// its own for it). A value in "%" is never guessed to be a fraction:
// 0.97 % SpO2 is rejected as implausible.
//
// # Time
//
// See [Checker] for staleness, duplicates, device clock offset and clock
// jumps, and for episodic measurements (record.Record.Episodic): reported
// again they are repeats, counted ([Counts.Repeats], [ReasonRepeat]) and
// neither forwarded nor quarantined; older than
// Options.MaxMeasurementAge (1 h by default) they are stale. Readings
// without a device time are not time-checked.
package validate
