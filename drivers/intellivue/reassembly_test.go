package intellivue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// A part of one poll reply on the wire.
const (
	partFirst = iota
	partMiddle
	partLast
	partClose
	partLone // a reply that fits one RORS
)

// corruptFrame flips one user-data bit of a wire frame, so that its FCS no
// longer matches, as line noise would.
func corruptFrame(t *testing.T, frame []byte) []byte {
	t.Helper()
	b := bytes.Clone(frame)
	special := func(c byte) bool { return c == 0x7D || c == 0xC0 || c == 0xC1 }
	for i := len(b) / 2; i < len(b)-3; i++ {
		if !special(b[i]) && !special(b[i]^0x01) {
			b[i] ^= 0x01
			return b
		}
	}
	t.Fatal("no byte to corrupt")
	return nil
}

// TestDecodeLostClosingResults decodes session-like streams of 40 poll
// replies (invoke ids wrapping past 65535; every fifth reply a lone RORS,
// the others a chain of three parts and a closing RORS) in which some
// frames arrive with a bad FCS. Every reply whose parts up to the last
// arrived gives its reading, however many closing results are lost before
// it; chains missing their last part are counted as bad.
func TestDecodeLostClosingResults(t *testing.T) {
	const polls = 40
	const firstInvoke = 65530
	linkedPoll := func(i int) bool { return i%5 != 4 }
	tests := []struct {
		name string
		lose func(poll, part int) bool
		// wantPoll reports whether poll i should give a reading.
		wantPoll func(i int) bool
		wantBad  int64
	}{
		{
			name:     "no frame lost",
			lose:     func(int, int) bool { return false },
			wantPoll: func(int) bool { return true },
		},
		{
			name:     "20 closing results lost",
			lose:     func(i, part int) bool { return i < 20 && part == partClose },
			wantPoll: func(int) bool { return true },
			wantBad:  16, // the corrupt frames: 16 of the first 20 polls are chains
		},
		{
			name:     "every closing result lost",
			lose:     func(_, part int) bool { return part == partClose },
			wantPoll: func(int) bool { return true },
			wantBad:  32,
		},
		{
			name:     "20 last parts and closing results lost",
			lose:     func(i, part int) bool { return i < 20 && (part == partLast || part == partClose) },
			wantPoll: func(i int) bool { return i >= 20 || !linkedPoll(i) },
			wantBad:  16*2 + 16, // two corrupt frames and one abandoned chain each
		},
		{
			name:     "20 first parts lost",
			lose:     func(i, part int) bool { return i < 20 && part == partFirst },
			wantPoll: func(i int) bool { return i >= 20 || !linkedPoll(i) },
			// The corrupt frame, then the middle and last parts and the
			// closing result of a chain never started.
			wantBad: 16 * 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stream []byte
			send := func(poll, part int, invoke uint16, l *Linked, p PollReply) {
				frame, err := AppendFrame(nil, AppendPollResult(nil, invoke, l, p))
				if err != nil {
					t.Fatal(err)
				}
				if tt.lose(poll, part) {
					frame = corruptFrame(t, frame)
				}
				stream = append(stream, frame...)
			}
			for i := range polls {
				invoke := uint16(firstInvoke + i)
				obs := func(k int) Observation { return hrObservation(fmt.Sprintf("P%d.%d", i, k), float64(60+i)) }
				rel := RelativeTime(8000 * (i + 1))
				if !linkedPoll(i) {
					send(i, partLone, invoke, nil, *pollFixture(rel, NoAbsoluteTime(), obs(0), obs(1), obs(2)))
					continue
				}
				send(i, partFirst, invoke, &Linked{State: LinkedFirst, Count: 1}, *pollFixture(rel, NoAbsoluteTime(), obs(0)))
				send(i, partMiddle, invoke, &Linked{State: LinkedNotFirstNot, Count: 2}, *pollFixture(rel, NoAbsoluteTime(), obs(1)))
				send(i, partLast, invoke, &Linked{State: LinkedLast, Count: 3}, *pollFixture(rel, NoAbsoluteTime(), obs(2)))
				send(i, partClose, invoke, nil, *pollFixture(rel, NoAbsoluteTime()))
			}

			var labels [][]string
			st, err := Decode(t.Context(), bytes.NewReader(stream), drivers.SinkFunc(func(_ context.Context, rd drivers.Reading) error {
				var ls []string
				for _, v := range rd.Values {
					ls = append(ls, v.Label)
				}
				labels = append(labels, ls)
				return nil
			}), drivers.Options{Logger: quietLogger(), Now: func() time.Time { return time.Unix(0, 0) }})
			if err != nil {
				t.Fatal(err)
			}
			var want [][]string
			for i := range polls {
				if tt.wantPoll(i) {
					want = append(want, []string{fmt.Sprintf("P%d.0", i), fmt.Sprintf("P%d.1", i), fmt.Sprintf("P%d.2", i)})
				}
			}
			if !slices.EqualFunc(labels, want, slices.Equal) {
				t.Errorf("readings (labels of their values):\n got %v\nwant %v", labels, want)
			}
			if st.Bad != tt.wantBad {
				t.Errorf("bad = %d, want %d (last error %q)", st.Bad, tt.wantBad, st.LastError)
			}
		})
	}
}

