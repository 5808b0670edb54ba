package intellivue

import "fmt"

// maxPendingChains bounds the linked results a Reassembler holds at once.
const maxPendingChains = 16

// Reassembler joins the parts of linked poll results: RORLS first, any
// not-first-not-last parts, last, then the closing RORS with the same
// invoke id [DEI "Linked Results"]. The zero value is ready to use. It is
// not safe for concurrent use.
type Reassembler struct {
	pending map[uint16]*chain
}

type chain struct {
	reply PollReply
	count uint8
	last  bool
}

// Add takes one result. It returns the whole poll reply when m completes
// one (an RORS, alone or closing a chain), nil while a chain is still
// open or when m is not a poll result. A part out of order gives a
// *ProtocolError and drops its chain.
func (r *Reassembler) Add(m *Result) (*PollReply, error) {
	if m.Action == nil || m.Action.Poll == nil {
		return nil, nil
	}
	p := m.Action.Poll
	c := r.pending[m.InvokeID]
	if m.Linked == nil {
		if c == nil {
			return p, nil
		}
		delete(r.pending, m.InvokeID)
		if !c.last {
			return nil, &ProtocolError{State: "linked result", Reason: fmt.Sprintf("invoke id %d: result closes a chain without its last part", m.InvokeID)}
		}
		c.reply.Contexts = append(c.reply.Contexts, p.Contexts...)
		return &c.reply, nil
	}
	switch m.Linked.State {
	case LinkedFirst:
		var err error
		if c != nil {
			err = &ProtocolError{State: "linked result", Reason: fmt.Sprintf("invoke id %d: new chain before the previous one ended; previous dropped", m.InvokeID)}
		}
		if r.pending == nil {
			r.pending = make(map[uint16]*chain)
		}
		if c == nil && len(r.pending) >= maxPendingChains {
			return nil, &ProtocolError{State: "linked result", Reason: fmt.Sprintf("more than %d open chains", maxPendingChains)}
		}
		r.pending[m.InvokeID] = &chain{reply: *p, count: m.Linked.Count}
		return nil, err
	default:
		if c == nil || c.last || m.Linked.Count != c.count+1 {
			delete(r.pending, m.InvokeID)
			return nil, &ProtocolError{State: "linked result", Reason: fmt.Sprintf("invoke id %d: part %d (state %d) out of order", m.InvokeID, m.Linked.Count, m.Linked.State)}
		}
		c.count = m.Linked.Count
		c.last = m.Linked.State == LinkedLast
		c.reply.Contexts = append(c.reply.Contexts, p.Contexts...)
		return nil, nil
	}
}

// Flush ends the input: it returns the chains that got their last part but
// not their closing RORS (a capture cut short), and drops the others,
// returning how many it dropped.
func (r *Reassembler) Flush() (complete []PollReply, dropped int) {
	for id, c := range r.pending {
		if c.last {
			complete = append(complete, c.reply)
		} else {
			dropped++
		}
		delete(r.pending, id)
	}
	return complete, dropped
}
