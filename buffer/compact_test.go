package buffer

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestCompactsWithoutEngineCompactors writes and acknowledges 32 memtables'
// worth of entries through an engine that has no compactors of its own.
// Without the compactor nothing would compact: level 0 would grow by a
// table a memtable.
func TestCompactsWithoutEngineCompactors(t *testing.T) {
	const memtable = 1 << 20
	b, err := Open(t.TempDir(), Options{MemTableSize: memtable, CloseIdleAfter: -1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
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
				t.Fatalf("round %d: Append: %v (level 0 holds %d tables)", round, err, b.db.Levels()[0].NumTables)
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

// TestFailingCompactionStallsNothing: while every compaction fails, level 0
// grows past the engine's usual stall and appends go on; a store closed
// (or killed) like that opens again; once compactions succeed level 0 is
// compacted at the next writes.
func TestFailingCompactionStallsNothing(t *testing.T) {
	const memtable = 1 << 20
	dir := t.TempDir()
	o := Options{MemTableSize: memtable, CloseIdleAfter: -1, Logger: quietLogger()}
	b, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	b.db.failing.Store(true)
	payload := bytes.Repeat([]byte{'x'}, 4<<10)
	write := func(b *Buffer, rounds int) {
		t.Helper()
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
			}
			if err := b.Ack(seqs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(b, 12) // 12 MiB: twelve memtables, past the default stall of 8
	waitLevel0 := func(what string, ok func(n int) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for n := b.db.Levels()[0].NumTables; !ok(n); n = b.db.Levels()[0].NumTables {
			if time.Now().After(deadline) {
				t.Fatalf("%s: level 0 holds %d tables", what, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLevel0("compactions failing", func(n int) bool { return n > 8 })
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
	write(b, 1) // a quarter memtable wakes the compactor
	waitLevel0("compactions succeeding again", func(n int) bool { return n < b.db.level0 })
}
