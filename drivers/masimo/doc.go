// Package masimo reads the "ASCII 1" serial output of Masimo SET pulse
// CO-oximeters (Radical-7, Rad-8, Rad-97 and relatives).
//
// # Source
//
// The format is described in the Masimo Rad-8 Operator's Manual, section 7
// "Serial interface specifications" and section 4 "Trend data format" /
// "Serial output" (ASCII 1 mode). Radical-7 units send the same line shape
// with more fields. The device must be set to ASCII 1 output; the Rad-8
// default (ASCII 2) is not understood.
//
// # Protocol
//
// The link is 9600 baud, 8 data bits, no parity, 1 stop bit, no handshake.
// There is no dialog: the host only listens. Once a second the device sends
// one line of printable ASCII terminated by CR/LF:
//
//	MM/DD/YY HH:MM:SS KEY=VALUE KEY=VALUE ...
//
// for example (a Radical-7 with a SET sensor on the patient):
//
//	11/02/24 07:15:04 SN=0000412345 SPO2=096% BPM=088 PI=01.27% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- PVI=--- ALARM=0000 EXC=000800
//
// The field set and widths vary by model and firmware, so the parser is
// tolerant: fields may come in any order, keys are matched without regard
// to case, a "%" after a number is optional, and dashes ("---", "--.-",
// "+--") mean "no value". The manual's trend form, with "PR" for the pulse
// rate and an exception word such as "EXC=C00:LowSigIQ,SET", is accepted
// too.
//
// # What a line becomes
//
// [ParseLine] turns one line into a [drivers.Reading]:
//
//   - The timestamp is the device time, read in the device's time zone (two
//     digit years are 1969 to 2068).
//   - SN is the device serial number (empty when sent as dashes).
//   - Known parameters become values with IEEE 11073-10101 (MDC) codes:
//     SPO2 (MDC_PULS_OXIM_SAT_O2, 150456, %), BPM or PR
//     (MDC_PULS_OXIM_PULS_RATE, 149530, /min), PI (MDC_PULS_OXIM_PERF_REL,
//     150448, %), SPCO (MDC_CONC_HB_CO_GEN, 160128, %), SPMET
//     (MDC_CONC_HB_MET_GEN, 160124, %) and SPHB (MDC_CONC_HB_ART, 159764,
//     g/dL). The codes are partition 2 (SCADA) term codes: 19384, 18458,
//     19376, 29056, 29052 and 28692. Some PCD-01 senders code a perfusion
//     index as MDC_BLD_PERF_INDEX (150488) instead; this driver keeps the
//     pulse-oximetry term.
//   - Known parameters without an MDC term (PVI pleth variability index %,
//     SPOC oxygen content mL/dL, DESAT, PIDELTA %) and any unknown key whose
//     value is a number or dashes are kept as values with MDC code 0, no Ref
//     and the device's key as Label, so nothing the device says is dropped;
//     the gateway decides what to do with them.
//   - ALARM, EXC, EXC1 (any key starting with ALARM or EXC) and any unknown
//     key whose value is not a number are kept verbatim, in line order, in
//     Reading.DeviceStatus, for example "ALARM=0000 EXC=000800".
//
// The exception word EXC sets the status of every value, since every value
// comes from the same sensor. No Sensor (001), Defective Sensor (002), Sensor
// Off (020) and Unrecognized Sensor (080) give SensorOff|Invalid. Low
// Perfusion (004), Pulse Search (008), Interference (010), Ambient Light
// (040) and Low Signal IQ (400) give Questionable. Masimo SET (800) and the
// reserved and undocumented bits set no flag. A value sent as dashes is also
// Unavailable. The ALARM bits are proprietary and undocumented: they are kept
// verbatim and never interpreted (no AlarmActive flag is set).
//
// A line is rejected with a *[LineError] when it holds a byte that is not
// printable ASCII, is longer than [MaxLineLength], lacks the timestamp, has a
// field that is not KEY=VALUE, repeats a key, has a known parameter whose
// value is neither a number nor dashes, has an exception or alarm word that
// is not hexadecimal, or has no EXC field (a truncated line, or a device not
// in ASCII 1 mode). Rejected lines are counted, never passed on.
//
// # Streams
//
// [Splitter] cuts a byte stream into lines at CR, LF or CR/LF, with lines
// bounded by [MaxLineLength]; longer runs (noise, a wrong baud rate) are
// skipped up to the next line end and counted. [NewSession] runs the host
// side over a serial port and [Decode] reads a capture. [Driver] is the
// registry record.
//
// Not implemented: ASCII 2 and the Philips/VueLink mode, waveforms, the
// interpretation of ALARM bits, and the model (the line does not name it).
package masimo
