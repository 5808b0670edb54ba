// Package dri reads the GE Datex-Ohmeda S/5 Computer Interface: the
// Datex-Ohmeda Record Interface (DRI) over RS-232 of S/5 AM/CAM/CCM, AS/3
// and CS/3, Cardiocap/5, CARESCAPE B450/B650/B850 and B20/B40/B105/B125
// monitors.
//
// # Sources
//
// GE Healthcare "S/5 Computer Interface Specification" (M1017617, 12th
// edition, 2020): line, framing, checksum, requests and the Appendix A
// request frames; "S/5 System Interface Datex-Ohmeda Record
// Specification" (8005313, 12th edition, 2020): the record header and the
// physiological data structures.
//
// # Link
//
// 19200 baud (115200 on CARESCAPE software 3 and later), 8 data bits, even
// parity, 1 stop bit, RTS/CTS hardware handshake. Every frame is 0x7E, a
// record and its checksum (the 8-bit sum of the record's bytes), 0x7E;
// inside, 0x7E and 0x7D are sent as 0x7D followed by the byte with bit 5
// cleared (0x7D 0x5E, 0x7D 0x5D), the checksum included. All numbers are
// little endian and structures packed.
//
// # Dialog
//
// A record is a 40-byte header (r_len, r_nbr, dri_level, plug_id, r_time,
// r_maintype and up to eight subrecord descriptors, 0xFF ending the list)
// and its subrecords. The session asks for the displayed values every
// Options.Interval (10 s by default, 5 s at least) and for the auxiliary
// information that holds the NIBP measurement time; the monitor then
// sends them unasked. When no record comes for Options.Stall (twice the
// interval) the session asks again: a monitor stops sending when RTS/CTS
// held it up for over 2 s. Sixty-second trends are asked for only with
// Options.Trend60.
//
// # Values
//
// A displayed values subrecord (278 bytes: time, the 270-byte class data,
// marker, class) of the basic class gives one reading at its time: every
// group whose module exists (status bit 0), every field of it, in the
// spec's order. Vital signs carry their MDC code (ECG heart rate,
// impedance and CO2 respiration rate, arterial pressures, temperatures by
// site, SpO2 and its pulse rate, end-tidal CO2 as mmHg from the
// concentration and the ambient pressure); every field, coded or not, has
// the label "<group>[(<label>)].<field>", for example "p2(CVP).mean", and
// the spec's unit and scale (values in 1/100 mmHg, 1/100 °C, 1/100 %).
// Subrecords of other classes or types are passed through, each 16-bit
// word a value labelled "<class>[<offset>]".
//
// The reserved values are never numbers: DATA_INVALID (-32767) is absent
// and Invalid, DATA_NOT_UPDATED (-32766) and DATA_DISCONT (-32765) absent,
// DATA_UNDER_RANGE and DATA_OVER_RANGE (-32764, -32763) absent and
// OutOfRange, DATA_NOT_CALIBRATED (-32762) absent and Calibrating, and any
// other value at or below -32001 absent and Invalid. A group whose
// measurement is not active (status bit 1 clear, or its "measurement off"
// bit set) sends no numbers. Status bits become flags on the group's
// values: ECG noise, artifact and learning Questionable, asystole an alarm
// on the heart rate; pressure zeroing, CO2, gas and spirometry calibrating
// or zeroing Calibrating; CO2 occlusion and air leak, spirometry
// obstruction and leak Questionable; spirometry disconnection SensorOff.
// The status and label words of each existing group are kept verbatim in
// Reading.DeviceStatus.
//
// # NIBP
//
// NIBP is episodic: the displayed values repeat the last measurement. It
// is emitted as a reading of its own, once per measurement (new values, a
// new auxiliary NIBP time, or the first after a record in which the last
// one was over 60 s old), at the subrecord's time, each value measured
// (MeasuredAt) at the auxiliary NIBP time when the monitor gave one
// (DRI_PH_AUX_INFO's nibp_time [8005313]: the monitor's own time stamp of
// the measurement), else at the subrecord's time (the measurement ended
// within the 60 s before); never while measuring, and never once
// the label says the measurement is over 60 s old. Two measurements with
// the same values less than 60 s apart and no auxiliary time are one.
package dri
