package intellivue

import (
	"errors"
	"fmt"
)

// Limits on one linked chain. The part count is one byte on the wire, so
// no legal chain has more than maxChainParts parts. The largest poll reply
// in the shared real capture is 4 parts, about 2 KB and 24 observations;
// the byte and observation caps leave ample room for a fully equipped
// monitor while bounding what a faulty one can make the host hold.
const (
	maxChainParts        = 255
	maxChainBytes        = 64 << 10 // encoded size of the chain's contexts
	maxChainObservations = 1024
)

// maxStale bounds the stale replies a Reassembler keeps for
// [Reassembler.Stale] when its caller does not take them.
const maxStale = 16

// Reassembler joins the parts of linked poll results: RORLS first, any
// not-first-not-last parts, last, then the closing RORS with the same
// invoke id [DEI "Linked Results"]. The zero value is ready to use. It is
// not safe for concurrent use.
//
// A monitor answers one poll at a time, so at most one chain is open.
// When a poll result for another invoke id arrives, or a new first part
// for the same one, the open chain is stale: its closing result was lost
// (a bad frame on a noisy line, say). A stale chain that has its last part
// is whole but for the closing RORS; it is kept for [Reassembler.Stale].
// A stale chain without its last part is dropped and reported in Add's
// error. A lost closing result thus never stalls later replies, and the
// Reassembler holds at most one open chain.
//
// A chain of more than 255 parts, 64 KiB of encoded contexts or 1024
// observations is dropped and reported, as is a part out of order. The
// later parts and the closing RORS of a dropped chain are rejected too,
// never taken for a reply of their own.
type Reassembler struct {
	open  *chain      // the chain being joined, or nil
	stale []PollReply // stale chains that had their last part, oldest first

	// The invoke id of the last chain dropped, whose remaining parts are
	// rejected until a result for another invoke id arrives.
	broken    uint16
	hasBroken bool
}

type chain struct {
	id           uint16
	reply        PollReply
	count        uint8 // the last part's count
	parts        int
	bytes        int
	observations int
	last         bool
}

// Add takes one result. It returns the whole poll reply when m completes
// one (an RORS, alone or closing a chain), nil while a chain is still
// open or when m is not a poll result. A part out of order, a chain past
// the limits and a stale chain without its last part give a
// *ProtocolError (joined, when there are several) and drop their chain.
// Stale chains that had their last part are kept for [Reassembler.Stale].
func (r *Reassembler) Add(m *Result) (*PollReply, error) {
	if m.Action == nil || m.Action.Poll == nil {
		return nil, nil
	}
	p := m.Action.Poll
	var errs []error
	if r.open != nil && (r.open.id != m.InvokeID || m.Linked != nil && m.Linked.State == LinkedFirst) {
		errs = append(errs, r.abandon(m.InvokeID))
	}
	if r.hasBroken && (r.broken != m.InvokeID || m.Linked != nil && m.Linked.State == LinkedFirst) {
		r.hasBroken = false
	}
	reply, err := r.add(m.InvokeID, m.Linked, p)
	return reply, errors.Join(append(errs, err)...)
}

// add takes one poll result once stale chains are set aside.
func (r *Reassembler) add(id uint16, l *Linked, p *PollReply) (*PollReply, error) {
	c := r.open
	if l == nil {
		switch {
		case c != nil:
			r.open = nil
			if !c.last {
				return nil, r.drop(id, "result closes a chain without its last part")
			}
			if err := c.take(p); err != nil {
				return nil, r.drop(id, err.Error())
			}
			return &c.reply, nil
		case r.hasBroken:
			r.hasBroken = false
			return nil, linkedError(id, "result closes a chain that was dropped")
		}
		return p, nil
	}
	if l.State == LinkedFirst {
		c = &chain{id: id, reply: *p, count: l.Count}
		c.reply.Contexts = nil
		if err := c.take(p); err != nil {
			return nil, r.drop(id, err.Error())
		}
		r.open = c
		return nil, nil
	}
	switch {
	case c == nil && r.hasBroken:
		return nil, linkedError(id, fmt.Sprintf("part %d of a chain that was dropped", l.Count))
	case c == nil || c.last || l.Count != c.count+1:
		return nil, r.drop(id, fmt.Sprintf("part %d (state %d) out of order", l.Count, l.State))
	case c.parts >= maxChainParts:
		return nil, r.drop(id, fmt.Sprintf("chain longer than %d parts", maxChainParts))
	}
	if err := c.take(p); err != nil {
		return nil, r.drop(id, err.Error())
	}
	c.count = l.Count
	c.last = l.State == LinkedLast
	return nil, nil
}

// take appends the contexts of one part to the chain, unless that takes
// it past the limits.
func (c *chain) take(p *PollReply) error {
	obs, size := 0, 0
	for _, ctx := range p.Contexts {
		obs += len(ctx.Observations)
		size += contextSize(ctx)
	}
	if c.observations+obs > maxChainObservations {
		return fmt.Errorf("chain of more than %d observations", maxChainObservations)
	}
	if c.bytes+size > maxChainBytes {
		return fmt.Errorf("chain of more than %d bytes", maxChainBytes)
	}
	c.parts++
	c.observations += obs
	c.bytes += size
	c.reply.Contexts = append(c.reply.Contexts, p.Contexts...)
	return nil
}

// contextSize is the encoded size of a SingleContextPoll: context id and
// list header, then each ObservationPoll's handle, list header and AVAs.
func contextSize(ctx ContextPoll) int {
	n := 6
	for _, o := range ctx.Observations {
		n += 6
		for _, a := range o.Attributes {
			n += 4 + len(a.Value)
		}
	}
	return n
}

// abandon sets the open chain aside as stale, since a result for invoke
// id next arrived before its closing RORS.
func (r *Reassembler) abandon(next uint16) error {
	c := r.open
	r.open = nil
	if !c.last {
		return linkedError(c.id, fmt.Sprintf("chain abandoned without its last part (result for invoke id %d arrived)", next))
	}
	var err error
	if len(r.stale) == maxStale {
		err = &ProtocolError{State: "linked result", Reason: fmt.Sprintf("more than %d stale replies not taken; oldest dropped", maxStale)}
		r.stale = append(r.stale[:0], r.stale[1:]...)
	}
	r.stale = append(r.stale, c.reply)
	return err
}

// drop forgets the open chain of invoke id id and rejects its remaining
// parts.
func (r *Reassembler) drop(id uint16, reason string) error {
	r.open = nil
	r.broken, r.hasBroken = id, true
	return linkedError(id, reason)
}

func linkedError(id uint16, reason string) error {
	return &ProtocolError{State: "linked result", Reason: fmt.Sprintf("invoke id %d: %s", id, reason)}
}

// Stale returns, oldest first, the stale chains that had their last part
// but not their closing RORS, and forgets them. Call it after Add to emit
// every reply; the Reassembler keeps at most 16 that are not taken.
func (r *Reassembler) Stale() []PollReply {
	s := r.stale
	r.stale = nil
	return s
}

// Flush ends the input: it returns, oldest first, the chains that got
// their last part but not their closing RORS (stale ones not yet taken, or
// the open one, when a capture is cut short), and drops the open chain
// when it has not, returning how many it dropped (0 or 1).
func (r *Reassembler) Flush() (complete []PollReply, dropped int) {
	complete = r.Stale()
	if c := r.open; c != nil {
		if c.last {
			complete = append(complete, c.reply)
		} else {
			dropped++
		}
	}
	r.open, r.hasBroken = nil, false
	return complete, dropped
}
