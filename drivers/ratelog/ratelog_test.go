package ratelog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// line is one JSON log line, as written.
type line struct {
	Level      string `json:"level"`
	Msg        string `json:"msg"`
	Bed        string `json:"bed"`
	Reason     string `json:"reason"`
	Suppressed int64  `json:"suppressed"`
}

func parse(t *testing.T, out *bytes.Buffer) []line {
	t.Helper()
	var lines []line
	for _, s := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if s == "" {
			continue
		}
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestFloodIsBounded: 100,000 bad frames from each of two beds over 60 s,
// of two kinds on bed1, write the first of each key, then one line per key
// per 10 s interval with the exact count suppressed since the previous
// one; Flush reports the rest, so every event is accounted for.
func TestFloodIsBounded(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	h := New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}), Options{Now: clk.Now})
	log := slog.New(h)
	bed1, bed2 := log.With("bed", "bed1"), log.With("bed", "bed2")

	const events = 100_000
	step := 60 * time.Second / events // 600 µs: 1,667 events a second per bed
	for i := range events {
		reason := "bad frame"
		if i%4 == 0 {
			reason = "bad message"
		}
		bed1.Warn("intellivue: rejected", "reason", reason, "err", "offset "+string(rune('0'+i%10)))
		bed2.Warn("intellivue: rejected", "reason", "bad frame")
		clk.Advance(step)
	}
	written := parse(t, &out)
	h.Flush(context.Background())
	flushed := parse(t, &out)[len(written):]

	// 3 keys over 60 s at one line per 10 s: 6 lines each (the first, then
	// one an interval), plus the flush.
	if len(written) != 3*6 {
		t.Errorf("%d lines for %d events a key, want 18 (6 per key)", len(written), events)
	}
	if len(flushed) != 3 {
		t.Errorf("Flush wrote %d lines, want one per key", len(flushed))
	}
	total := map[string]int64{}
	for i, l := range append(written, flushed...) {
		k := l.Bed + "/" + l.Reason
		total[k] += 1 + l.Suppressed
		if i >= len(written) {
			total[k]-- // a flush line reports, it is no event
		}
		if l.Level != "WARN" || l.Msg != "intellivue: rejected" {
			t.Errorf("line %+v: level and message must be the event's", l)
		}
	}
	want := map[string]int64{"bed1/bad frame": events * 3 / 4, "bed1/bad message": events / 4, "bed2/bad frame": events}
	for k, n := range want {
		if total[k] != n {
			t.Errorf("%s: lines and suppressed counts add up to %d, want %d events", k, total[k], n)
		}
	}
	if written[0].Suppressed != 0 {
		t.Errorf("the first line says %d suppressed, want none", written[0].Suppressed)
	}
}

// TestIntervalAndKeys: within an interval a key's lines are counted, not
// written; other levels, messages, beds and reasons are other keys; after
// the interval the next line carries the count; a clock stepping back
// never mutes a key.
func TestIntervalAndKeys(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	log := slog.New(New(slog.NewJSONHandler(&out, nil), Options{Interval: time.Second, Now: clk.Now}))
	steps := []struct {
		advance time.Duration
		log     func()
		want    int64 // -1: not written; else written with this count
	}{
		{0, func() { log.Warn("a", "bed", "b1") }, 0},
		{100 * time.Millisecond, func() { log.Warn("a", "bed", "b1") }, -1},
		{0, func() { log.Warn("a", "bed", "b1", "err", "other text") }, -1},
		{0, func() { log.Warn("a", "bed", "b2") }, 0},
		{0, func() { log.Error("a", "bed", "b1") }, 0},
		{0, func() { log.Warn("b", "bed", "b1") }, 0},
		{0, func() { log.Warn("a", "bed", "b1", "reason", "r") }, 0},
		{900 * time.Millisecond, func() { log.Warn("a", "bed", "b1") }, 2},
		{-time.Hour, func() { log.Warn("a", "bed", "b1") }, 0},
		{0, func() { log.Debug("a", "bed", "b1") }, -1}, // below the level: no key spent
	}
	for i, s := range steps {
		before := len(parse(t, &out))
		clk.Advance(s.advance)
		s.log()
		lines := parse(t, &out)
		switch {
		case s.want < 0 && len(lines) != before:
			t.Errorf("step %d: written %+v, want suppressed", i, lines[len(lines)-1])
		case s.want >= 0 && len(lines) != before+1:
			t.Errorf("step %d: nothing written", i)
		case s.want >= 0 && lines[len(lines)-1].Suppressed != s.want:
			t.Errorf("step %d: suppressed %d, want %d", i, lines[len(lines)-1].Suppressed, s.want)
		}
	}
}

// TestMaxKeys: keys beyond MaxKeys share one key, so memory stays bounded.
func TestMaxKeys(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	h := New(slog.NewJSONHandler(&out, nil), Options{MaxKeys: 8, Now: clk.Now})
	log := slog.New(h)
	for i := range 1000 {
		log.Warn("bad", "reason", string(rune('A'+i%50)))
	}
	if n := len(parse(t, &out)); n != 9 {
		t.Errorf("%d lines for 50 reasons with 8 keys remembered, want 9 (8 keys and the shared one)", n)
	}
	if len(h.st.keys) > 9 {
		t.Errorf("%d keys remembered, want at most 9", len(h.st.keys))
	}
}

// TestNewKeepsAHandler: wrapping twice does not limit twice.
func TestNewKeepsAHandler(t *testing.T) {
	h := New(slog.NewJSONHandler(&bytes.Buffer{}, nil), Options{})
	if New(h, Options{}) != h {
		t.Error("New wrapped a ratelog Handler again")
	}
}
