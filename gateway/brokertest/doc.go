// Package brokertest starts a real mosquitto broker on a free loopback port
// for tests. Tests that need it fail (not skip) when mosquitto is not
// installed, with the command that installs it, unless
// BEDGATE_SKIP_BROKER_TESTS=1 is set: real-broker tests must not vanish
// silently from a CI run.
//
// StartWith adds a TLS listener (optionally requiring client certificates)
// and password authentication; NewPKI writes the certificates such tests
// need.
package brokertest
