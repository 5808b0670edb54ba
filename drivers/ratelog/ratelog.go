package ratelog

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Handler. The zero value is valid.
type Options struct {
	// Interval is the least time between two lines of one key. The default
	// is 10s: a flood of bad frames from one monitor writes at most 6
	// lines a minute per kind.
	Interval time.Duration
	// KeyAttrs name the attributes whose values are part of a line's key.
	// The default is "bed" and "reason".
	KeyAttrs []string
	// MaxKeys bounds the keys remembered; lines of further keys share one
	// key per level. The default is 4096.
	MaxKeys int
	// Now is the clock. The default is time.Now.
	Now func() time.Time
}

// Handler is a rate-limiting slog.Handler. Create it with New; it is safe
// for concurrent use, and the handlers its WithAttrs and WithGroup return
// share its limits.
type Handler struct {
	next  slog.Handler
	st    *state
	fixed []slog.Attr // key attributes set with WithAttrs
}

type state struct {
	opts Options
	mu   sync.Mutex
	keys map[key]*entry
}

type key struct {
	level slog.Level
	msg   string
	attrs string
}

type entry struct {
	last       time.Time
	suppressed int64
	attrs      []slog.Attr // the key attributes, for Flush
}

// New returns a Handler passing lines on to next. A next that is already a
// Handler is returned as it is.
func New(next slog.Handler, opts Options) *Handler {
	if h, ok := next.(*Handler); ok {
		return h
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.KeyAttrs == nil {
		opts.KeyAttrs = []string{"bed", "reason"}
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Handler{next: next, st: &state{opts: opts, keys: map[key]*entry{}}}
}

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r on unless a line of its key was passed less than
// Interval ago; then it only counts it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	attrs := slices.Clone(h.fixed)
	r.Attrs(func(a slog.Attr) bool {
		if h.isKey(a.Key) {
			attrs = append(attrs, a)
		}
		return true
	})
	n, pass := h.st.admit(r.Level, r.Message, attrs)
	if !pass {
		return nil
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int64("suppressed", n))
	}
	return h.next.Handle(ctx, r)
}

func (h *Handler) isKey(name string) bool {
	return slices.Contains(h.st.opts.KeyAttrs, name)
}

// admit decides whether a line of this key passes now, and returns how
// many were suppressed before it.
func (s *state) admit(level slog.Level, msg string, attrs []slog.Attr) (suppressed int64, pass bool) {
	var b strings.Builder
	for _, a := range attrs {
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(a.Value.String())
		b.WriteByte(0)
	}
	k := key{level: level, msg: msg, attrs: b.String()}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.keys[k]
	if e == nil {
		if len(s.keys) >= s.opts.MaxKeys {
			s.prune(now)
		}
		if len(s.keys) >= s.opts.MaxKeys {
			k = key{level: level, msg: "(more keys than remembered)"}
			attrs = nil
		}
		if e = s.keys[k]; e == nil {
			e = &entry{attrs: attrs}
			s.keys[k] = e
		}
	}
	// A clock that went back passes the line rather than muting the key.
	if since := now.Sub(e.last); !e.last.IsZero() && since >= 0 && since < s.opts.Interval {
		e.suppressed++
		return 0, false
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return n, true
}

// prune forgets keys quiet for an Interval with nothing suppressed.
func (s *state) prune(now time.Time) {
	for k, e := range s.keys {
		if e.suppressed == 0 && now.Sub(e.last) >= s.opts.Interval {
			delete(s.keys, k)
		}
	}
}

// WithAttrs returns a handler sharing h's limits whose lines carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		if h.isKey(a.Key) {
			c.fixed = append(slices.Clone(c.fixed), a)
		}
	}
	return &c
}

// WithGroup returns a handler sharing h's limits whose further attributes
// are in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// Flush writes, for every key with lines suppressed since its last line,
// one line with its message, its key attributes and "suppressed", and
// starts its interval again. A gateway calls it as it stops.
func (h *Handler) Flush(ctx context.Context) {
	type pending struct {
		k key
		e entry
	}
	var out []pending
	now := h.st.opts.Now()
	h.st.mu.Lock()
	for k, e := range h.st.keys {
		if e.suppressed > 0 {
			out = append(out, pending{k, *e})
			e.last, e.suppressed = now, 0
		}
	}
	h.st.mu.Unlock()
	slices.SortFunc(out, func(a, b pending) int { return strings.Compare(a.k.msg+a.k.attrs, b.k.msg+b.k.attrs) })
	for _, p := range out {
		r := slog.NewRecord(now, p.k.level, p.k.msg, 0)
		r.AddAttrs(p.e.attrs...)
		r.AddAttrs(slog.Int64("suppressed", p.e.suppressed))
		h.next.Handle(ctx, r) //nolint:errcheck // best effort, as slog itself
	}
}
