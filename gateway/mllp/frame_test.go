package mllp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReaderFrames(t *testing.T) {
	two := string(Frame([]byte("MSH|one"))) + string(Frame([]byte("MSH|two\x1cstill two")))
	for _, tc := range []struct {
		name string
		in   io.Reader
		want []string
		skip int64
		end  error
	}{
		{"two in one read", strings.NewReader(two), []string{"MSH|one", "MSH|two\x1cstill two"}, 0, io.EOF},
		{"one byte per read", iotest.OneByteReader(strings.NewReader(two)), []string{"MSH|one", "MSH|two\x1cstill two"}, 0, io.EOF},
		{"noise between frames", strings.NewReader("\r\njunk" + two + "\n"), []string{"MSH|one", "MSH|two\x1cstill two"}, 7, io.EOF},
		{"truncated", strings.NewReader("\x0bMSH|half"), nil, 0, ErrTruncated},
		{"truncated after FS", strings.NewReader("\x0bMSH|half\x1c"), nil, 0, ErrTruncated},
		{"big message over the bufio size", strings.NewReader(string(Frame(bytes.Repeat([]byte("x"), 100<<10)))), []string{strings.Repeat("x", 100<<10)}, 0, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in, 0)
			var got []string
			var err error
			for {
				var m []byte
				if m, err = r.Next(); err != nil {
					break
				}
				got = append(got, string(m))
			}
			if !errors.Is(err, tc.end) || strings.Join(got, "\n") != strings.Join(tc.want, "\n") || r.Skipped() != tc.skip {
				t.Fatalf("got %d messages, skipped %d, end %v; want %d, %d, %v", len(got), r.Skipped(), err, len(tc.want), tc.skip, tc.end)
			}
		})
	}
}

func TestReaderTooLargeStaysInStep(t *testing.T) {
	big := append([]byte("MSH|^~\\&|A|B|||x||ORU^R01|BIG|P|2.6\r"), bytes.Repeat([]byte("OBX|1|NM|1^^MDC||1\r"), 1000)...)
	in := iotest.HalfReader(bytes.NewReader(append(Frame(big), Frame([]byte("MSH|next"))...)))
	r := NewReader(in, 1000)
	_, err := r.Next()
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != len(big) || !bytes.HasPrefix(big, tl.Head) || !bytes.Contains(tl.Head, []byte("|BIG|")) {
		t.Fatalf("err = %v, want a TooLargeError of %d bytes keeping the MSH", err, len(big))
	}
	m, err := r.Next()
	if err != nil || string(m) != "MSH|next" {
		t.Fatalf("after an oversized message: %q, %v", m, err)
	}
}

// FuzzReader checks that the reader never panics, never returns more than
// the limit, and gives back every message framed in the input.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\x0bMSH|a\x1c\r\x0bMSH|b\x1c\x1c\r"), 0)
	f.Add([]byte("junk\x0b\x1c\r\x0b"), 3)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		limit = 1 + abs(limit)%64
		r := NewReader(bytes.NewReader(data), limit)
		for i := 0; i <= len(data); i++ {
			m, err := r.Next()
			var tl *TooLargeError
			switch {
			case errors.As(err, &tl):
				if tl.Size <= limit {
					t.Fatalf("too large at %d <= %d", tl.Size, limit)
				}
			case err != nil:
				return
			case len(m) > limit:
				t.Fatalf("message of %d over the limit %d", len(m), limit)
			}
		}
		t.Fatal("more messages than bytes")
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