// bigObservation is one object with an attribute of n bytes.
func bigObservation(n int) Observation {
	return Observation{Handle: 9, Attributes: []AVA{{ID: AttrIDLabelString, Value: make([]byte, n)}}}
}

// TestReassemblerLimits feeds chains that grow past a limit: each is
// dropped at the part that crosses it, with a *ProtocolError; what the
// Reassembler holds never exceeds the limits; the rest of the chain and
// its closing result are rejected, not taken for a reply; and the next
// reply completes as usual.
func TestReassemblerLimits(t *testing.T) {
	tests := []struct {
		name     string
		parts    int
		part     []Observation // the observations of each part
		wantDrop int           // the part (counted from 1) that is rejected
	}{
		{"300 parts", 300, []Observation{hrObservation("", 1)}, maxChainParts + 1},
		{"bytes", 100, []Observation{bigObservation(4000)}, maxChainBytes/(4000+4+6+6) + 1},
		{"observations", 100, slices.Repeat([]Observation{hrObservation("", 1)}, 100), maxChainObservations/100 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reassembler
			const invoke = 7
			for n := 1; n <= tt.parts; n++ {
				state := LinkedNotFirstNot
				switch n {
				case 1:
					state = LinkedFirst
				case tt.parts:
					state = LinkedLast
				}
				p, err := r.Add(linked(invoke, state, uint8(n), 10, tt.part...))
				if p != nil {
					t.Fatalf("part %d completed a reply", n)
				}
				var pe *ProtocolError
				if (err != nil) != (n >= tt.wantDrop) || err != nil && !errors.As(err, &pe) {
					t.Fatalf("part %d: error %v; want a *ProtocolError from part %d on", n, err, tt.wantDrop)
				}
				if c := r.open; c != nil {
					if c.parts > maxChainParts || c.bytes > maxChainBytes || c.observations > maxChainObservations {
						t.Fatalf("part %d: holding %d parts, %d bytes, %d observations", n, c.parts, c.bytes, c.observations)
					}
					obs := 0
					for _, ctx := range c.reply.Contexts {
						obs += len(ctx.Observations)
					}
					if obs != c.observations {
						t.Fatalf("part %d: holding %d observations, counted %d", n, obs, c.observations)
					}
				} else if n < tt.wantDrop {
					t.Fatalf("part %d: chain gone before the limit", n)
				}
			}
			if r.open != nil {
				t.Fatalf("chain of %d parts still held", r.open.parts)
			}
			if p, err := r.Add(linked(invoke, 0, 0, 10)); p != nil || err == nil {
				t.Errorf("closing result of the dropped chain: reply %v, error %v; want none and an error", p, err)
			}
			r.Add(linked(invoke+1, LinkedFirst, 1, 20, hrObservation("A", 1)))
			r.Add(linked(invoke+1, LinkedLast, 2, 20, hrObservation("B", 2)))
			p, err := r.Add(linked(invoke+1, 0, 0, 20))
			if err != nil || p == nil {
				t.Fatalf("next reply after the dropped chain: %v, %v", p, err)
			}
			var labels []string
			for _, ctx := range p.Contexts {
				for _, o := range ctx.Observations {
					labels = append(labels, o.Label())
				}
			}
			if want := []string{"A", "B"}; !slices.Equal(labels, want) {
				t.Errorf("next reply after the dropped chain has objects %q, want %q", labels, want)
			}
		})
	}
}

