package masimo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// collector is a Sink that keeps every reading.
type collector struct {
	mu sync.Mutex
	rs []drivers.Reading
}

func (c *collector) Emit(_ context.Context, r drivers.Reading) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rs = append(c.rs, r)
	return nil
}

func (c *collector) readings() []drivers.Reading {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]drivers.Reading(nil), c.rs...)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testOptions() drivers.Options {
	return drivers.Options{Logger: quiet(), Now: func() time.Time { return fixedNow }}
}

// stream is three good lines with noise, a bad line and an over-long line
// between them, and CR/LF, LF and CR endings.
var stream = "\x00\xff\x13garbage\r\n" + lineRad8 + "\r\n" +
	strings.Repeat("U", 2*MaxLineLength) + "\n" +
	"01/01/25 00:00:00 SPO2=9x% EXC=800\r\n" +
	lineRad7 + "\n" + lineRad7Blue + "\r"

func checkStream(t *testing.T, rs []drivers.Reading, st drivers.Stats) {
	t.Helper()
	if len(rs) != 3 {
		t.Fatalf("%d readings, want 3", len(rs))
	}
	for i, line := range []string{lineRad8, lineRad7, lineRad7Blue} {
		want, _ := ParseLine([]byte(line), nil)
		if !sameReading(rs[i], want) {
			t.Errorf("reading %d differs from ParseLine of %q", i, line)
		}
		if !rs[i].ReceivedAt.Equal(fixedNow) {
			t.Errorf("reading %d ReceivedAt = %v, want %v", i, rs[i].ReceivedAt, fixedNow)
		}
	}
	want := drivers.Stats{Readings: 3, Frames: 3, Bad: 3, Skipped: 2 * MaxLineLength}
	st.LastError = ""
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestDecode(t *testing.T) {
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(stream) },
		"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(stream)) },
		"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(stream)) },
		"data+err": func() io.Reader { return iotest.DataErrReader(strings.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			var c collector
			st, err := Decode(context.Background(), mk(), &c, testOptions())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkStream(t, c.readings(), st)
		})
	}
}

func TestDecodeTruncatedEnd(t *testing.T) {
	var c collector
	st, err := Decode(context.Background(), strings.NewReader(lineRad8+"\r\n"+lineRad8[:30]), &c, testOptions())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(c.readings()) != 1 || st.Bad != 1 || !strings.Contains(st.LastError, "truncated") {
		t.Errorf("readings %d stats %+v, want 1 reading and 1 truncated line", len(c.readings()), st)
	}
}

func TestDecodeErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("read error", func(t *testing.T) {
		_, err := Decode(context.Background(), iotest.ErrReader(boom), &collector{}, testOptions())
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
	})
	t.Run("sink error", func(t *testing.T) {
		sink := drivers.SinkFunc(func(context.Context, drivers.Reading) error { return boom })
		st, err := Decode(context.Background(), strings.NewReader(stream), sink, testOptions())
		if !errors.Is(err, boom) || st.Readings != 0 || st.Frames != 1 {
			t.Errorf("err = %v stats %+v, want %v after one line", err, st, boom)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Decode(ctx, strings.NewReader(stream), &collector{}, testOptions())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

// port is a fake serial port: it returns its chunks one per Read, with
// (0, nil) "timeouts" in between, then end.
type port struct {
	mu     sync.Mutex
	chunks []string
	idle   int // (0, nil) reads before each chunk
	n      int
	end    error
}

func (p *port) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.chunks) == 0 {
		return 0, p.end
	}
	if p.n < p.idle {
		p.n++
		return 0, nil
	}
	p.n = 0
	n := copy(b, p.chunks[0])
	if n == len(p.chunks[0]) {
		p.chunks = p.chunks[1:]
	} else {
		p.chunks[0] = p.chunks[0][n:]
	}
	return n, nil
}

func (p *port) Write(b []byte) (int, error) { return 0, errors.New("port is read only") }

func newSession(t *testing.T, rw io.ReadWriter, silence time.Duration) *Session {
	t.Helper()
	s, err := NewSession(rw, Options{Options: testOptions(), Silence: silence})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSessionReadsUntilEOF(t *testing.T) {
	var chunks []string
	for i := 0; i < len(stream); i += 29 { // fragmented reads
		chunks = append(chunks, stream[i:min(i+29, len(stream))])
	}
	p := &port{chunks: chunks, idle: 1, end: io.EOF}
	s := newSession(t, p, time.Minute)
	var c collector
	err := s.Run(context.Background(), &c)
	if !errors.Is(err, drivers.ErrLinkLost) || !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v, want ErrLinkLost wrapping io.EOF", err)
	}
	checkStream(t, c.readings(), s.Stats())
}

func TestSessionOneByteReads(t *testing.T) {
	r := iotest.OneByteReader(strings.NewReader(stream))
	s := newSession(t, struct {
		io.Reader
		io.Writer
	}{r, io.Discard}, time.Minute)
	var c collector
	if err := s.Run(context.Background(), &c); !errors.Is(err, drivers.ErrLinkLost) {
		t.Fatalf("Run = %v, want ErrLinkLost", err)
	}
	checkStream(t, c.readings(), s.Stats())
}

func TestSessionReadError(t *testing.T) {
	boom := errors.New("device unplugged")
	p := &port{chunks: []string{lineRad8 + "\r\n"}, end: boom}
	s := newSession(t, p, time.Minute)
	var c collector
	err := s.Run(context.Background(), &c)
	if !errors.Is(err, drivers.ErrLinkLost) || !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want ErrLinkLost wrapping %v", err, boom)
	}
	if len(c.readings()) != 1 {
		t.Errorf("%d readings, want 1", len(c.readings()))
	}
}

