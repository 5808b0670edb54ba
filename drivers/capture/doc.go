// Package capture reads and writes timestamped recordings of the bytes a
// device sent over a serial line, for "bedgate capture", "bedgate decode"
// and "bedsim --replay".
//
// # Format
//
// A capture is a text file of lines ending in "\n":
//
//	BEDGATE-CAPTURE 1
//	{"start":"2026-11-26T10:00:00.123456Z","port":"/dev/serial/by-path/...","node":"/dev/ttyUSB0","driver":"masimo","line":{"baud":9600,"data_bits":8,"parity":"none","stop_bits":1}}
//	0.000000 30312f30312f3030...
//	1.000412 0d0a
//
// The first line is the magic: "BEDGATE-CAPTURE", a space and the format
// version (1). The second is a JSON object, the [Header]: when recording
// started (RFC 3339 with nanoseconds), the port as given and the device
// node it resolved to, and, when known, the driver and the line settings
// used. Unknown header fields are ignored.
//
// Every further line is one chunk, the bytes one read returned: the time
// since start at which they arrived, in seconds with exactly six decimals
// (microseconds), a single space, and the bytes in lower-case hexadecimal
// (two digits a byte, at least one byte). Offsets never decrease. Lines
// starting with "#" are comments and are skipped, as is an empty last line.
//
// Hexadecimal keeps every byte (NUL, XON, framing bytes, bytes with the top
// bit set) exact while the file stays greppable and safe to mail. A
// capture of a 9600 baud line grows by at most about 7 MB an hour.
//
// A file that does not begin with the magic is a raw capture: the bytes
// alone, as "bedsim --record" writes them. [Raw] returns the device bytes
// of either kind, so that decoders read both.
package capture
