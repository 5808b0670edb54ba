package buffer

import (
	"context"
	"errors"
	"testing"
	"time"
)

func equalSeqs(a, b []Seq) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNextSinceTakesOnlyFreshEntries: a backlog appended before a moment
// is left to Next, in order; NextSince hands out what came after it.
func TestNextSinceTakesOnlyFreshEntries(t *testing.T) {
	clk := newClock()
	b := open(t, t.TempDir(), Options{Now: clk.Now, Uptime: clk.Uptime})
	appendN(t, b, 0, 5) // backlog: seqs 1..5
	clk.Advance(time.Minute)
	since := clk.Now()
	appendN(t, b, 5, 3) // fresh: seqs 6..8

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fresh, err := b.NextSince(ctx, 2, since)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(fresh); !equalSeqs(got, []Seq{6, 7}) {
		t.Fatalf("NextSince = %v, want [6 7]", got)
	}
	if got := seqsOf(next(t, b, 10)); !equalSeqs(got, []Seq{1, 2, 3, 4, 5, 8}) {
		t.Fatalf("Next after NextSince = %v, want the backlog then 8", got)
	}
	b.Release(3)
	clk.Advance(time.Second)
	// A released backlog entry is still backlog: NextSince waits.
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := b.NextSince(short, 10, since); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextSince with only backlog ready = %v, want a deadline error", err)
	}
	// It wakes on a fresh append.
	done := make(chan []Entry, 1)
	go func() {
		es, err := b.NextSince(ctx, 10, since)
		if err != nil {
			t.Error(err)
		}
		done <- es
	}()
	time.Sleep(20 * time.Millisecond)
	appendN(t, b, 8, 1) // seq 9
	select {
	case es := <-done:
		if got := seqsOf(es); !equalSeqs(got, []Seq{9}) {
			t.Fatalf("woken NextSince = %v, want [9]", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("NextSince did not wake on a fresh append")
	}
}
