// Package hl7v2 reads HL7 version 2 messages as monitors' central stations
// and vendor gateways send them (Philips PIC iX, GE CARESCAPE Gateway,
// Mindray eGateway, Welch Allyn Connex CS): the ER7 encoding (segments,
// fields, repetitions, components, subcomponents and escapes, with the
// delimiters the message declares in MSH-1 and MSH-2), and ORU^R01
// observation reports of versions 2.3 to 2.6, usually IHE PCD-01, turned
// into the same drivers.Reading values the serial drivers produce.
//
// It is the receiving side. The gateway's own PCD-01 encoder is
// gateway/hl7; MLLP framing is gateway/mllp.
//
// What an ORU row becomes:
//
//   - OBX-3 with coding system MDC (in the first or the alternate triple)
//     gives the MDC code and reference id; a code from a vendor's own
//     system is looked up in the configured [CodeTable]; any other code is
//     passed through under its label ("system:code"), never dropped.
//   - OBX-5 of an NM row is the number. An empty, non-numeric, NaN or
//     infinite OBX-5 never becomes a number: the value is nil with the
//     Unavailable or Invalid flag.
//   - OBX-6 is converted to UCUM: an MDC dimension code through the MDC
//     unit table, a UCUM or unnamed code as it is.
//   - OBX-11 (result status) and OBX-8 (abnormal flags, with the IHE PCD
//     measurement-status codes) become drivers status flags, see
//     [resultStatus] and [abnormalFlags].
//   - OBX-14, else OBR-7, else MSH-7 is the device time.
//   - OBX-18 (inherited by the rows after it within one OBR) identifies the
//     equipment; rows are grouped into one Reading per equipment and time.
//
// Rows of other value types (ST, CWE, ...) are not numeric: they are counted
// in ORU.NotNumeric, not turned into values. PCD-01 containment rows (MDS,
// VMD, channel: no value type and no value) carry the equipment identifier
// but no value.
//
// The package knows nothing of beds or patients beyond reporting PV1-3 and
// the PID-3 identifiers; checking an NHS number is the gateway's job.
package hl7v2
