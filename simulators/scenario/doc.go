// Package scenario is the physiology engine behind the simulated monitors.
//
// An [Engine] gives the [Vitals] of one simulated patient at any time since
// the start of a run. Its output is a pure function of the scenario name,
// the seed and the elapsed time: the same inputs give the same values,
// whatever order they are asked in, so simulator runs and tests are
// repeatable. The noise is smooth (interpolated between seeded knots), so
// values drift the way real trends do rather than jumping every second.
//
// The scenarios ([Names]):
//
//   - "stable": a well adult with small natural variation.
//   - "deteriorating": over about 30 minutes the patient slides toward
//     sepsis-like values (SpO2 down, pulse and respiratory rate up, blood
//     pressure and perfusion down, temperature up), then stays there.
//   - "artefact": stable, but for 8 seconds in every minute motion artefact
//     gives implausible, erratic pulse-oximetry values that the device
//     flags (Artefact).
//   - "sensor-off": stable, but for 20 seconds in every two minutes the
//     sensor is off the patient (SensorOff), followed by 6 seconds of pulse
//     search (NoSignal) after it is put back.
//   - "deteriorating-fast" and "sensor-off-fast": the same events, faster
//     (the slide in 45 s; the sensor off for 5 s in every 30 s, first 7.5
//     to 17.5 s in), so that a 30-second demo shows them.
//
// The engine gives unrounded physiological values; rounding them the way a
// monitor shows them, and leaving out values a device cannot measure, is
// each simulator's job. This package implements no device protocol.
package scenario