// TestSessionSilentDevice: a port that only ever times out is a lost link.
func TestSessionSilentDevice(t *testing.T) {
	p := &port{chunks: []string{lineRad8 + "\r\n"}, end: nil} // then (0, nil) for ever
	s := newSession(t, p, 50*time.Millisecond)
	var c collector
	err := s.Run(context.Background(), &c)
	if !errors.Is(err, drivers.ErrLinkLost) || !strings.Contains(err.Error(), "no data") {
		t.Fatalf("Run = %v, want ErrLinkLost for silence", err)
	}
	if len(c.readings()) != 1 {
		t.Errorf("%d readings, want 1", len(c.readings()))
	}
}

// TestSessionCancel: Run returns at once on cancellation even while a Read
// blocks, and leaves the port to its owner.
func TestSessionCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	s := newSession(t, struct {
		io.Reader
		io.Writer
	}{pr, io.Discard}, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	var c collector
	got := make(chan error, 1)
	go func() { got <- s.Run(ctx, &c) }()

	if _, err := io.WriteString(pw, lineRad7Blue+"\r\n"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(c.readings()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no reading within 10 s of writing a line")
		}
	}
	_ = s.Stats() // concurrently with Run, for the race detector
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
	// The caller closes the port; the reader goroutine then ends.
	pw.Close()
}

func TestSessionSinkError(t *testing.T) {
	boom := errors.New("store full")
	s := newSession(t, &port{chunks: []string{stream}, end: io.EOF}, time.Minute)
	err := s.Run(context.Background(), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return boom }))
	if !errors.Is(err, boom) || errors.Is(err, drivers.ErrLinkLost) {
		t.Errorf("Run = %v, want %v and not ErrLinkLost", err, boom)
	}
}

func TestNewSessionOptions(t *testing.T) {
	if _, err := NewSession(nil, Options{}); err == nil {
		t.Error("NewSession(nil) succeeded")
	}
	if _, err := NewSession(&port{}, Options{Silence: -time.Second}); err == nil {
		t.Error("negative silence accepted")
	}
	s, err := NewSession(&port{}, Options{})
	if err != nil || s.opts.Silence != DefaultSilence || s.opts.Logger == nil || s.opts.DeviceLocation != time.UTC {
		t.Errorf("defaults not applied: %v %+v", err, s.opts)
	}
}

func TestDriverRecord(t *testing.T) {
	var reg drivers.Registry
	if err := reg.Register(Driver()); err != nil {
		t.Fatal(err)
	}
	d, err := reg.Lookup("masimo")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Line.String(); got != "9600 8N1" {
		t.Errorf("Line = %s, want 9600 8N1", got)
	}
	sess, err := d.NewSession(&port{chunks: []string{lineRad8 + "\n"}, end: io.EOF}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	if err := sess.Run(context.Background(), &c); !errors.Is(err, drivers.ErrLinkLost) {
		t.Errorf("Run = %v", err)
	}
	if sess.Stats().Readings != 1 {
		t.Errorf("Stats = %+v", sess.Stats())
	}
	st, err := d.Decode(context.Background(), bytes.NewReader([]byte(stream)), &c, testOptions())
	if err != nil || st.Readings != 3 {
		t.Errorf("Decode = %+v, %v", st, err)
	}
}
