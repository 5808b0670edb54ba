package buffer

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// writeAcked appends rounds × 256 payloads of 4 KiB (a mebibyte a round)
// and acks each round, failing the test if an append takes 20 s. It
// returns the payload bytes written.
func writeAcked(t *testing.T, b *Buffer, rounds int) (written int64) {
	t.Helper()
	payload := bytes.Repeat([]byte{'x'}, 4<<10)
	for round := range rounds {
		var seqs []Seq
		for range 256 {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			s, err := b.Append(ctx, payload)
			cancel()
			if err != nil {
				t.Fatalf("round %d: Append: %v (level 0 holds %d tables)", round, err, b.db.Levels()[0].NumTables)
			}
			seqs = append(seqs, s)
			written += int64(len(payload))
		}
		if err := b.Ack(seqs...); err != nil {
			t.Fatal(err)
		}
	}
	return written
}

// TestCompactsWithoutEngineCompactors writes and acknowledges 32 memtables'
// worth of entries through an engine that has no compactors of its own.
// Without the compactor nothing would compact: level 0 would grow by a
// table a memtable.
func TestCompactsWithoutEngineCompactors(t *testing.T) {
	b := open(t, t.TempDir(), Options{MemTableSize: 1 << 20, CloseIdleAfter: -1})
	if n := b.db.Opts().NumCompactors; n != 0 {
		t.Fatalf("engine opened with %d compactors of its own, want 0", n)
	}
	written := writeAcked(t, b, 32)
	if b.db.compactions.Load() == 0 {
		t.Fatalf("no compaction after %d MiB written", written>>20)
	}
	// The compactor catches up with the last flush.
	var tables, size int64
	waitUntil(t, func() bool {
		tables, size = 0, 0
		for _, l := range b.db.Levels() {
			tables += int64(l.NumTables)
			size += l.Size
		}
		return b.db.Levels()[0].NumTables < b.db.level0 && size < written/4
	}, func() string {
		return fmt.Sprintf("after %d MiB written and acknowledged, %d compactions: the tables hold %d tables, %d KiB, level 0 %d; want level 0 under %d and under a quarter of what was written",
			written>>20, b.db.compactions.Load(), tables, size>>10, b.db.Levels()[0].NumTables, b.db.level0)
	})
	t.Logf("%d MiB written and acknowledged: %d compactions; %d tables, %d KiB left", written>>20, b.db.compactions.Load(), tables, size>>10)
}

// TestFailingCompactionStallsNothing: while every compaction fails, level 0
// grows past the engine's usual stall and appends go on; a store closed
// (or killed) like that opens again; once compactions succeed level 0 is
// compacted at the next writes, or compactRetry after a failure without
// any.
func TestFailingCompactionStallsNothing(t *testing.T) {
	dir := t.TempDir()
	o := Options{MemTableSize: 1 << 20, CloseIdleAfter: -1, Logger: quietLogger()}
	b, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	b.db.failing.Store(true)
	writeAcked(t, b, 12) // twelve memtables, past the default stall of 8
	level0 := func() int { return b.db.Levels()[0].NumTables }
	waitUntil(t, func() bool { return level0() > 8 }, func() string {
		return fmt.Sprintf("compactions failing: level 0 holds %d tables, want more than 8", level0())
	})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	opened := make(chan error, 1)
	go func() {
		var err error
		b, err = Open(dir, o)
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Open of a store whose level 0 is past the engine's usual stall did not return in 20 s")
	}
	t.Cleanup(func() { _ = b.Close() })
	writeAcked(t, b, 1) // a quarter memtable wakes the compactor
	waitUntil(t, func() bool { return level0() < b.db.level0 }, func() string {
		return fmt.Sprintf("compactions succeeding again: level 0 holds %d tables, want under %d", level0(), b.db.level0)
	})

	// Failing again, then the cause clears while nothing more is written:
	// the compactor tries again by itself (compactRetry).
	b.db.failing.Store(true)
	writeAcked(t, b, 3)
	waitUntil(t, func() bool { return level0() >= b.db.level0 }, func() string {
		return fmt.Sprintf("compactions failing: level 0 holds %d tables, want %d or more", level0(), b.db.level0)
	})
	b.db.failing.Store(false)
	waitUntil(t, func() bool { return level0() < b.db.level0 }, func() string {
		return fmt.Sprintf("no writes since the failures ended: level 0 holds %d tables after 20 s, want under %d", level0(), b.db.level0)
	})
}
