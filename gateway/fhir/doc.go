// Package fhir encodes gateway records as FHIR R4 JSON: one transaction
// Bundle per record (one device reading), published with content type
// application/fhir+json. [Encoder] implements record.Encoder.
//
// Specifications: FHIR R4 (4.0.1) Bundle, Observation, Device and Location;
// the core vital-signs profiles (hl7.org/fhir/R4/observation-vitalsigns.html);
// the UK Core vital-signs profiles (HL7 UK / NHS England); the HL7 Point of
// Care Device IG mapping of IEEE 11073 measurement status. Codes come from
// package gateway/terminology.
//
// # Bundle
//
// Bundle.type is transaction. Bundle.identifier is
// {system "urn:bedgate:gateway:<gateway-id>:seq", value the record's
// sequence number in decimal}, so a receiver can check for gaps;
// Bundle.timestamp is the record's ReceivedAt. Entries, in order:
//
//   - Location, the bed: identifier {urn:bedgate:location,
//     "<site>/<ward>/<bed>"} ("%" and "/" inside a name percent-encoded),
//     name the bed, description "bed, ward, site", mode instance,
//     physicalType bd (Bed).
//   - Device: one identifier, {urn:bedgate:device:<driver>:serial, serial}
//     when the device key is the device's serial number, else
//     {urn:bedgate:gateway:<gateway-id>:device, device key} (a configured
//     name is unique only within its gateway); serialNumber, modelNumber and
//     deviceName (model-name) when the driver reports them; type codes the
//     driver (system urn:bedgate:driver); location references the bed.
//   - One Observation per record observation, in record order; none is
//     ever dropped.
//
// Every entry is a conditional create: request POST <type> with ifNoneExist
// "identifier=<system>|<value>" (percent-encoded) matching the identifier
// the resource carries, so a re-delivery never files twice. fullUrls are
// urn:uuid UUIDv5s of the resource type and its identifier (the observation
// id for Observations), so encoding the same record twice gives the same
// bytes and a re-delivered observation keeps its fullUrl. JSON is compact,
// from structs, in a fixed key order.
//
// # Observation
//
//   - identifier {urn:ietf:rfc:3986, "urn:uuid:<record observation id>"}:
//     the id is a UUID, globally unique by itself, which is what the
//     rfc3986 system means.
//   - status final (see Status policy).
//   - code: for a vital sign (a terminology entry with a LOINC code), the
//     LOINC codings (SpO2: 2708-6 then 59408-5), the SNOMED CT coding when
//     the table has one, and the MDC coding {urn:iso:std:iso:11073:10101,
//     decimal code, display the RefID}; text the display name. Category
//     vital-signs.
//   - A device observation (no LOINC vital-signs code, such as perfusion
//     index), an MDC code the table does not know, a single value of a
//     panel code, or a vital sign in a unit its profile does not allow
//     (explained in a note) carries only its MDC coding and the unit as
//     given, and no vital-signs category: it is not a vital sign and must
//     not be filed as one. A value the driver knows only by the device's
//     label (MDC code 0) is coded {urn:bedgate:driver:<driver>:parameter,
//     label}.
//   - subject: the patient when the record has one, as a logical reference
//     {type Patient, identifier} with the NHS number
//     (https://fhir.nhs.uk/Id/nhs-number), else the local hospital number
//     (Options.LocalIDSystem). With no patient the subject is the bed
//     Location. No Patient resource is created: the EPR owns patients.
//   - meta.profile, only with a patient subject (the core profiles require
//     a Patient): the core profile of the vital (oxygensat, heartrate,
//     resprate, bodytemp; vitalsigns for blood-pressure parts and etCO2),
//     then the UK Core profile when the vital has one and a SNOMED coding
//     (UK Core also fixes status final and needs LOINC and SNOMED codings
//     and a subject: all met). Options.DisableUKCore drops the UK Core
//     claim.
//   - effectiveDateTime: the device time with its offset, or ReceivedAt when
//     the device sends no time; issued: ReceivedAt. RFC 3339, milliseconds.
//   - valueQuantity {value, unit (UCUM display name), system
//     http://unitsofmeasure.org, code the UCUM unit}, or dataAbsentReason
//     (http://terminology.hl7.org/CodeSystem/data-absent-reason) from the
//     record's Absent code ("unknown" with the text kept for a code outside
//     that system; not-a-number / positive-infinity / negative-infinity for
//     NaN and infinite values) — never both.
//   - device: the Device entry.
//
// # Status policy
//
// Records hold values the gateway has validated, so every Observation is
// final (UK Core fixes final too). A value the gateway forwards with a
// warning (Observation.Questionable or the device's Questionable flag) stays
// final and gets interpretation questionable from the PoCD measurement-status
// code system (http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status, as
// the PoCD/PHD IGs map IEEE 11073 MeasurementStatus bit 1) plus a note
// "questionable: <reason>". Calibrating and AlarmActive flags add
// calibration-ongoing and in-alarm from the same system. Demo values carry
// meta.security HTEST (v3-ActReason). A missing value is final with a
// dataAbsentReason.
//
// # Validation
//
// The tests run the project's conformance validator
// (../shared/conformance/validate-fhir: FHIR.js, @medplum/core with the R4
// definitions and core vital-signs profiles, the R4 JSON Schema, and the
// project's vital-sign, UCUM, UK Core, NHS number, SNOMED and Bundle rules)
// over realistic records: vital signs with and without a patient, absent,
// questionable and demo values report 0 problems. The validator holds every
// Observation to the vital-sign rules, so each device observation is
// reported as missing the vital-signs category, and a label-only value also
// as lacking a LOINC or MDC coding; the tests pin exactly those reports.
//
// Not implemented: blood-pressure panels with components (the terminology
// table lists the panel and its parts; single parts are encoded as single
// Observations), DeviceMetric resources, message Bundles, unit conversion.
package fhir
