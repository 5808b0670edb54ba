package buffer

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestCompactsWithoutEngineCompactors writes and acknowledges 32 memtables'
// worth of entries through an engine that has no compactors of its own.
// Without the compactor the engine would stall the ninth memtable's flush,
// and with it every append after (at NumLevelZeroTablesStall, eight level-0
// tables).
func TestCompactsWithoutEngineCompactors(t *testing.T) {
	const memtable = 1 << 20
	b, err := Open(t.TempDir(), Options{MemTableSize: memtable, CloseIdleAfter: -1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() { // a stalled engine would not close
			_ = b.Close()
		}
	})
	if n := b.db.Opts().NumCompactors; n != 0 {
		t.Fatalf("engine opened with %d compactors of its own, want 0", n)
	}
	payload := bytes.Repeat([]byte{'x'}, 4<<10)
	var written int64
	for round := range 32 {
		var seqs []Seq
		for range 256 {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			s, err := b.Append(ctx, payload)
			cancel()
			if err != nil {
				t.Fatalf("round %d: Append: %v (level 0 holds %d tables: writes stalled?)", round, err, b.db.Levels()[0].NumTables)
			}
			seqs = append(seqs, s)
			written += int64(len(payload))
		}
		if err := b.Ack(seqs...); err != nil {
			t.Fatal(err)
		}
	}
	if b.db.compactions.Load() == 0 {
		t.Fatalf("no compaction after %d MiB written", written>>20)
	}
	// Wait for the compactor to catch up with the last flush.
	deadline := time.Now().Add(20 * time.Second)
	var tables, size int64
	for {
		tables, size = 0, 0
		for _, l := range b.db.Levels() {
			tables += int64(l.NumTables)
			size += l.Size
		}
		if l0 := b.db.Levels()[0].NumTables; l0 < b.db.level0 && size < written/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d MiB written and acknowledged, %d compactions: the tables hold %d tables, %d KiB, level 0 %d; want level 0 under %d and under a quarter of what was written",
				written>>20, b.db.compactions.Load(), tables, size>>10, b.db.Levels()[0].NumTables, b.db.level0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d MiB written and acknowledged: %d compactions; %d tables, %d KiB left", written>>20, b.db.compactions.Load(), tables, size>>10)
}
