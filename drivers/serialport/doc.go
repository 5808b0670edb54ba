// Package serialport opens serial ports for device sessions: the transport
// under every driver in drivers/<protocol>.
//
// [Open] opens a port by path, including the stable symlinks under
// /dev/serial/by-path and /dev/serial/by-id, sets the line from a
// [drivers.LineSettings] (baud, data bits, parity, stop bits and, on Linux,
// RTS/CTS hardware flow control) and takes the port for this process alone:
// a second opener, in this process or another, fails with [ErrBusy].
//
// A [Port] is an io.ReadWriteCloser with the behaviour a session needs:
//
//   - Read blocks until at least one byte arrives, the port is closed, or the
//     device fails. It never returns (0, nil), and it sets no timeout and
//     polls nothing: a silent port costs no CPU, and an unplugged device is
//     seen from the kernel's hang-up of the line (a zero-length read or an
//     I/O error), at once. On Unix it waits in the runtime's network poller
//     (a parked goroutine), not in a system call holding a thread.
//   - Close may be called from any goroutine; it unblocks a waiting Read
//     promptly, which then returns an error matching [ErrClosed].
//   - When the device goes away (a USB adapter unplugged, a pseudo-terminal
//     whose simulator exited) Read and Write return a [*GoneError], which
//     matches both [ErrGone] and [drivers.ErrLinkLost].
//
// [OpenWithRetry] keeps trying to open a port with a doubling [Backoff]
// until it succeeds or its context ends, which is what a supervisor does
// after a device is unplugged. Besides a path, Open takes an adapter identity
// "usb:VID:PID:SERIAL" and finds the adapter's node at each open, so that a
// bed bound to an adapter follows it to a new ttyUSB number ([Resolve]).
//
// [List] and [Enumerator] enumerate the serial ports present from sysfs and
// the udev links under /dev/serial/by-id and /dev/serial/by-path, with
// their USB vendor and product ids, serial number and strings, without
// opening any port.
//
// Open errors are specific and can be tested with errors.Is: [ErrNoDevice]
// for a missing node, [ErrPermission] (which also matches fs.ErrPermission)
// when the user may not open it, [ErrBusy] when another process holds it,
// [ErrNotSerial] for a path that is not a terminal, [ErrInvalidSettings]
// for line settings no port accepts and [ErrAmbiguous] for an adapter
// identity that several adapters share. [Explain] adds to such an error
// what a person needs to fix it: the group to join, the processes holding
// the port ([Holders]), or the ports present.
//
// go.bug.st/serial does the work underneath: it opens the port and sets
// the line. It has no hardware flow control, so RTS/CTS is set through
// termios (CRTSCTS) on Linux; on other systems asking for RTS/CTS is an
// error. On Unix, reads and writes go through a second, non-blocking handle
// on the device that this package opens first (it also holds the lock and
// exclusive mode), because go.bug.st/serial's Read waits in select(2): a
// thread per silent port, and the runtime's monitor polling while any waits
// (at 64 ports sending a line a second each, the gateway fell from about
// 70 threads to 11, and its CPU per reading by about 7 % in the median of
// seven alternated runs of BenchmarkWard, cmd/bedgate, with the hold
// file's change of the same day).
package serialport
