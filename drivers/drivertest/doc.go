// Package drivertest is the conformance suite every driver and its
// simulator must pass. A driver's own tests call [Run] with its [Pair]:
//
//	func TestConformance(t *testing.T) {
//		drivertest.Run(t, drivertest.Pair{Driver: nonin.Driver(), Simulator: sim.Kind(), ...})
//	}
//
// The suite runs the simulator on a real pseudo-terminal and the driver's
// session on the serial port it opens, and checks:
//
//   - round trip: every reading the driver decodes equals, receive time
//     aside, the reading the simulator logged (simulators.Options.Values),
//     in order, and every receive time is the gateway clock's;
//   - flagged and absent values: the "artefact" scenario gives a value
//     with a number and a flag, "sensor-off" a value without a number and
//     with a flag;
//   - the splitter contract on the bytes the device sent: the same frames
//     whole, one byte at a time (testing/iotest.OneByteReader), in halves
//     and with the error on the last read; a reader's error is returned,
//     never a frame made up; every cut of the stream is safe to split;
//     and Decode gives the same readings read one byte at a time;
//   - Run returns promptly (within CancelWithin) when its context ends, on
//     a link that sends nothing, and leaves no goroutine behind once the
//     link is closed;
//   - fuzz targets: each named target exists in the driver's tests and
//     has seeds (f.Add).
//
// Tests that use the suite must not run in parallel with others in their
// package: the goroutine check counts every goroutine of the process.
package drivertest
