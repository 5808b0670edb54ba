// Package demo runs a whole simulated ward in one process: an embedded MQTT
// broker on loopback (or an external broker), simulated monitors (Philips
// IntelliVue and Masimo, in turn) on pseudo-terminals, a nurse entry for
// NEWS2, the gateway reading them through the real serial
// transport and durable outbox, and a subscriber that prints what the EPR
// receives, one line per observation.
//
// The embedded broker is a NATS server with its MQTT listener
// (gateway/embedbroker), the engine a trust can also run as a cluster.
package demo
