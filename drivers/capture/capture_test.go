package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// steppingClock returns a clock that starts at t0 and moves on by the next
// step each time it is read.
func steppingClock(t0 time.Time, steps ...time.Duration) func() time.Time {
	now, i := t0, 0
	return func() time.Time {
		if i > 0 && i <= len(steps) {
			now = now.Add(steps[i-1])
		}
		i++
		return now
	}
}

func TestWriteRead(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	line := drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
	var buf bytes.Buffer
	// NewWriter reads the clock once for Start, then once per Write.
	w, err := NewWriter(&buf, Header{Port: "/dev/serial/by-path/x", Node: "/dev/ttyUSB0", Driver: "masimo", Line: &line},
		steppingClock(t0, 0, 1500*time.Microsecond, time.Second+7*time.Nanosecond, -time.Second))
	if err != nil {
		t.Fatal(err)
	}
	writes := [][]byte{
		[]byte("SN=1\r\n"),
		{0x00, 0x02, 0xff, '\n'},
		[]byte("second"),
		[]byte("clock stepped back"),
	}
	for _, b := range writes {
		if n, err := w.Write(b); n != len(b) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", b, n, err)
		}
	}
	if err := w.WriteChunk(Chunk{Offset: 5 * time.Second}); err != nil { // empty: not recorded
		t.Fatal(err)
	}

	text := buf.String()
	wantLines := []string{
		Magic,
		`{"start":"2026-11-26T10:00:00.123456789Z","port":"/dev/serial/by-path/x","node":"/dev/ttyUSB0","driver":"masimo","line":{"baud":9600,"data_bits":8,"parity":"none","stop_bits":1}}`,
		"0.000000 534e3d310d0a",
		"0.001500 0002ff0a",
		"1.001500 7365636f6e64",
		"1.001500 636c6f636b2073746570706564206261636b", // never before the previous chunk
		"",
	}
	if got := strings.Split(text, "\n"); strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
		t.Fatalf("file:\n%s\nwant:\n%s", text, strings.Join(wantLines, "\n"))
	}

	r, err := NewReader(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if !h.Start.Equal(t0) || h.Port != "/dev/serial/by-path/x" || h.Node != "/dev/ttyUSB0" || h.Driver != "masimo" || h.Line == nil || *h.Line != line {
		t.Errorf("Header() = %+v", h)
	}
	wantOffsets := []time.Duration{0, 1500 * time.Microsecond, 1001500 * time.Microsecond, 1001500 * time.Microsecond}
	for i, b := range writes {
		c, err := r.Next()
		if err != nil {
			t.Fatalf("Next #%d: %v", i, err)
		}
		if !bytes.Equal(c.Data, b) || c.Offset != wantOffsets[i] {
			t.Errorf("chunk %d = %v %q, want %v %q", i, c.Offset, c.Data, wantOffsets[i], b)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the last chunk = %v, want io.EOF", err)
	}
}

func TestWriteSplitsLongChunks(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), MaxChunk/5)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	raw, h, err := Raw(&buf)
	if err != nil || h == nil {
		t.Fatalf("Raw: %v, header %v", err, h)
	}
	got, err := io.ReadAll(raw)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back %d bytes (%v), want the %d written", len(got), err, len(data))
	}
}

