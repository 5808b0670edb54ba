// Package simulators is the contract between the simulated monitors
// (simulators/<protocol>) and the programs that run them (cmd/bedsim, the
// demo and the tests).
//
// A simulated [Device] speaks the device side of a protocol, byte for byte,
// over any io.ReadWriter: a pseudo-terminal, a real serial port or a pipe.
// Its values come from a physiology scenario (simulators/scenario), so a run
// is deterministic under a seed. Each reading the device sends can be logged
// as a JSON line in the drivers.Reading form (the values it meant), so that
// an end-to-end test can compare what the EPR received with what was sent.
package simulators
