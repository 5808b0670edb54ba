// Package hl7 encodes gateway records as HL7 v2.6 ORU^R01 messages per IHE
// PCD-01 "Communicate PCD Data": one message per record (one device
// reading), segments ended by "\r", published with content type
// application/hl7-v2. [Encoder] implements record.Encoder.
//
// Specifications: IHE PCD Technical Framework Vol. 2 (PCD-01, Appendix B
// segment tables, as restated by the IHE Gazelle assertions and the HL7
// Point-of-Care Device IG's PCD-01 mapping); HL7 v2.6 chapters 2 and 7;
// IEEE 11073-10101 (MDC) codes and units from package gateway/terminology.
//
// # Message
//
//	MSH  PID  PV1  OBR  OBX(MDS)  { OBX(metric) [NTE...] }
//
// A message carries what PCD-01 needs and nothing repeated besides: the
// device's raw status word, the parameters it lists without measuring, and
// a note naming its model, serial and driver are not sent (the flags of
// each value carry what the status word means, and OBX-18 identifies the
// device), and a row's time is OBR-7's (OBX-14 left empty: HL7 v2 chapter
// 7 needs it only where an observation's time differs from OBR-7, and
// vendors' PCD-01 messages leave it empty). The device (MDS) row stays: it
// carries the equipment identifier (OBX-18) once for every value row,
// which PCD-01 requires on the MDS row or on each value row (as the
// project's validator reads it; the TF-2 text was not available here); VMD
// and channel rows are optional in PCD-01's containment (a "0" stands for
// a level not sent, the "flat" MDS the records have). A Masimo
// reading is 918 bytes on the wire (713 stored), down from 1156 (859)
// (TestMasimoReadingBytes in package gateway).
//
// All text from records and options is escaped (\F\ \S\ \R\ \E\ \T\, and
// \Xhh\ for control characters, so CR and LF never end a segment).
// Timestamps are HL7 DTMs with milliseconds and the offset of
// Options.Location (UTC by default): 20260611081500.000+0000.
//
//   - MSH-2 ^~\&; MSH-3 Options.SendingApplication, by default
//     "BEDGATE^<gateway EUI-64>^EUI-64" (see Identifiers); MSH-4
//     Options.SendingFacility, else the record's site; MSH-5/6 the receiving
//     application and facility; MSH-7 the record's ReceivedAt (the time the
//     gateway completed the reading, not the time of sending, so that a
//     re-delivery is the same message byte for byte); MSH-9
//     ORU^R01^ORU_R01; MSH-10 the message control id; MSH-11 P, D or T;
//     MSH-12 2.6; MSH-13 the sequence number; MSH-15 AL, MSH-16 NE (what
//     published PCD-01 senders use: accept acknowledgement only); MSH-18
//     UNICODE UTF-8; MSH-21 IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO.
//   - PID-3, the patient identifier list: the NHS number as
//     <nhs>^^^NHS^NH, the local hospital number as
//     <id>^^^<Options.LocalIDAuthority or site>^MR, both when the record has
//     both. With no patient bound (see Unbound beds) PID-3 is
//     <site>/<ward>/<bed>^^^BEDGATE-BED^U. No name, birth date or sex: the
//     EPR owns demographics.
//   - PV1-2 I (inpatient); PV1-3 the assigned location as an HL7 PL,
//     <ward>^^<bed>^<site> (point of care, room left empty, bed, facility).
//   - OBR-3, the filler order number: <message control id>^<MSH-3>, so it
//     is unique with the message; OBR-4 182777000^monitoring of patient^SCT
//     (SNOMED CT, as PCD-01 examples use); OBR-7 the device's time of the
//     reading, or ReceivedAt when the device sends no time: the time of
//     every row.
//   - The device row, OBX-4 1.0.0.0 in the MDS.VMD.CHAN.METRIC containment
//     path: OBX-2 empty, OBX-3 the MDS class
//     (69641^MDC_DEV_ANALY_SAT_O2_MDS^MDC for the pulse oximeters of the
//     masimo driver, else 69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC;
//     69641 is one below 69642 MDC_DEV_ANALY_SAT_O2_VMD, which GE monitors
//     send, by the nomenclature's MDS/VMD/CHAN numbering: to be confirmed
//     in NIST RTMMS),
//     OBX-11 X (no value of its own), OBX-18 the device's EUI-64 as
//     <eui>^^<eui>^EUI-64. The metric rows inherit it.
//   - One metric row per record observation, in record order; none is ever
//     dropped. OBX-2 NM; OBX-3 code^RefID^MDC (RefID from the terminology
//     table, else the record's, else the device's label, else the code in
//     11073 partition::term notation); OBX-4 1.0.0.n, n the observation's
//     1-based position in the record (metrics sit directly in the MDS: the
//     records carry no VMD or channel); OBX-5 the value as a plain decimal
//     (no exponent); OBX-6 the unit (see Units); OBX-8 status flags; OBX-11
//     R, or X without a value; OBX-14 empty (OBR-7 applies); OBX-21 (observation
//     instance identifier, new in v2.6) the record's observation id, the
//     UUID the EPR de-duplicates on.
//
// # Identifiers
//
// MSH-10 is "<gateway-id>-<incarnation>-<seq>" ([MessageControlID]): unique
// per gateway, outbox incarnation and sequence number, stable across
// re-deliveries of the same record; a receiver reads the sequence number as
// the digits after the last "-" (also given alone in MSH-13) to prove that
// none is missing, and a new incarnation as a reset of the outbox.
//
// The EUI-64s are derived, not read from hardware: the first 8 bytes of a
// SHA-256 of the device's identity (its serial number and driver when the
// driver reports a serial, else gateway id and device key; for MSH-3 the
// gateway id) with the locally-administered bit set and the group bit
// cleared, 16 upper-case hex digits ([DeviceEUI64], [GatewayEUI64]). They
// are stable for a device and a gateway and cannot collide with a
// manufacturer's EUI-64. The messages do not name the serial number: a
// receiver that knows a device's driver and serial computes its EUI-64
// with DeviceEUI64.
//
// A value the driver knows only by the device's label (MDC code 0) has no
// MDC code, but PCD-01 requires OBX-3 coded code^RefID^MDC. It gets a code
// from the private range IEEE 11073-10101 reserves in each partition
// (term codes 0xF000-0xFFFF; not checked against the standard's text here)
// (metrics partition, term 0xF000 + a hash of driver and label:
// [PrivateCode]), the label as its text, and the label again as the
// alternate code, qualified by the driver, in the local coding system
// 99BGT: 194780^PVI^MDC^masimo:PVI^PVI^99BGT. Receivers should key such
// rows on the alternate code.
//
// # Units
//
// OBX-6 is the MDC dimension the terminology table gives for the
// measurement and UCUM unit (so "/min" is MDC_DIM_RESP_PER_MIN for a
// respiratory rate and MDC_DIM_BEAT_PER_MIN for a pulse rate); for a
// measurement the table does not know, the MDC dimension when the table
// knows exactly one for the UCUM unit; otherwise the UCUM code as
// <ucum>^<ucum>^UCUM (perfusion-index percent is MDC, mL/dL and "1" are
// UCUM). A value without a unit has an empty OBX-6.
//
// # Status policy
//
// PCD-01 reports device data that no clinician has verified with OBX-11 R
// ("results entered - not verified"), and keeps F for validated data. The
// gateway's checks (plausibility, status, staleness) are not clinical
// verification, so every value row is R; a row without a value is X
// ("cannot be obtained"). (The FHIR encoder says final because UK Core fixes
// it.) OBX-8 carries the IEEE 11073 MeasurementStatus flags as PCD-01
// lists them:
//
//   - no value (nil): INV when the device says invalid, NAV when it is
//     unavailable or the sensor is off, NI when neither; an NTE "sensor
//     off" and "no value: <reason>" keep the record's absent reason;
//   - NaN: INV; +Inf / -Inf: > / < (beyond the device's range), with no
//     value and X;
//   - questionable (record or device): QUES, and an NTE "questionable:
//     <reason>";
//   - calibrating: CAL; alarm active: ALACT; demo mode: DEMO (the value is
//     still sent; MSH-11 stays as configured);
//   - out of measurement range with a value: an NTE only (the flag has no
//     direction, so > or < cannot be chosen).
//
// Repeated flags are separated by "~" in the order above.
//
// # Unbound beds
//
// PCD-01 makes PID optional when the device does not know the patient, but
// the project's validator (and many receivers) require PID-3. With no
// patient bound the encoder identifies the bed, not a person: PID-3 is the
// bed path, assigning authority BEDGATE-BED, identifier type U
// (unspecified), which no patient index can match, and PV1-3 gives the same
// bed. A receiver must treat BEDGATE-BED identifiers as "no patient" and
// must not create or merge a patient from them.
//
// # Corrections
//
// [Encoder.EncodeWrong] re-sends a reading filed for the wrong patient with
// OBX-11 W on every metric row (table 0085: post original as wrong); the
// gateway then sends the corrected message, with new OBX-21 identifiers.
//
// # Validation
//
// The tests run the project's conformance validator
// (../shared/conformance/validate-hl7: the medplum and node-hl7-client
// parsers, which must agree field by field, and the project's PCD-01 rules)
// over messages for vital signs with and without a patient, local patient
// numbers, names that need escaping, absent, NaN, infinite, questionable,
// calibrating, demo and label-only values, in UTC and another zone, with
// every option: 0 problems.
//
// Not implemented: VMD and channel rows (the records do not say which
// module measured a value), OBX-7 alarm limits (not in records), OBX-18 on
// every metric row, MLLP framing and ACK handling (the transport is MQTT),
// blood-pressure grouping beyond one row per value.
package hl7
