package buffer

import "sort"

type slotState uint8

const (
	slotReady    slotState = iota // stored, waiting for Next
	slotInFlight                  // handed out by Next, not yet acked or released
	slotGone                      // acked, dropped or quarantined
)

// slot is the in-memory record of one stored entry; the payload stays on
// disk.
type slot struct {
	seq      Seq
	appended int64 // wall clock at append, Unix ns (NextSince)
	stamp    int64 // age clock at append, ns (ages; see clock.go)
	size     int64 // payload bytes
	state    slotState
}

// index is the in-memory view of the stored entries in sequence order.
// Gone slots are removed lazily. Not safe for concurrent use: Buffer.mu
// guards it.
type index struct {
	slots     []slot
	head      int // slots[:head] are all gone
	readyHint int // no ready slot lies before this position
	live      int
	ready     int
	inFlight  int
	bytes     int64
}

// push adds a ready entry; s.seq must exceed every seq already pushed.
func (x *index) push(s slot) {
	s.state = slotReady
	x.slots = append(x.slots, s)
	x.live++
	x.ready++
	x.bytes += s.size
}

// find returns the position of the live slot for seq, or -1.
func (x *index) find(seq Seq) int {
	live := x.slots[x.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].seq >= seq })
	if i == len(live) || live[i].seq != seq || live[i].state == slotGone {
		return -1
	}
	return x.head + i
}

// remove marks the slot at position i gone.
func (x *index) remove(i int) {
	s := &x.slots[i]
	switch s.state {
	case slotReady:
		x.ready--
	case slotInFlight:
		x.inFlight--
	case slotGone:
		return
	}
	s.state = slotGone
	x.live--
	x.bytes -= s.size
}

// take marks the slot at position i in flight.
func (x *index) take(i int) {
	x.slots[i].state = slotInFlight
	x.ready--
	x.inFlight++
}

// takeReady marks up to limit ready slots with sequence numbers in
// [from, to) in flight, in sequence order, and returns their sequence
// numbers.
func (x *index) takeReady(limit int, from, to Seq) []Seq {
	live := x.slots[x.head:]
	first := x.head + sort.Search(len(live), func(i int) bool { return live[i].seq >= from })
	// readyHint may move only over a scan that started at it.
	i, hinted := max(x.readyHint, x.head), true
	if first > i {
		i, hinted = first, false
	}
	var picked []Seq
	for ; i < len(x.slots) && len(picked) < limit && x.ready > 0 && x.slots[i].seq < to; i++ {
		if x.slots[i].state != slotReady {
			continue
		}
		x.take(i)
		picked = append(picked, x.slots[i].seq)
	}
	if hinted {
		x.readyHint = i
	}
	return picked
}

// release puts the in-flight slot at position i back, reporting whether it
// was in flight.
func (x *index) release(i int) bool {
	if x.slots[i].state != slotInFlight {
		return false
	}
	x.slots[i].state = slotReady
	x.inFlight--
	x.ready++
	x.readyHint = min(x.readyHint, i)
	return true
}

// releaseAll puts every in-flight slot back and returns how many there were.
func (x *index) releaseAll() int {
	n := 0
	for i := x.head; i < len(x.slots) && x.inFlight > 0; i++ {
		if x.release(i) {
			n++
		}
	}
	return n
}

// oldest returns the position of the first live slot, or -1.
func (x *index) oldest() int {
	for i := x.head; i < len(x.slots); i++ {
		if x.slots[i].state != slotGone {
			return i
		}
	}
	return -1
}

// compact drops gone slots from the front, and rebuilds the slice when gone
// slots in the middle (acks out of order) outnumber the live ones.
func (x *index) compact() {
	for x.head < len(x.slots) && x.slots[x.head].state == slotGone {
		x.head++
	}
	x.readyHint = max(x.readyHint, x.head)
	if x.head == len(x.slots) {
		x.slots, x.head, x.readyHint = x.slots[:0], 0, 0
		return
	}
	stored := len(x.slots) - x.head
	if x.head < 1024 && stored-x.live < 1024 {
		return
	}
	if x.head*2 < len(x.slots) && stored-x.live <= x.live {
		return
	}
	kept := make([]slot, 0, x.live+x.live/4)
	hint := -1
	for i := x.head; i < len(x.slots); i++ {
		s := x.slots[i]
		if s.state == slotGone {
			continue
		}
		if hint < 0 && i >= x.readyHint {
			hint = len(kept)
		}
		kept = append(kept, s)
	}
	if hint < 0 {
		hint = len(kept)
	}
	x.slots, x.head, x.readyHint = kept, 0, hint
}