// TestReassemblerStale checks which chains a result for another invoke id
// makes stale, and that stale replies come out oldest first.
func TestReassemblerStale(t *testing.T) {
	a := hrObservation("A", 1)
	tests := []struct {
		name      string
		results   []*Result
		wantReply bool     // the last result completes a reply
		wantStale []uint16 // the relative times of the replies Stale returns
		wantErr   bool
	}{
		{
			name:      "closing lost, next chain starts",
			results:   []*Result{linked(1, LinkedFirst, 1, 10, a), linked(1, LinkedLast, 2, 10, a), linked(2, LinkedFirst, 1, 20, a)},
			wantStale: []uint16{10},
		},
		{
			name:      "closing lost, next reply alone",
			results:   []*Result{linked(1, LinkedFirst, 1, 10, a), linked(1, LinkedLast, 2, 10, a), linked(2, 0, 0, 20, a)},
			wantReply: true,
			wantStale: []uint16{10},
		},
		{
			name:      "closing lost, same invoke id starts again",
			results:   []*Result{linked(1, LinkedFirst, 1, 10, a), linked(1, LinkedLast, 2, 10, a), linked(1, LinkedFirst, 1, 20, a)},
			wantStale: []uint16{10},
		},
		{
			name:    "last part lost, next chain starts",
			results: []*Result{linked(1, LinkedFirst, 1, 10, a), linked(2, LinkedFirst, 1, 20, a)},
			wantErr: true,
		},
		{
			name:      "stale replies not taken are kept, oldest first",
			results:   []*Result{linked(1, LinkedFirst, 1, 10, a), linked(1, LinkedLast, 2, 10, a), linked(2, LinkedFirst, 1, 20, a), linked(2, LinkedLast, 2, 20, a), linked(3, 0, 0, 30, a)},
			wantReply: true,
			wantStale: []uint16{10, 20},
		},
		{
			name:    "a result that is not a poll reply leaves the chain open",
			results: []*Result{linked(1, LinkedFirst, 1, 10, a), linked(1, LinkedLast, 2, 10, a), {InvokeID: 9, Command: CmdGet}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reassembler
			var p *PollReply
			var err error
			for _, m := range tt.results {
				p, err = r.Add(m)
			}
			if (p != nil) != tt.wantReply {
				t.Errorf("last result completed %v, want a reply: %v", p, tt.wantReply)
			}
			var pe *ProtocolError
			if (err != nil) != tt.wantErr || err != nil && !errors.As(err, &pe) {
				t.Errorf("last result: error %v, want a *ProtocolError: %v", err, tt.wantErr)
			}
			var got []uint16
			for _, s := range r.Stale() {
				got = append(got, uint16(s.RelTime))
			}
			if !slices.Equal(got, tt.wantStale) {
				t.Errorf("stale replies at relative times %v, want %v", got, tt.wantStale)
			}
			if s := r.Stale(); s != nil {
				t.Errorf("second Stale returned %d replies", len(s))
			}
		})
	}
}
