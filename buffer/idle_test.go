package buffer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// engineOpen reports whether b's storage engine is open.
func engineOpen(b *Buffer) bool {
	b.dbMu.RLock()
	defer b.dbMu.RUnlock()
	return b.db != nil
}

// waitEngine waits up to 5 s for b's engine to be open (or closed).
func waitEngine(t *testing.T, b *Buffer, open bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for engineOpen(b) != open {
		if time.Now().After(deadline) {
			t.Fatalf("the storage engine is not %s after 5 s", map[bool]string{true: "open", false: "closed"}[open])
		}
		time.Sleep(5 * time.Millisecond)
	}
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
		wantSeqs(t, fmt.Sprintf("round %d Append", round), appendN(t, b, from, 3), seqRange(Seq(from), Seq(from+2)))
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
		b.mu.Lock()
		got := b.emptyLocked()
		b.mu.Unlock()
		if got != c.want {
			t.Errorf("%s: empty %v, want %v", c.name, got, c.want)
		}
	}
	b.signal() // the deletions are written at the next round
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		empty := b.emptyLocked()
		b.mu.Unlock()
		if empty {
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
// engine was closed (here, entries written into it directly) is not
// numbered again: the append fails with the reason, and works again once
// the store is as the Buffer left it.
func TestCloseIdleStoreChanged(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, Options{CloseIdleAfter: 10 * time.Millisecond})
	appendN(t, b, 1, 1)
	ackAll(t, b)
	waitEngine(t, b, false)

	// Another writer, bypassing the lock the Buffer holds.
	o, _ := Options{Logger: quietLogger()}.withDefaults()
	db, err := badger.Open(o.badgerOptions(dir).WithBypassLockGuard(true))
	if err != nil {
		t.Fatal(err)
	}
	put := func(key []byte, value []byte) {
		t.Helper()
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
			t.Fatal(err)
		}
	}
	put(seqKey(entryPrefix, 2), encodeValue(time.Now(), 0, []byte("not the buffer's")))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = b.Append(context.Background(), payloadFor(2))
	if !errors.Is(err, errStoreChanged) {
		t.Fatalf("Append to a store changed while closed: %v, want %v", err, errStoreChanged)
	}
	if engineOpen(b) {
		t.Fatal("the engine is open on a store that changed")
	}
	if st := b.Stats(); st.Appended != 1 || st.NextSeq != 2 {
		t.Errorf("after the refused append: appended %d, next %d; want 1 and 2", st.Appended, st.NextSeq)
	}

	db, err = badger.Open(o.badgerOptions(dir).WithBypassLockGuard(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Delete(seqKey(entryPrefix, 2)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if seq, err := b.Append(context.Background(), payloadFor(2)); err != nil || seq != 2 {
		t.Fatalf("Append once the store is as it was: %d, %v; want 2", seq, err)
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
					if _, err := b.AppendFunc(context.Background(), build); err != nil {
						t.Errorf("AppendFunc: %v", err)
					}
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
