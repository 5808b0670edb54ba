package buffer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer/tmpfstest"
	"github.com/dgraph-io/badger/v4"
)

// appendWithin appends payload, failing the test if it takes 10 s.
func appendWithin(t *testing.T, b *Buffer, payload []byte) Seq {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := b.Append(ctx, payload)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return seq
}

// engineOpen reports whether b's storage engine is open.
func engineOpen(b *Buffer) bool {
	b.dbMu.RLock()
	defer b.dbMu.RUnlock()
	return b.db != nil
}

// waitEngine waits for b's engine to be open (or closed).
func waitEngine(t *testing.T, b *Buffer, open bool) {
	t.Helper()
	waitUntil(t, func() bool { return engineOpen(b) == open }, func() string {
		return "the storage engine is not " + map[bool]string{true: "open", false: "closed"}[open] + " after 20 s"
	})
}

// ackAll takes every ready entry and acks it, returning them.
func ackAll(t *testing.T, b *Buffer) []Entry {
	t.Helper()
	es := drain(t, b)
	for _, e := range es {
		if err := b.Ack(e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// TestCloseIdle: an emptied store's engine closes after CloseIdleAfter and
// opens again for the next append, which continues the sequence; the
// directory stays locked while it is closed, and the entries appended
// after it reopened survive a Close and Open.
func TestCloseIdle(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{Logger: quietLogger(), CloseIdleAfter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for round := range 3 {
		from := 1 + 3*round
		var seqs []Seq
		for i := range 3 {
			seqs = append(seqs, appendWithin(t, b, payloadFor(from+i)))
		}
		wantSeqs(t, fmt.Sprintf("round %d Append", round), seqs, seqRange(Seq(from), Seq(from+2)))
		if round == 2 {
			break // the last three stay stored
		}
		es := ackAll(t, b)
		wantSeqs(t, fmt.Sprintf("round %d Next", round), seqsOf(es), seqRange(Seq(from), Seq(from+2)))
		for i, e := range es {
			if want := payloadFor(from + i); !bytes.Equal(e.Payload, want) {
				t.Errorf("round %d: entry %d payload %q, want %q", round, e.Seq, e.Payload, want)
			}
		}
		waitEngine(t, b, false)
		if _, err := Open(dir, Options{Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("a second Open while the engine is closed for idleness: %v, want the store in use", err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, Options{})
	if got := b.NextSeq(); got != 10 {
		t.Errorf("NextSeq after reopening %d, want 10", got)
	}
	wantSeqs(t, "entries kept across Close", seqsOf(drain(t, b)), seqRange(7, 9))
}

// TestCloseIdleNotWhileStored: a store holding entries, in flight or not,
// or with work pending, is not empty, so its engine stays open.
func TestCloseIdleNotWhileStored(t *testing.T) {
	b := open(t, t.TempDir(), Options{CloseIdleAfter: -1})
	appendN(t, b, 1, 2)
	cases := []struct {
		name string
		set  func()
		want bool
	}{
		{"two ready", func() {}, false},
		{"one in flight", func() { next(t, b, 1) }, false},
		{"both in flight", func() { next(t, b, 1) }, false},
		{"acked, deletions pending", func() { _ = b.Ack(1, 2) }, false},
	}
	for _, c := range cases {
		c.set()
		if got := b.empty(); got != c.want {
			t.Errorf("%s: empty %v, want %v", c.name, got, c.want)
		}
	}
	b.signal() // the deletions are written at the next round
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b.empty() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the store is not empty 5 s after its entries were acked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !engineOpen(b) {
		t.Error("a negative CloseIdleAfter closed the engine")
	}
}

// TestCloseIdleStoreChanged: a store changed behind the Buffer while its
// engine was closed is not numbered again: the append fails with the
// reason, uses no number, and the engine stays closed. Each check alone.
func TestCloseIdleStoreChanged(t *testing.T) {
	o, _ := Options{Logger: quietLogger()}.withDefaults()
	// change writes into the store with the engine, bypassing the lock
	// the Buffer holds, as another writer would.
	change := func(t *testing.T, dir string, key, value []byte) {
		t.Helper()
		db, err := badger.Open(o.badgerOptions(dir).WithBypassLockGuard(true))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   string
	}{
		{"an entry written", func(t *testing.T, dir string) {
			change(t, dir, seqKey(entryPrefix, 2), encodeValue(time.Now(), 0, []byte("not the buffer's")))
		}, "next sequence number 3, was 2"},
		{"the high-water mark moved", func(t *testing.T, dir string) {
			change(t, dir, metaNextKey, be64(9))
		}, "next sequence number 9, was 2"},
		{"another incarnation", func(t *testing.T, dir string) {
			change(t, dir, metaIncarnationKey, []byte("aaaaaaaaaaaa"))
		}, "incarnation aaaaaaaaaaaa"},
		{"the directory replaced", func(t *testing.T, dir string) {
			if err := os.Rename(dir, dir+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(dir, 0o750); err != nil {
				t.Fatal(err)
			}
		}, "no longer the directory locked at Open"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			rec := &recorder{}
			b := open(t, dir, Options{CloseIdleAfter: 10 * time.Millisecond, Logger: slog.New(rec)})
			appendWithin(t, b, payloadFor(1))
			ackAll(t, b)
			waitEngine(t, b, false)
			c.change(t, dir)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := b.Append(ctx, payloadFor(2))
			if !errors.Is(err, errStoreChanged) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Append to a store changed while closed: %v, want %v saying %q", err, errStoreChanged, c.want)
			}
			if engineOpen(b) {
				t.Fatal("the engine is open on a store that changed")
			}
			if st := b.Stats(); st.Appended != 1 || st.NextSeq != 2 {
				t.Errorf("after the refused append: appended %d, next %d; want 1 and 2", st.Appended, st.NextSeq)
			}
			// Refused again without another attempt (one error logged),
			// an append whose own build failed with its own error.
			if _, err := b.Append(ctx, payloadFor(3)); !errors.Is(err, errStoreChanged) {
				t.Errorf("second Append: %v, want %v", err, errStoreChanged)
			}
			errBuild := errors.New("no payload")
			if _, err := b.AppendFunc(ctx, func(Seq) ([]byte, error) { return nil, errBuild }); !errors.Is(err, errBuild) {
				t.Errorf("AppendFunc whose build failed: %v, want its own error", err)
			}
			if n := rec.count(slog.LevelError, "buffer: the idle store could not be opened again; appends refused"); n != 1 {
				t.Errorf("the failed reopen logged %d times for three appends, want once", n)
			}
		})
	}
}

// TestCloseIdleDiskFull: an idle store whose disk something else fills
// neither closes its engine (closing flushes the memtable, and the engine
// may have to write to give space back) nor, once closed, reopens it on a
// disk without room for it (the engine writes its memtables through memory
// maps: the process would die of SIGBUS); the appends are refused for disk
// space, counted, and accepted again once there is room, the sequence
// continuing.
func TestCloseIdleDiskFull(t *testing.T) {
	mnt := tmpfstest.Mount(t, "16m")
	dir := filepath.Join(mnt, "outbox")
	filler := filepath.Join(mnt, "filler")
	const idle = 300 * time.Millisecond
	b := open(t, dir, Options{CloseIdleAfter: idle, MaxAge: 4 * time.Second}) // a sweep a second

	// Filled, before CloseIdleAfter has passed, by something else: the
	// engine stays open through the committer's rounds past it (an
	// absence, so watched for a while: ten times CloseIdleAfter, some
	// fifteen rounds). That the committer does look is shown below: it
	// closes the engine once the filler is gone.
	tmpfstest.Fill(t, filler)
	for end := time.Now().Add(10 * idle); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if !engineOpen(b) {
			t.Fatal("the engine was closed on a full disk")
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	appendWithin(t, b, payloadFor(1))
	ackAll(t, b)
	waitEngine(t, b, false)

	// Filled while closed, the reserve file gone already (released
	// earlier, or never made): no reopen, the append refused for space.
	if err := os.Remove(dir + ".reserve"); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	tmpfstest.Fill(t, filler)
	// Free space is still read while closed (a sweep interval: 1 s here).
	for deadline := time.Now().Add(10 * time.Second); b.Stats().DiskFree >= b.Stats().DiskReserve; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("disk free %d 10 s after the disk was filled, with the engine closed", b.Stats().DiskFree)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Append(ctx, payloadFor(2)); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append with the engine closed on a full disk: %v, want %v", err, ErrDiskFull)
	}
	if engineOpen(b) {
		t.Fatal("the engine was opened on a full disk")
	}
	if st := b.Stats(); st.Dropped[DropDiskFull] != 1 || st.DiskFree >= st.DiskReserve {
		t.Errorf("refused for space %d times, disk free %d (reserve %d); want 1 and below the reserve",
			st.Dropped[DropDiskFull], st.DiskFree, st.DiskReserve)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if seq := appendWithin(t, b, payloadFor(3)); seq != 2 {
		t.Errorf("the first append with room again got %d, want 2", seq)
	}
}

// TestHighWaterMarkBehindEntries: a store whose high-water mark lags its
// entries (a group split over two transactions lost the second to a power
// cut) is corrected at Open, so the numbers are not given again once those
// entries are acked and the store opened again.
func TestHighWaterMarkBehindEntries(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, Options{CloseIdleAfter: -1})
	appendN(t, b, 1, 5)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	o, _ := Options{Logger: quietLogger()}.withDefaults()
	db, err := badger.Open(o.badgerOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set(metaNextKey, be64(3)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	b = open(t, dir, Options{CloseIdleAfter: -1})
	if got := b.NextSeq(); got != 6 {
		t.Fatalf("NextSeq with the mark behind: %d, want 6", got)
	}
	ackAll(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, Options{CloseIdleAfter: -1})
	if got := b.NextSeq(); got != 6 {
		t.Errorf("NextSeq once every entry was acked: %d, want 6 (numbers 3 to 5 given again)", got)
	}
}

// TestOpenUnwritableReleasesLock: an Open refused for an unwritable
// directory does not keep the directory's lock: a second Open gives the
// same reason, not a store in use.
func TestOpenUnwritableReleasesLock(t *testing.T) {
	mnt := tmpfstest.Mount(t, "8m")
	dir := filepath.Join(mnt, "outbox")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("mount", "-o", "remount,rw", mnt).Run() })
	for i := range 2 {
		_, err := Open(dir, Options{Logger: quietLogger()})
		if err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("Open %d of a read-only store: %v, want it not writable", i+1, err)
		}
	}
}

// TestCloseIdleConcurrent: appenders, a publisher and the engine closing
// and opening again in between keep every append, once, in a gap-free
// sequence (run with -race).
func TestCloseIdleConcurrent(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, Options{CloseIdleAfter: time.Millisecond})
	const rounds, writers, each = 5, 4, 25
	seen := map[Seq][]byte{}
	total := 0
	for round := range rounds {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					payload := fmt.Appendf(nil, "r%d-w%d-%d", round, w, i)
					build := func(Seq) ([]byte, error) { return payload, nil }
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					if _, err := b.AppendFunc(ctx, build); err != nil {
						t.Errorf("AppendFunc: %v", err)
					}
					cancel()
				}
			})
		}
		for len(seen) < total+writers*each {
			for _, e := range next(t, b, 100) {
				if _, dup := seen[e.Seq]; dup {
					t.Fatalf("entry %d handed out twice", e.Seq)
				}
				seen[e.Seq] = e.Payload
				_ = b.Ack(e.Seq)
			}
		}
		wg.Wait()
		total += writers * each
		waitEngine(t, b, false)
	}
	for s := Seq(1); s <= Seq(total); s++ {
		if _, ok := seen[s]; !ok {
			t.Fatalf("sequence number %d missing of 1..%d", s, total)
		}
	}
	if b.NextSeq() != Seq(total)+1 {
		t.Errorf("NextSeq %d, want %d", b.NextSeq(), total+1)
	}
	// Closed with its engine closed: the lock goes with it.
	if err := b.Close(); err != nil {
		t.Fatalf("Close with the engine closed for idleness: %v", err)
	}
	if again := open(t, dir, Options{}); again.NextSeq() != Seq(total)+1 {
		t.Errorf("NextSeq after Open %d, want %d", again.NextSeq(), total+1)
	}
}
