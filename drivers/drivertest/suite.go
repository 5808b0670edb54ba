package drivertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/pty"
)

// Run runs the conformance suite on p.
func Run(t *testing.T, p Pair) {
	t.Helper()
	if p.NewSplit == nil || p.MaxFrame <= 0 || p.Dir == "" || len(p.Fuzz) == 0 {
		t.Fatal("drivertest: Pair needs NewSplit, MaxFrame, Dir and Fuzz")
	}
	if p.Driver.Name != p.Simulator.Name {
		t.Fatalf("drivertest: driver %q paired with simulator %q", p.Driver.Name, p.Simulator.Name)
	}
	p = p.withDefaults()
	var wire []byte
	t.Run("RoundTrip", func(t *testing.T) { wire = roundTrip(t, p) })
	t.Run("FlaggedAndAbsent", func(t *testing.T) { flaggedAndAbsent(t, p) })
	t.Run("Splitter", func(t *testing.T) {
		if len(wire) == 0 {
			t.Skip("the round trip recorded no device bytes")
		}
		splitterContract(t, p, wire)
		decodeContract(t, p, wire)
	})
	t.Run("Cancel", func(t *testing.T) { cancelPromptly(t, p) })
	t.Run("FuzzSeeds", func(t *testing.T) { fuzzSeeds(t, p) })
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fastClock runs speed times faster than real time from now.
func fastClock(speed float64) func() time.Time {
	start := time.Now()
	return func() time.Time { return start.Add(time.Duration(float64(time.Since(start)) * speed)).UTC() }
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf.Bytes())
}

// teeReadWriter records what is read through it.
type teeReadWriter struct {
	rw  io.ReadWriter
	got lockedBuffer
}

func (t *teeReadWriter) Read(p []byte) (int, error) {
	n, err := t.rw.Read(p)
	t.got.Write(p[:n])
	return n, err
}

func (t *teeReadWriter) Write(p []byte) (int, error) { return t.rw.Write(p) }

// link is a simulated device on a pseudo-terminal and the serial port the
// driver reads it through.
type link struct {
	port   *teeReadWriter
	values *lockedBuffer
	stop   func() // stops the device and waits for it
}

// simulate starts the simulator with scenario on a fresh PTY and opens
// the driver's side at the driver's line settings.
func simulate(t *testing.T, p Pair, scenario string) *link {
	t.Helper()
	term, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	values := &lockedBuffer{}
	dev, err := p.Simulator.New(simulators.Options{Scenario: scenario, Seed: 7, Period: p.Period,
		Values: values, Now: fastClock(p.Speed), Logger: quiet()})
	if err != nil {
		t.Fatalf("simulator %s: %v", p.Simulator.Name, err)
	}
	port, err := serialport.Open(term.Path(), p.Driver.Line, serialport.Options{Logger: quiet()})
	if err != nil {
		t.Fatalf("open %s: %v", term.Path(), err)
	}
	t.Cleanup(func() { port.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { dev.Run(ctx, term) })
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); term.Close(); wg.Wait() }) }
	t.Cleanup(stop)
	return &link{port: &teeReadWriter{rw: port}, values: values, stop: stop}
}

// collect runs a session on l until done says the readings so far are
// enough, or p.Wait passes. It returns the readings.
func collect(t *testing.T, p Pair, l *link, done func([]drivers.Reading) bool) []drivers.Reading {
	t.Helper()
	sess, err := p.Driver.NewSession(l.port, drivers.Options{Logger: quiet()})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.Wait)
	defer cancel()
	var got []drivers.Reading
	var enough bool
	err = sess.Run(ctx, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		if !enough {
			got = append(got, r)
			enough = done(got)
		}
		if enough {
			cancel()
		}
		return nil
	}))
	if !enough {
		t.Fatalf("after %v: %d readings, not the ones wanted; session ended with %v; stats %+v", p.Wait, len(got), err, sess.Stats())
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("session Run after its context was cancelled = %v, want context.Canceled", err)
	}
	return got
}

