package serialport

import (
	"math/rand/v2"
	"time"
)

// Backoff defaults, used where a Backoff field is zero.
const (
	DefaultBackoffMin    = 100 * time.Millisecond
	DefaultBackoffMax    = 5 * time.Second
	DefaultBackoffJitter = 0.2
)

// Backoff computes the delays between attempts to reach a device: Min, then
// doubling on each call up to Max. Each delay is shortened at random by up
// to Jitter of itself, so that many supervisors retrying the same hub do not
// move in step; a delay is never longer than Max.
//
// The zero value is ready to use: 100 ms doubling to 5 s with jitter 0.2.
// A Backoff is not safe for concurrent use.
type Backoff struct {
	// Min is the first delay. The default is DefaultBackoffMin.
	Min time.Duration
	// Max is the longest delay. The default is DefaultBackoffMax; a Max
	// below Min is taken as Min.
	Max time.Duration
	// Jitter is the largest fraction, from 0 to 1, by which a delay is
	// shortened at random. Zero means DefaultBackoffJitter; a negative value
	// turns jitter off.
	Jitter float64
	// Rand returns a random number in [0, 1). The default is
	// math/rand/v2.Float64.
	Rand func() float64

	next time.Duration // nominal delay of the next call; zero means Min
}

// Next returns the delay to wait before the next attempt and doubles the
// one after it.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultBackoffMin
	}
	if hi <= 0 {
		hi = DefaultBackoffMax
	}
	hi = max(hi, lo)
	d := min(max(b.next, lo), hi)
	if d > hi/2 {
		b.next = hi
	} else {
		b.next = 2 * d
	}

	j := b.Jitter
	switch {
	case j == 0:
		j = DefaultBackoffJitter
	case j < 0:
		return d
	case j > 1:
		j = 1
	}
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return d - time.Duration(float64(d)*j*r())
}

// Reset starts the sequence again from Min, after a success.
func (b *Backoff) Reset() { b.next = 0 }
