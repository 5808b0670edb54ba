// Package pty gives a simulated monitor a pseudo-terminal to speak on, so
// that a gateway can open the simulator exactly like a serial port.
//
// [Open] makes a pseudo-terminal pair in raw mode (no echo, no CR/LF
// translation, no signals, 8-bit clean) on both sides. The simulator reads
// and writes the master through the [*PTY] itself; the gateway opens the
// slave by [PTY.Path], for example /dev/pts/7, or through a stable symlink
// made with [PTY.Link], for example /tmp/bedgate/bed1.
//
// # Behaving like a serial line
//
// The PTY keeps its own handle on the slave open for its whole life. A
// pseudo-terminal whose slave nobody holds reports a hang-up to the master,
// and its master can block or fail; holding the slave keeps the line up, so
// a gateway may open, close and reopen the path while the simulator keeps
// writing, as it would with a monitor on a real cable.
//
// Bytes the simulator writes while no gateway is reading are queued in the
// terminal (up to the kernel's buffer, some tens of KiB) and read by the next
// opener. When the queue is full, [PTY.Write] discards what is queued and
// carries on, the way bytes are lost on a serial line with nobody listening:
// a write never blocks for long because nobody reads.
//
// Closing the PTY hangs up the line: a gateway reading the slave then sees
// end of file or an I/O error, as when a monitor's cable is pulled. Call
// [PTY.Drain] first to let an attached gateway read what was written.
//
// Only Linux is supported; elsewhere Open returns an error.
package pty
