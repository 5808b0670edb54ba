// Package masimo simulates a Masimo Radical-7 sending its serial "ASCII 1"
// output (the device side of drivers/masimo; source: Masimo Rad-8
// Operator's Manual, serial interface / ASCII 1 output).
//
// The device writes one CR/LF-terminated line per Options.Period (one
// second by default) in the Radical-7 field layout:
//
//	MM/DD/YY HH:MM:SS SN=... SPO2=...% BPM=... PI=...% SPCO=...% SPMET=...% DESAT=... PIDELTA=... PVI=... ALARM=.... EXC=......
//
// SpO2, pulse rate and perfusion index come from the physiology scenario
// (simulators/scenario), rounded as the device shows them (whole percent
// and beats, PI to two decimals). The simulated sensor is a SET sensor
// without rainbow parameters, so SPCO, SPMET, DESAT, PIDELTA and PVI are
// always dashes. The exception word follows the scenario: 800 (SET) when
// all is well; 828 (sensor off, pulse search) with dashes while the sensor
// is off; 808 (pulse search) with dashes while the pulse is searched for;
// C10 (low signal IQ, interference) with the erratic values during
// artefact. ALARM is always 0000 (its bits are proprietary).
//
// The lines are printed by the driver's own codec (drivers/masimo
// AppendLine), and the reading each line means is built with the driver's
// field table, so simulator and driver share one definition of the format.
//
// The timestamp is Options.Now in its own location, to the second, so the
// gateway's device location must match the simulated clock's zone. Device
// time has one-second resolution: a tick whose second is not later than
// the last line's is skipped, so two lines never share a timestamp, and a
// Period under one second still gives at most one line per device second.
//
// Not simulated: ASCII 2 and the other output modes, alarms, waveforms and
// the serial number's absence on some units (set Options.Serial to dashes
// for that).
package masimo