// canonical is r as JSON with the receive time left out and the device
// time in UTC, for comparing what was meant with what was decoded.
func canonical(r drivers.Reading) string {
	r.ReceivedAt = time.Time{}
	if !r.DeviceTime.IsZero() {
		r.DeviceTime = r.DeviceTime.UTC()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Sprintf("unmarshalable reading: %v", err)
	}
	return string(b)
}

// meant reads a simulator's values log.
func meant(t *testing.T, log []byte) []string {
	t.Helper()
	var out []string
	dec := json.NewDecoder(bytes.NewReader(log))
	for dec.More() {
		var r drivers.Reading
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("values log: %v", err)
		}
		out = append(out, canonical(r))
	}
	return out
}

// roundTrip checks decoded readings against the simulator's log and
// returns the bytes the device sent.
func roundTrip(t *testing.T, p Pair) []byte {
	l := simulate(t, p, "stable")
	before := time.Now()
	got := collect(t, p, l, func(rs []drivers.Reading) bool { return len(rs) >= p.Readings })
	after := time.Now()
	l.stop()
	logged := meant(t, l.values.Bytes())
	var decoded []string
	for i, r := range got {
		if r.ReceivedAt.Before(before) || r.ReceivedAt.After(after) {
			t.Errorf("reading %d received at %v, not between %v and %v (the gateway clock)", i, r.ReceivedAt, before, after)
		}
		if r.Device.Driver != p.Driver.Name {
			t.Errorf("reading %d from driver %q, want %q", i, r.Device.Driver, p.Driver.Name)
		}
		decoded = append(decoded, canonical(r))
	}
	// The device may have sent readings before the session listened:
	// the decoded ones must be a run of consecutive logged ones.
	for k := range logged {
		if k+len(decoded) <= len(logged) && slices.Equal(logged[k:k+len(decoded)], decoded) {
			return l.port.got.Bytes()
		}
	}
	t.Errorf("the %d decoded readings are not consecutive readings the simulator logged (%d logged)", len(decoded), len(logged))
	for i, d := range decoded {
		if !slices.Contains(logged, d) {
			t.Errorf("decoded reading %d never logged:\n%s", i, d)
		}
	}
	if len(logged) > 0 {
		t.Logf("first logged reading:\n%s", logged[0])
	}
	return l.port.got.Bytes()
}

// flaggedAndAbsent checks that flags and missing numbers reach the
// readings.
func flaggedAndAbsent(t *testing.T, p Pair) {
	tests := []struct {
		scenario string
		want     string
		match    func(drivers.Value) bool
	}{
		{"artefact", "a value with a number and a flag", func(v drivers.Value) bool { return v.Value != nil && v.Status != 0 }},
		{"sensor-off", "a value without a number, flagged", func(v drivers.Value) bool { return v.Value == nil && v.Status != 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel() // each on its own PTY; both end before Cancel counts goroutines
			l := simulate(t, p, tt.scenario)
			collect(t, p, l, func(rs []drivers.Reading) bool {
				return slices.ContainsFunc(rs[len(rs)-1].Values, tt.match)
			})
		})
	}
}

// scan splits data read through r and returns the frames and the error.
func scan(p Pair, r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64), 2*p.MaxFrame)
	sc.Split(p.NewSplit())
	var out []string
	for sc.Scan() {
		out = append(out, string(sc.Bytes()))
	}
	return out, sc.Err()
}

