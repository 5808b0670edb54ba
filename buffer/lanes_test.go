package buffer

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestNextBeforeAndFromSplitAtABoundary: with a boundary noted from
// NextSeq, NextBefore hands out only the backlog and NextFrom only what was
// appended since, each in order; a released entry stays in its lane, and a
// lane with nothing ready waits for an entry of its own.
func TestNextBeforeAndFromSplitAtABoundary(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	appendN(t, b, 0, 5) // backlog: seqs 1..5
	boundary := b.NextSeq()
	if boundary != 6 {
		t.Fatalf("NextSeq = %d after 5 appends, want 6", boundary)
	}
	appendN(t, b, 5, 3) // fresh: seqs 6..8

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	take := func(what string, lane func(context.Context, int, Seq) ([]Entry, error), max int, want ...Seq) {
		t.Helper()
		es, err := lane(ctx, max, boundary)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		wantSeqs(t, what, seqsOf(es), want)
	}
	take("NextFrom", b.NextFrom, 2, 6, 7)
	take("NextBefore", b.NextBefore, 3, 1, 2, 3)
	take("NextBefore again", b.NextBefore, 10, 4, 5)
	b.Release(2, 7)
	take("NextFrom after a release", b.NextFrom, 10, 7, 8)
	take("NextBefore after a release", b.NextBefore, 10, 2)

	// Both lanes are empty: each waits, and wakes only for its own lane.
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := b.NextFrom(short, 10, boundary); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextFrom with nothing fresh ready = %v, want a deadline error", err)
	}
	backlog := make(chan []Entry, 1)
	go func() {
		es, err := b.NextBefore(ctx, 10, boundary)
		if err != nil {
			t.Error(err)
		}
		backlog <- es
	}()
	appendN(t, b, 8, 1) // seq 9, fresh: the backlog lane keeps waiting
	take("NextFrom woken", b.NextFrom, 10, 9)
	b.Release(4)
	select {
	case es := <-backlog:
		wantSeqs(t, "NextBefore woken by a release", seqsOf(es), []Seq{4})
	case <-time.After(5 * time.Second):
		t.Fatal("NextBefore did not wake on a released backlog entry")
	}
}
