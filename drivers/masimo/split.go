package masimo

import "bytes"

// Splitter cuts a byte stream into lines. Its Split method is a
// bufio.SplitFunc: CR, LF and CR/LF all end a line, empty lines are skipped,
// and a line is at most MaxLineLength bytes. A longer run of bytes without a
// line end (noise, a wrong baud rate) is not buffered: it is skipped up to
// and including the next CR or LF, and counted. Split never returns an error
// for a bad line; bad contents are ParseLine's business. At the end of input
// a last line without its CR or LF gives ErrTruncated.
//
// The zero value is ready to use. A Splitter keeps state between calls
// (whether it is skipping an over-long line), so use one per stream. It is
// not safe for concurrent use.
type Splitter struct {
	discarding bool
	overlong   int64
	skipped    int64
}

// Split implements bufio.SplitFunc. The token is a slice of data, valid
// only until the next call, without its CR or LF. Empty lines and skipped
// bytes are consumed in the same call as the line after them, because a
// bufio.Scanner at the end of input stops at the first call that returns
// no token.
func (s *Splitter) Split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for {
		rest := data[advance:]
		if s.discarding {
			advance += s.discard(rest)
			if s.discarding {
				return advance, nil, nil // all of data skipped
			}
			continue
		}
		window := rest[:min(len(rest), MaxLineLength+1)]
		i := bytes.IndexAny(window, "\r\n")
		switch {
		case i == 0: // an empty line, or the LF of a CR/LF
			advance++
			continue
		case i > 0:
			return advance + i + 1, rest[:i], nil
		case len(rest) <= MaxLineLength:
			if atEOF && len(rest) > 0 {
				return len(data), nil, ErrTruncated
			}
			return advance, nil, nil // need more data
		}
		s.overlong++
		s.discarding = true
	}
}

// discard skips bytes up to and including the next line end.
func (s *Splitter) discard(data []byte) int {
	i := bytes.IndexAny(data, "\r\n")
	if i < 0 {
		s.skipped += int64(len(data))
		return len(data)
	}
	s.skipped += int64(i)
	s.discarding = false
	return i + 1
}

// Overlong returns the number of lines skipped for being longer than
// MaxLineLength.
func (s *Splitter) Overlong() int64 { return s.overlong }

// Skipped returns the number of bytes skipped in over-long lines (their
// line ends not included).
func (s *Splitter) Skipped() int64 { return s.skipped }