func splitterContract(t *testing.T, p Pair, wire []byte) {
	whole, wholeErr := scan(p, bytes.NewReader(wire))
	if len(whole) == 0 {
		t.Fatalf("no frames in %d device bytes (%v)", len(wire), wholeErr)
	}
	for _, f := range whole {
		if len(f) > p.MaxFrame {
			t.Errorf("a frame of %d bytes, more than MaxFrame %d", len(f), p.MaxFrame)
		}
	}
	readers := []struct {
		name string
		r    func() io.Reader
	}{
		{"OneByteReader", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(wire)) }},
		{"HalfReader", func() io.Reader { return iotest.HalfReader(bytes.NewReader(wire)) }},
		{"DataErrReader", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(wire)) }},
	}
	for _, rd := range readers {
		got, err := scan(p, rd.r())
		if !slices.Equal(got, whole) || (err == nil) != (wholeErr == nil) {
			t.Errorf("%s: %d frames (err %v), want the %d frames (err %v) of the whole stream", rd.name, len(got), err, len(whole), wholeErr)
		}
	}
	got, err := scan(p, iotest.TimeoutReader(bytes.NewReader(wire)))
	if !errors.Is(err, iotest.ErrTimeout) || len(got) > len(whole) || !slices.Equal(got, whole[:len(got)]) {
		t.Errorf("TimeoutReader: %d frames, err %v; want a prefix of the frames and iotest.ErrTimeout", len(got), err)
	}
	errRead := errors.New("drivertest: unplugged")
	if got, err := scan(p, iotest.ErrReader(errRead)); len(got) != 0 || !errors.Is(err, errRead) {
		t.Errorf("ErrReader: frames %q, err %v; want none and the read error", got, err)
	}
	// Every cut of the stream is safe to split: advance within the data,
	// no frame without advancing, no error before the end of input.
	n := min(len(wire), 4*p.MaxFrame)
	for cut := 0; cut <= n; cut++ {
		data := wire[:cut]
		adv, tok, err := p.NewSplit()(data, false)
		switch {
		case err != nil:
			t.Fatalf("split(%d bytes, atEOF false) = error %v", cut, err)
		case adv < 0 || adv > len(data):
			t.Fatalf("split(%d bytes) advanced %d", cut, adv)
		case adv == 0 && tok != nil:
			t.Fatalf("split(%d bytes) returned a frame without advancing", cut)
		case adv == 0 && len(data) > p.MaxFrame:
			t.Fatalf("split(%d bytes) holds more than MaxFrame %d", cut, p.MaxFrame)
		}
	}
}

// decodeContract checks that Decode gives the same readings whole and one
// byte at a time, and returns a reader's error.
func decodeContract(t *testing.T, p Pair, wire []byte) {
	decode := func(r io.Reader) ([]string, drivers.Stats, error) {
		var out []string
		st, err := p.Driver.Decode(context.Background(), r, drivers.SinkFunc(func(_ context.Context, rd drivers.Reading) error {
			if rd.ReceivedAt.IsZero() {
				t.Error("Decode emitted a reading without a receive time")
			}
			out = append(out, canonical(rd))
			return nil
		}), drivers.Options{Logger: quiet()})
		return out, st, err
	}
	whole, st, err := decode(bytes.NewReader(wire))
	if err != nil || len(whole) == 0 {
		t.Fatalf("Decode of the %d device bytes: %d readings, %v", len(wire), len(whole), err)
	}
	one, st1, err := decode(iotest.OneByteReader(bytes.NewReader(wire)))
	if err != nil || !slices.Equal(one, whole) || st1 != st {
		t.Errorf("Decode one byte at a time: %d readings, stats %+v, %v; want %d, %+v", len(one), st1, err, len(whole), st)
	}
	errRead := errors.New("drivertest: unplugged")
	if _, _, err := decode(io.MultiReader(bytes.NewReader(wire[:len(wire)/2]), iotest.ErrReader(errRead))); !errors.Is(err, errRead) {
		t.Errorf("Decode over a failing reader = %v, want the read error", err)
	}
}

// silentLink sends nothing and takes every write.
type silentLink struct {
	io.Reader
	io.Writer
}

func cancelPromptly(t *testing.T, p Pair) {
	before := runtime.NumGoroutine()
	pr, pw := io.Pipe()
	sess, err := p.Driver.NewSession(silentLink{pr, io.Discard}, drivers.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() {
		ended <- sess.Run(ctx, drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }))
	}()
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(p.CancelWithin):
		t.Fatalf("Run still running %v after its context ended", p.CancelWithin)
	}
	pw.Close() // the owner closes the link: a pending Read returns
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after the session ended, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
