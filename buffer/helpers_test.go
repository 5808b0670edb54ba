package buffer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a slog.Handler that keeps records so tests can assert that a
// drop or a recovery was logged.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// count returns how many records at level or above contain msg.
func (r *recorder) count(level slog.Level, msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec.Level >= level && rec.Message == msg {
			n++
		}
	}
	return n
}

// clock is a settable clock for Options.Now (the wall clock) and
// Options.Uptime (the clock ages are measured on).
type clock struct {
	mu   sync.Mutex
	t    time.Time
	up   time.Duration
	boot string
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), up: time.Hour, boot: "boot-1"}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Uptime() (string, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boot, c.up
}

// Advance lets d pass: both clocks move.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.up += d
}

// Step sets the wall clock by d (NTP, an operator): the uptime stays.
func (c *clock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Reboot starts a new boot: uptime restarts near zero and the wall clock
// reads wall.
func (c *clock) Reboot(wall time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.boot += "'"
	c.up = 5 * time.Second
	c.t = wall
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// open opens a Buffer in dir and closes it at the end of the test.
func open(t testing.TB, dir string, o Options) *Buffer {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	b, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func payloadFor(i int) []byte { return fmt.Appendf(nil, "payload-%06d", i) }

// appendN appends n payloads payloadFor(from..from+n-1) and returns their seqs.
func appendN(t testing.TB, b *Buffer, from, n int) []Seq {
	t.Helper()
	seqs := make([]Seq, 0, n)
	for i := from; i < from+n; i++ {
		s, err := b.Append(context.Background(), payloadFor(i))
		if err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
		seqs = append(seqs, s)
	}
	return seqs
}

// next calls Next with a timeout so a test never hangs.
func next(t testing.TB, b *Buffer, max int) []Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	es, err := b.Next(ctx, max)
	if err != nil {
		t.Fatalf("Next(%d): %v", max, err)
	}
	return es
}

// drain takes every ready entry, in order, without acking.
func drain(t testing.TB, b *Buffer) []Entry {
	t.Helper()
	var all []Entry
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		es, err := b.Next(ctx, 1000)
		cancel()
		if err != nil {
			return all
		}
		all = append(all, es...)
	}
}

func seqsOf(es []Entry) []Seq {
	s := make([]Seq, len(es))
	for i, e := range es {
		s[i] = e.Seq
	}
	return s
}

func seqRange(from, to Seq) []Seq {
	var s []Seq
	for q := from; q <= to; q++ {
		s = append(s, q)
	}
	return s
}

func wantSeqs(t testing.TB, what string, got, want []Seq) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got seqs %v, want %v", what, got, want)
	}
}

// waitUntil polls cond every 10 ms until it holds, failing the test with
// what after 20 s.
func waitUntil(t testing.TB, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
