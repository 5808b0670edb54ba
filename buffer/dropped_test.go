package buffer

import (
	"context"
	"testing"
)

// TestDropped: the count of dropped entries and the oldest stored entry
// follow appends, acks and the drops of a full buffer, and agree with Stats.
func TestDropped(t *testing.T) {
	b := open(t, t.TempDir(), Options{MaxBytes: 64})
	check := func(what string, wantDropped uint64, wantOldest Seq) {
		t.Helper()
		dropped, oldest := b.Dropped()
		st := b.Stats()
		if dropped != wantDropped || oldest != wantOldest || dropped != st.Dropped[DropFull]+st.Dropped[DropAge] {
			t.Errorf("%s: Dropped() = %d, oldest %d; want %d, %d (Stats: %v)", what, dropped, oldest, wantDropped, wantOldest, st.Dropped)
		}
	}
	check("empty", 0, 1)
	appendN(t, b, 0, 4) // 4 × 14 bytes: fits in 64
	check("four stored", 0, 1)
	es, err := b.Next(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ack(es[0].Seq); err != nil {
		t.Fatal(err)
	}
	check("the first acked", 0, 2)
	appendN(t, b, 4, 2) // 5 × 14 > 64: the oldest stored one (seq 2) goes
	check("full: the oldest dropped", 1, 3)
}
