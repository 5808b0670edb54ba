// Package intellivue simulates a Philips IntelliVue MP/MX monitor speaking
// "Data Export" on its MIB/RS232 port: the device side of
// drivers/intellivue (source: Philips "Data Export Interface Programming
// Guide", IntelliVue X2, MP and MX series, cited as [DEI]; the wire format
// is built with the driver's own encoders, so simulator and driver share
// one definition of it).
//
// # Dialog
//
// 115200 8N1. The monitor waits for the host's association request and
// answers with an association result whose poll profile announces a
// minimum poll period of 500 ms and an MTU of 996 bytes each way, as a
// real monitor does on RS232. It then sends the MDS Create Event: the
// manufacturer "Philips", the model (DefaultModel, "M8000", unless
// Config.Model), the system id and the monitor's clock, absolute time
// (Options.Now, in its own location, to the hundredth) and relative time
// (8000 ticks per second since the monitor was switched on). Once the host
// has confirmed the event, every poll request gets a poll result echoing
// its poll number and object type. Results larger than the MTU (the lower
// of the monitor's and the host's max_mtu_rx) are split into linked
// results, RORLS first, not-first-not-last, last, counted from 1, then a
// closing RORS without observations; the default numerics take three
// parts at 996 bytes, as on a real monitor.
//
// A release request is answered with a release result; an abort from the
// host ends the association silently; a host that sends nothing for
// Config.Silence (DefaultSilence, 10 s) gets an abort [DEI ch. 3,
// "Connection Time-out Mechanism"]. After each the monitor waits for a new
// association request; one that arrives during an association starts a
// new association at once. Frames that fail their checks are dropped.
//
// # Numerics
//
// A numerics poll (NOM_MOC_VMO_METRIC_NU) is answered with the objects of
// a monitor with ECG, SpO2, NBP, temperature and CO2: HR, PVC count, an ST
// compound of twelve leads (fixed per seed), impedance RR, SpO2, pleth
// pulse, perfusion index, NBP as a compound of systolic, diastolic and
// mean (an automatic measurement at the start and every
// Config.NBPInterval, 5 min by default, reported until the next with its
// NOM_ATTR_TIME_STAMP_ABS after the value, as a real monitor sends it, so
// one cuff measurement has one time in every poll), temperature, etCO2 and airway
// RR, each with its handle, type, metric specification, label, label
// string, display resolution and colour; and, as real monitors list them,
// a few calculated parameters that are switched off (no value). Values
// come from the scenario (simulators/scenario), rounded as the monitor
// shows them. Measurement states follow the scenario: INVALID and
// UNAVAILABLE with NaN on SpO2, pulse and perfusion while the sensor is
// off, UNAVAILABLE with NaN while the pulse is searched for, QUESTIONABLE
// on their erratic values during motion artefact. Poll results carry no
// absolute time stamp (all 0xFF), as on real monitors: the host derives
// the device time from the MDS Create Event's clock and the result's
// relative time, which the simulator keeps strictly increasing. Polls of
// other object types (waves, alarms) get a result without observations.
//
// Options.Values receives one JSON line per numerics poll result sent
// (after its last part): the drivers.Reading the driver decodes from it,
// with the same MDC codes, reference ids, labels, units, status flags and
// device time. That device time is right when the gateway's device time
// zone is the location of Options.Now.
//
// # Identity
//
// A serial of hex digits (bedsim's default, 9000000001, is one) is the
// system id (NOM_ATTR_SYS_ID, a real monitor's MAC address) and the
// driver reports it in lower-case hex; another serial is sent as the
// production specification's serial number. Options.Period is not used:
// the host's polls set the pace.
//
// # Recording
//
// bedsim --record writes only what the device writes, the monitor→host
// bytes, which is what "bedgate decode --driver intellivue" and the
// driver's Decode read; the host's requests are not recorded.
//
// Not simulated: waves, alarms, enumerations, priority lists and
// GET/SET operations (ignored), the LAN transport and AutoSpeed.
package intellivue
