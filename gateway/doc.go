// Package gateway runs the gateway: one supervisor per configured bed reads
// its device through the serial transport and the bed's driver, turns each
// reading into a validated record, appends it to the durable outbox (synced
// before the reading counts as accepted), and the publisher drains the
// outbox to the MQTT broker.
//
// Data flows one way:
//
//	serial port → driver session → Observe (validate, identify) → buffer → publish → broker
//
// Topics (never a patient identifier in a topic):
//
//	bedgate/v1/<site>/<ward>/<bed>/obs        observations (FHIR R4 Bundles), not retained
//	bedgate/v1/<site>/<ward>/<bed>/device     device status, retained
//	bedgate/v1/<site>/gateway/<id>/status     "online" / "offline" (last will), retained
package gateway
