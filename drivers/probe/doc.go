// Package probe finds which driver speaks to the device on a serial port.
//
// [Probe] opens the port at one driver's line settings, runs the driver's
// session until the first reading or a timeout, and reports what it heard:
// the reading, the session's statistics and how many bytes arrived, so that
// a silent port can be told from a device speaking another protocol or at
// another speed. [All] tries several drivers in turn and stops at the first
// that hears a reading. Nothing is written to the device beyond what a
// driver's session itself sends.
package probe
