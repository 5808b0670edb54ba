package buffer

import "sort"

type slotState uint8

const (
	slotReady    slotState = iota // stored, waiting for Next
	slotInFlight                  // handed out by Next, not yet acked or released
	slotGone                      // acked, dropped or quarantined
)

// slot is the in-memory record of one stored entry; the payload stays on
// disk. It takes 32 bytes: a million-entry backlog holds 32 MB of them.
type slot struct {
	seq      Seq
	appended int64  // wall clock at append, Unix ns (NextSince)
	stamp    int64  // age clock at append, ns (ages; see clock.go)
	size     uint32 // payload bytes (at most half a value-log file, under 1 GiB)
	state    slotState
}

// chunkSlots is the number of slots in one chunk of the index (32 KiB).
// The index grows a chunk at a time rather than by reallocating one slice:
// a growing slice briefly holds its old and new arrays (2.25 times the live
// slots at Go's growth of 1.25) and leaves the old one for the collector,
// which for a million-entry backlog cost some 50 MB more at its peak.
const chunkSlots = 1024

// index is the in-memory view of the stored entries in sequence order.
// Positions (int) count slots from the first chunk; gone slots are removed
// lazily. Not safe for concurrent use: Buffer.mu guards it.
type index struct {
	chunks    [][]slot // each full (chunkSlots long) but the last
	n         int      // slots stored: positions [0, n)
	head      int      // positions [0, head) are all gone
	readyHint int      // no ready slot lies before this position
	live      int
	ready     int
	inFlight  int
	bytes     int64
	// spare is an emptied chunk kept for the next push, so that an
	// outbox emptied by nearly every acknowledgement (a connected
	// gateway's) does not allocate a chunk for each entry.
	spare []slot
}

// at returns the slot at position i, which must be below x.n.
func (x *index) at(i int) *slot { return &x.chunks[i/chunkSlots][i%chunkSlots] }

// push adds a ready entry; s.seq must exceed every seq already pushed.
func (x *index) push(s slot) {
	s.state = slotReady
	if x.n%chunkSlots == 0 {
		c := x.spare
		if c == nil {
			c = make([]slot, 0, chunkSlots)
		}
		x.chunks, x.spare = append(x.chunks, c), nil
	}
	last := len(x.chunks) - 1
	x.chunks[last] = append(x.chunks[last], s)
	x.n++
	x.live++
	x.ready++
	x.bytes += int64(s.size)
}

// search returns the first position at or after head whose seq is at least
// seq, or x.n.
func (x *index) search(seq Seq) int {
	return x.head + sort.Search(x.n-x.head, func(i int) bool { return x.at(x.head+i).seq >= seq })
}

// find returns the position of the live slot for seq, or -1.
func (x *index) find(seq Seq) int {
	i := x.search(seq)
	if i == x.n || x.at(i).seq != seq || x.at(i).state == slotGone {
		return -1
	}
	return i
}

// remove marks the slot at position i gone.
func (x *index) remove(i int) {
	s := x.at(i)
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
	x.bytes -= int64(s.size)
}

// take marks the slot at position i in flight.
func (x *index) take(i int) {
	x.at(i).state = slotInFlight
	x.ready--
	x.inFlight++
}

// takeReady marks up to limit ready slots with sequence numbers in
// [from, to) in flight, in sequence order, and returns their sequence
// numbers.
func (x *index) takeReady(limit int, from, to Seq) []Seq {
	first := x.search(from)
	// readyHint may move only over a scan that started at it.
	i, hinted := max(x.readyHint, x.head), true
	if first > i {
		i, hinted = first, false
	}
	var picked []Seq
	for ; i < x.n && len(picked) < limit && x.ready > 0 && x.at(i).seq < to; i++ {
		if x.at(i).state != slotReady {
			continue
		}
		x.take(i)
		picked = append(picked, x.at(i).seq)
	}
	if hinted {
		x.readyHint = i
	}
	return picked
}

// release puts the in-flight slot at position i back, reporting whether it
// was in flight.
func (x *index) release(i int) bool {
	s := x.at(i)
	if s.state != slotInFlight {
		return false
	}
	s.state = slotReady
	x.inFlight--
	x.ready++
	x.readyHint = min(x.readyHint, i)
	return true
}

// releaseAll puts every in-flight slot back and returns how many there were.
func (x *index) releaseAll() int {
	n := 0
	for i := x.head; i < x.n && x.inFlight > 0; i++ {
		if x.release(i) {
			n++
		}
	}
	return n
}

// oldest returns the position of the first live slot, or -1.
func (x *index) oldest() int {
	for i := x.head; i < x.n; i++ {
		if x.at(i).state != slotGone {
			return i
		}
	}
	return -1
}

// compact drops gone slots from the front, a chunk at a time, and rebuilds
// the chunks when gone slots in the middle (acks out of order) outnumber
// the live ones.
func (x *index) compact() {
	for x.head < x.n && x.at(x.head).state == slotGone {
		x.head++
	}
	x.readyHint = max(x.readyHint, x.head)
	if x.head == x.n {
		spare := x.spare
		if spare == nil && len(x.chunks) > 0 {
			spare = x.chunks[0][:0]
		}
		clear(x.chunks)
		*x = index{chunks: x.chunks[:0], live: x.live, ready: x.ready, inFlight: x.inFlight, bytes: x.bytes, spare: spare}
		return
	}
	if drop := x.head / chunkSlots; drop > 0 {
		if x.spare == nil {
			x.spare = x.chunks[0][:0]
		}
		clear(x.chunks[:drop])
		x.chunks = x.chunks[drop:]
		shift := drop * chunkSlots
		x.n, x.head, x.readyHint = x.n-shift, x.head-shift, x.readyHint-shift
	}
	stored := x.n - x.head
	if stored-x.live < 1024 || stored-x.live <= x.live {
		return
	}
	old := *x
	*x = index{}
	hint := -1
	for i := old.head; i < old.n; i++ {
		s := old.at(i)
		if s.state == slotGone {
			continue
		}
		if hint < 0 && i >= old.readyHint {
			hint = x.n
		}
		x.push(*s)
		x.at(x.n - 1).state = s.state
	}
	if hint < 0 {
		hint = x.n
	}
	x.readyHint = hint
	x.live, x.ready, x.inFlight, x.bytes = old.live, old.ready, old.inFlight, old.bytes
}
