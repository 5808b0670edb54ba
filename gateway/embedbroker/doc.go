// Package embedbroker runs an MQTT broker inside the process: a NATS server
// (github.com/nats-io/nats-server/v2) with its MQTT listener on a free
// loopback port and JetStream, which its MQTT support needs for sessions,
// QoS 1 delivery and retained messages, storing into a directory.
//
// It is the same engine a trust can run as a cluster (see
// configs/nats-cluster.conf), embedded for `bedgate demo` and for tests
// that need a broker refusing a subscription (mosquitto grants refused
// subscriptions and filters silently). Tests of the gateway's behaviour
// against a production broker use a real mosquitto (gateway/brokertest) or
// nats-server processes (the fleet test in cmd/bedgate).
//
// Everyone may connect without credentials; the broker listens on
// 127.0.0.1 only.
package embedbroker