func TestRaw(t *testing.T) {
	capture := Magic + "\n{\"start\":\"2026-11-26T10:00:00Z\",\"driver\":\"masimo\"}\n# a comment\n0.000000 6869\n\n2.500000 2074686572650a\n"
	tests := []struct {
		name       string
		in         string
		want       string
		wantHeader bool
	}{
		{"capture", capture, "hi there\n", true},
		{"raw", "SN=1 SPO2=97\r\n", "SN=1 SPO2=97\r\n", false},
		{"raw shorter than the magic", "SN", "SN", false},
		{"empty", "", "", false},
		{"header only", Magic + "\n{\"start\":\"2026-11-26T10:00:00Z\"}\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, h, err := Raw(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if (h != nil) != tt.wantHeader {
				t.Errorf("header = %v, want one: %v", h, tt.wantHeader)
			}
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tt.want {
				t.Errorf("bytes = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	head := Magic + "\n{\"start\":\"2026-11-26T10:00:00Z\"}\n"
	tests := []struct {
		name string
		in   string
		want string // in the error of NewReader or of the first Next
	}{
		{"not a capture", "SN=1\r\n", ErrNotCapture.Error()},
		{"empty", "", ErrNotCapture.Error()},
		{"future version", "BEDGATE-CAPTURE 2\n{}\n", `format "BEDGATE-CAPTURE 2"`},
		{"no header", Magic + "\n", "header: unexpected EOF"},
		{"bad header", Magic + "\nstart=now\n", "line 2: header"},
		{"no space", head + "0.000000\n", "line 3: chunk"},
		{"three decimals", head + "0.001 41\n", `line 3: offset "0.001"`},
		{"negative", head + "-1.000000 41\n", `offset "-1.000000"`},
		{"plus sign", head + "+1.000000 41\n", `offset "+1.000000"`},
		{"odd hex", head + "0.000000 414\n", `line 3: bytes "414"`},
		{"no bytes", head + "0.000000 \n", `line 3: bytes ""`},
		{"not hex", head + "0.000000 zz\n", `bytes "zz"`},
		{"backwards", head + "2.000000 41\n1.000000 42\n", "line 4: offset 1s before the previous chunk's 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in))
			if err == nil {
				for err == nil {
					_, err = r.Next()
				}
			}
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := NewReader(strings.NewReader("SN=1")); !errors.Is(err, ErrNotCapture) {
		t.Errorf("NewReader(raw) = %v, want ErrNotCapture", err)
	}
}

func TestIsCapture(t *testing.T) {
	for in, want := range map[string]bool{
		Magic + "\n":           true,
		"BEDGATE-CAPTURE 7\n":  true,
		"BEDGATE-CAPTUR":       false,
		"\x02\x00BEDGATE":      false,
		"bedgate-capture 1\n":  false,
		"SN=0000093112 SPO2=9": false,
	} {
		if got := IsCapture([]byte(in)); got != want {
			t.Errorf("IsCapture(%q) = %v, want %v", in, got, want)
		}
	}
}

// timedWriter notes when each write arrives.
type timedWriter struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
	data  bytes.Buffer
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.at = append(w.at, time.Since(w.start))
	return w.data.Write(p)
}

func TestPlayKeepsOrderAndSpacing(t *testing.T) {
	in := Magic + "\n{\"start\":\"2026-11-26T10:00:00Z\"}\n0.000000 61\n0.040000 62\n0.120000 63\n"
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	w := &timedWriter{start: time.Now()}
	if err := Play(context.Background(), r, w, 2); err != nil {
		t.Fatal(err)
	}
	if w.data.String() != "abc" {
		t.Fatalf("played %q, want %q", w.data.String(), "abc")
	}
	// At speed 2 the chunks are due at 0, 20 ms and 60 ms: none may come early.
	for i, due := range []time.Duration{0, 20 * time.Millisecond, 60 * time.Millisecond} {
		if w.at[i] < due {
			t.Errorf("chunk %d written at %v, before it was due at %v", i, w.at[i], due)
		}
	}
}

func TestPlayStopsWithContext(t *testing.T) {
	in := Magic + "\n{\"start\":\"2026-11-26T10:00:00Z\"}\n0.000000 61\n3600.000000 62\n"
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var w timedWriter
	err = Play(ctx, r, &w, 1)
	if !errors.Is(err, context.DeadlineExceeded) || w.data.String() != "a" {
		t.Errorf("Play = %v after writing %q, want DeadlineExceeded after %q", err, w.data.String(), "a")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(Magic + "\n{\"start\":\"2026-11-26T10:00:00Z\"}\n0.000000 6869\n1.000000 0a\n"))
	f.Add([]byte(Magic + "\n{}\n# x\n0.1 41\n"))
	f.Add([]byte("SN=1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _, err := Raw(bytes.NewReader(data))
		if err != nil {
			return
		}
		io.Copy(io.Discard, r)
	})
}

func TestTeeRecordsWhatIsRead(t *testing.T) {
	var file bytes.Buffer
	w, err := NewWriter(&file, Header{Driver: "masimo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := bytes.NewBufferString("hello, monitor")
	rw := Tee(src, w, func(err error) { t.Errorf("tee failed: %v", err) })
	got, err := io.ReadAll(rw)
	if err != nil || string(got) != "hello, monitor" {
		t.Fatalf("read through the tee: %q, %v", got, err)
	}
	r, err := NewReader(&file)
	if err != nil {
		t.Fatal(err)
	}
	var recorded []byte
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, c.Data...)
	}
	if string(recorded) != "hello, monitor" {
		t.Errorf("recorded %q", recorded)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestTeeKeepsTheStreamWhenRecordingFails(t *testing.T) {
	var header bytes.Buffer
	w, err := NewWriter(&header, Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.w.Reset(failingWriter{})
	failures := 0
	rw := Tee(bytes.NewBufferString("data"), w, func(error) { failures++ })
	got, err := io.ReadAll(rw)
	if err != nil || string(got) != "data" || failures != 1 {
		t.Errorf("read %q, %v; %d failures reported, want the data and one failure", got, err, failures)
	}
}
