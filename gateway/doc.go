// Package gateway runs the gateway: one supervisor per configured bed reads
// its device through the serial transport and the bed's driver; each
// reading goes through the pipeline (identify, validate, associate with the
// patient in the bed, score NEWS2) and is stored, encoded, in the durable
// outbox (synced before the reading counts as accepted); the publisher drains
// the outbox to the MQTT broker. Each reading decided for a subject is
// entered in the ledger of filings (gateway/filed) first, so that an
// admission event arriving late corrects it (correct.go). With a format
// whose readings refer to a context (record.ContextEncoder: FHIR), each
// bed's context (location, device, metrics) is stored before the first
// reading that refers to it and again when it may not reach the EPR first
// (bedcontext.go).
//
// Data flows one way:
//
//	serial port → driver session → Observe (identify, judge device status;
//	  each episodic measurement a record of its own, at the time the device
//	  took it) → validate (a measurement reported again is a counted repeat)
//	  → associate → encode and store (buffer) → publish → broker
//
// Topics (never a patient identifier in a topic):
//
//	bedgate/v1/<site>/<ward>/<bed>/obs        observations (FHIR R4 Bundles, the bed's context Bundles, or HL7 v2 ORU^R01), not retained
//	bedgate/v1/<site>/<ward>/<bed>/rejected   quarantined values with their reasons (JSON), not retained
//	bedgate/v1/<site>/<ward>/<bed>/device     device status (JSON), retained
//	bedgate/v1/<site>/<ward>/<bed>/admission  admissions, published by the EPR, retained; subscribed
//	bedgate/v1/<site>/<ward>/<bed>/nurse      consciousness and air or oxygen for NEWS2, retained; subscribed
//	bedgate/v1/<site>/gateway/<id>/status     gateway status (JSON, "offline" as the last will), retained
package gateway
