package assoc

import (
	"sync"
	"time"
)

// DefaultGrace is the default Feed grace: how late, after an event's time,
// the EPR's admission message may still arrive and be taken into account
// before readings of that time are decided. EPR integration engines publish
// an ADT event within a second or two of recording it; 5 s covers that with
// margin on a loaded network while delaying every reading by only 5 s.
// Messages later than that produce corrections instead.
const DefaultGrace = 5 * time.Second

// maxHoles bounds the holes kept per bed (the oldest go first).
const maxHoles = 16

// Feed is the watermark of the admission feed: it says, for a bed and a
// reading time, whether the feed is known complete up to that time, so
// that association can be decided. It is the only judge of that: a
// reading's association is decided when, and only when, Known says so.
//
// The feed is known complete for time t when the subscription was in place
// (granted by the broker) without a break from before t until at least
// t + Grace. A break with the persistent MQTT session kept by the broker
// (session present on reconnect) is no break: the broker queued every
// message published meanwhile and delivers it on reconnect. After a start,
// or a reconnect without the session, what happened during the gap is
// known only from the retained admission messages, which hold each bed's
// latest event: the gap is known for the times from that event on, and
// the times before it in the gap are a hole, never known (readings there
// wait Decider.MaxWait and then follow the bed's policy).
//
// Feed is safe for concurrent use.
type Feed struct {
	grace  time.Duration
	latest func(bed string) time.Time
	beds   []string

	mu      sync.Mutex
	up      bool
	everUp  bool
	upAt    time.Time // when the current subscription was granted
	downAt  time.Time // when the link last broke
	pending *span     // a gap, settled once the retained messages are in
	holes   map[string][]span
}

// span is [from, to); a zero from is the beginning of time.
type span struct{ from, to time.Time }

func (s span) contains(t time.Time) bool {
	return (s.from.IsZero() || !t.Before(s.from)) && t.Before(s.to)
}

// NewFeed returns the watermark of a feed that has not been up yet. grace
// <= 0 means DefaultGrace; latest returns the time of the latest admission
// event the register holds for a bed (zero for none: *Register.Latest);
// beds are the configured beds.
func NewFeed(grace time.Duration, latest func(bed string) time.Time, beds []string) *Feed {
	if grace <= 0 {
		grace = DefaultGrace
	}
	return &Feed{grace: grace, latest: latest, beds: beds, holes: make(map[string][]span)}
}

// Up records that the admission subscription was granted at at, on a
// connection whose session the broker kept (sessionPresent) or not.
func (f *Feed) Up(at time.Time, sessionPresent bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.pending != nil:
		// The previous gap was never settled: it extends to now.
		f.pending.to = at
	case !f.everUp:
		// A start: nothing is known of the time before it but the
		// register's history and the retained messages.
		f.pending = &span{to: at}
	case !sessionPresent:
		f.pending = &span{from: f.downAt, to: at}
	}
	f.up, f.everUp, f.upAt = true, true, at
}

// Down records that the link broke at at.
func (f *Feed) Down(at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.up {
		f.settle(at) // a gap whose retained messages are in by now
		f.up, f.downAt = false, at
	}
}

// settle turns the pending gap into holes once the retained messages are
// in (Grace after the subscription). f.mu must be held.
func (f *Feed) settle(now time.Time) {
	if f.pending == nil || !f.up || now.Before(f.upAt.Add(f.grace)) {
		return
	}
	for _, bed := range f.beds {
		r := f.latest(bed)
		if r.IsZero() {
			continue // no event ever: the bed's history is known to be empty
		}
		h := span{from: f.pending.from, to: f.pending.to}
		if r.Before(h.to) {
			h.to = r
		}
		if !h.from.IsZero() && !h.from.Before(h.to) {
			continue
		}
		hs := append(f.holes[bed], h)
		if len(hs) > maxHoles {
			hs = hs[len(hs)-maxHoles:]
		}
		f.holes[bed] = hs
	}
	f.pending = nil
}

// Known reports whether the bed's association at t can be decided at now.
func (f *Feed) Known(bed string, t, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle(now)
	for _, h := range f.holes[bed] {
		if h.contains(t) {
			return false
		}
	}
	var through time.Time
	switch {
	case f.pending != nil:
		// A gap whose retained messages are not all in, the link up or
		// broken again since: known up to where the gap starts (nothing
		// after a start). Not downAt, which a break within the grace
		// moves past the gap.
		through = f.pending.from
	case f.up:
		through = now
	case f.everUp:
		through = f.downAt
	default:
		return false
	}
	return !t.Add(f.grace).After(through)
}

// Next returns the earliest time at which Known may change for a reading
// of time t that is not known at now, as a hint for when to look again:
// t + Grace while the feed is up, else now plus Grace.
func (f *Feed) Next(t, now time.Time) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.up {
		return maxTime(t.Add(f.grace), f.upAt.Add(f.grace))
	}
	return now.Add(f.grace)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Latest returns the time of the latest admission event the register holds
// for the bed, or zero when it holds none.
func (r *Register) Latest(bed string) time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	tl := r.tls[bed]
	switch {
	case tl == nil:
		return time.Time{}
	case len(tl.events) == 0:
		return tl.floor
	}
	return tl.events[len(tl.events)-1].at
}

// Floor returns the time before which the bed's history is gone (pruned
// by Options.Horizon or MaxEvents), or zero when it is all kept: PatientAt
// before it is no answer to correct a filing by.
func (r *Register) Floor(bed string) time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if tl := r.tls[bed]; tl != nil {
		return tl.floor
	}
	return time.Time{}
}
