package intellivue

import (
	"fmt"

	driver "github.com/bedgate/bedgate/drivers/intellivue"
)

// splitResult encodes poll reply p to invoke id invokeID as the messages
// a monitor sends with an MTU of mtu bytes of user data: one RORS when it
// fits, else a linked chain (RORLS first, not-first-not-last..., last,
// each with as many whole observations as fit, counted from 1) closed by
// an RORS without observations [DEI "Linked Results"]. It fails when one
// observation alone does not fit.
func splitResult(invokeID uint16, p driver.PollReply, mtu int) ([][]byte, error) {
	whole := driver.AppendPollResult(nil, invokeID, nil, p)
	if len(whole) <= mtu {
		return [][]byte{whole}, nil
	}
	head := p
	head.Contexts = nil
	part := &driver.Linked{State: driver.LinkedFirst, Count: 1}
	size := func(r driver.PollReply) int { return len(driver.AppendPollResult(nil, invokeID, part, r)) }

	var parts []driver.PollReply
	cur := head
	for _, c := range p.Contexts {
		for _, o := range c.Observations {
			next := withObservation(cur, c.ContextID, o)
			if size(next) <= mtu {
				cur = next
				continue
			}
			if len(cur.Contexts) == 0 {
				return nil, fmt.Errorf("intellivue simulator: object 0x%04X does not fit in an MTU of %d bytes", o.Handle, mtu)
			}
			parts = append(parts, cur)
			cur = withObservation(head, c.ContextID, o)
			if size(cur) > mtu {
				return nil, fmt.Errorf("intellivue simulator: object 0x%04X does not fit in an MTU of %d bytes", o.Handle, mtu)
			}
		}
	}
	parts = append(parts, cur)

	msgs := make([][]byte, 0, len(parts)+1)
	for i, r := range parts {
		state := driver.LinkedNotFirstNot
		switch i {
		case 0:
			state = driver.LinkedFirst
		case len(parts) - 1:
			state = driver.LinkedLast
		}
		msgs = append(msgs, driver.AppendPollResult(nil, invokeID, &driver.Linked{State: state, Count: uint8(i + 1)}, r))
	}
	return append(msgs, driver.AppendPollResult(nil, invokeID, nil, head)), nil
}

// withObservation returns r with o added to its last context when that is
// context id, else to a new context; r itself is left unchanged.
func withObservation(r driver.PollReply, id uint16, o driver.Observation) driver.PollReply {
	cs := make([]driver.ContextPoll, len(r.Contexts), len(r.Contexts)+1)
	copy(cs, r.Contexts)
	if n := len(cs); n > 0 && cs[n-1].ContextID == id {
		obs := make([]driver.Observation, len(cs[n-1].Observations), len(cs[n-1].Observations)+1)
		copy(obs, cs[n-1].Observations)
		cs[n-1].Observations = append(obs, o)
	} else {
		cs = append(cs, driver.ContextPoll{ContextID: id, Observations: []driver.Observation{o}})
	}
	r.Contexts = cs
	return r
}
