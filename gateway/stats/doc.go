// Package stats is the one snapshot of a running gateway: its outbox, its
// broker link and every bed (device state with its reason, driver counters,
// the latest key vitals and their trend, quarantines, whether a patient is
// admitted). The retained MQTT status topics, the status page and the
// Prometheus metrics are all built from it, so they never disagree.
//
// A snapshot never holds a patient identifier: a bed says whether a patient
// is admitted, not who.
package stats
