package masimo

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll runs a Splitter over r with a bufio.Scanner and returns the lines.
func scanAll(t *testing.T, r interface{ Read([]byte) (int, error) }) (lines []string, s *Splitter, err error) {
	t.Helper()
	s = &Splitter{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64), 4*MaxLineLength)
	sc.Split(s.Split)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, s, sc.Err()
}

func TestSplitter(t *testing.T) {
	long := strings.Repeat("x", MaxLineLength)
	tests := []struct {
		name     string
		in       string
		want     []string
		overlong int64
		skipped  int64
		err      error
	}{
		{"CR/LF", "a\r\nb\r\n", []string{"a", "b"}, 0, 0, nil},
		{"LF", "a\nb\n", []string{"a", "b"}, 0, 0, nil},
		{"CR", "a\rb\r", []string{"a", "b"}, 0, 0, nil},
		{"mixed and empty lines", "\r\n\na\r\r\nb\n\rc\r\n", []string{"a", "b", "c"}, 0, 0, nil},
		{"longest line kept", long + "\r\n", []string{long}, 0, 0, nil},
		{"over-long line skipped", "a\r\n" + long + "yy\r\nb\r\n", []string{"a", "b"}, 1, MaxLineLength + 2, nil},
		{"two over-long lines", long + "1\n" + long + "2\n" + "c\n", []string{"c"}, 2, 2 * (MaxLineLength + 1), nil},
		{"over-long at end", long + "zzz", nil, 1, MaxLineLength + 3, nil},
		{"truncated last line", "a\r\nb", []string{"a"}, 0, 0, ErrTruncated},
		{"empty", "", nil, 0, 0, nil},
		{"noise with NUL and high bytes is a line", "\x00\xfe\x80\r\n", []string{"\x00\xfe\x80"}, 0, 0, nil},
	}
	readers := map[string]func(string) interface{ Read([]byte) (int, error) }{
		"whole": func(s string) interface{ Read([]byte) (int, error) } { return strings.NewReader(s) },
		"one byte": func(s string) interface{ Read([]byte) (int, error) } {
			return iotest.OneByteReader(strings.NewReader(s))
		},
		"half": func(s string) interface{ Read([]byte) (int, error) } { return iotest.HalfReader(strings.NewReader(s)) },
		"data+err": func(s string) interface{ Read([]byte) (int, error) } {
			return iotest.DataErrReader(strings.NewReader(s))
		},
	}
	for _, tt := range tests {
		for rname, mk := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				lines, s, err := scanAll(t, mk(tt.in))
				if !reflect.DeepEqual(lines, tt.want) {
					t.Errorf("lines = %q, want %q", lines, tt.want)
				}
				if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
					t.Errorf("err = %v, want %v", err, tt.err)
				}
				if s.Overlong() != tt.overlong || s.Skipped() != tt.skipped {
					t.Errorf("overlong %d skipped %d, want %d and %d", s.Overlong(), s.Skipped(), tt.overlong, tt.skipped)
				}
			})
		}
	}
}

// TestSplitterBoundedBuffer checks that a stream with no line end never
// makes the Scanner grow past a few line lengths.
func TestSplitterBoundedBuffer(t *testing.T) {
	noise := bytes.Repeat([]byte{0x55, 0xaa, 0x00, 0xff}, 64*1024)
	s := &Splitter{}
	sc := bufio.NewScanner(bytes.NewReader(noise))
	sc.Buffer(make([]byte, 0, 64), 2*MaxLineLength) // ErrTooLong if it tried to buffer more
	sc.Split(s.Split)
	for sc.Scan() {
		t.Fatalf("unexpected line %q", sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("Scanner: %v", err)
	}
	if s.Skipped() != int64(len(noise)) || s.Overlong() != 1 {
		t.Errorf("skipped %d overlong %d, want %d and 1", s.Skipped(), s.Overlong(), len(noise))
	}
}
