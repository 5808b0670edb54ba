package buffer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestAppendNextAck(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	seqs := appendN(t, b, 1, 5)
	wantSeqs(t, "Append", seqs, seqRange(1, 5))

	es := next(t, b, 10)
	wantSeqs(t, "Next", seqsOf(es), seqRange(1, 5))
	for i, e := range es {
		if want := payloadFor(i + 1); !bytes.Equal(e.Payload, want) {
			t.Errorf("entry %d payload %q, want %q", e.Seq, e.Payload, want)
		}
		if e.Appended.IsZero() {
			t.Errorf("entry %d has no append time", e.Seq)
		}
	}
	if s := b.Stats(); s.Entries != 5 || s.InFlight != 5 || s.Appended != 5 || s.NextSeq != 6 {
		t.Fatalf("Stats after Next = %+v, want 5 entries, 5 in flight, 5 appended, next seq 6", s)
	}
	// The payload is the caller's: changing it changes nothing stored.
	es[0].Payload[0] = 'X'

	if err := b.Ack(2, 4); err != nil {
		t.Fatal(err)
	}
	if err := b.Ack(2, 4, 99); err != nil {
		t.Fatalf("acking again: %v", err)
	}
	b.Release(1, 3, 5)
	es = next(t, b, 10)
	wantSeqs(t, "Next after ack and release", seqsOf(es), []Seq{1, 3, 5})
	if !bytes.Equal(es[0].Payload, payloadFor(1)) {
		t.Fatalf("payload after caller modified its copy: %q", es[0].Payload)
	}
	if err := b.Ack(1, 3, 5); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Entries != 0 || s.Bytes != 0 || s.InFlight != 0 || s.Acked != 5 || s.OldestAge != 0 {
		t.Fatalf("Stats after acking all = %+v", s)
	}
}

func TestAppendCopiesPayload(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	p := []byte("original")
	if _, err := b.Append(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	copy(p, "XXXXXXXX")
	if got := next(t, b, 1)[0].Payload; string(got) != "original" {
		t.Fatalf("stored payload %q changed with the caller's slice", got)
	}
}

func TestReleaseOrdering(t *testing.T) {
	// Each case appends entries 1..6, runs its steps, then takes everything
	// that is ready.
	type step struct {
		next    int   // Next(next) when > 0, expecting want
		want    []Seq //
		ack     []Seq
		release []Seq
		all     bool // ReleaseAll
	}
	tests := []struct {
		name  string
		steps []step
		final []Seq
	}{
		{"released entry goes before later ones", []step{
			{next: 2, want: []Seq{1, 2}}, {next: 2, want: []Seq{3, 4}}, {release: []Seq{3}},
		}, []Seq{3, 5, 6}},
		{"release all restores full order", []step{
			{next: 3, want: []Seq{1, 2, 3}}, {next: 3, want: []Seq{4, 5, 6}}, {all: true},
		}, []Seq{1, 2, 3, 4, 5, 6}},
		{"releases in any order come back sorted", []step{
			{next: 6, want: seqRange(1, 6)}, {release: []Seq{5}}, {release: []Seq{2}}, {release: []Seq{4}},
		}, []Seq{2, 4, 5}},
		{"release of an acked entry is ignored", []step{
			{next: 2, want: []Seq{1, 2}}, {ack: []Seq{1}}, {release: []Seq{1, 2}},
		}, []Seq{2, 3, 4, 5, 6}},
		{"release of a ready entry is ignored", []step{
			{release: []Seq{1, 2}}, {next: 1, want: []Seq{1}},
		}, []Seq{2, 3, 4, 5, 6}},
		{"ack of a ready entry removes it", []step{
			{ack: []Seq{3}},
		}, []Seq{1, 2, 4, 5, 6}},
		{"release then ack in flight", []step{
			{next: 4, want: seqRange(1, 4)}, {release: []Seq{2, 3}}, {ack: []Seq{1, 4}},
		}, []Seq{2, 3, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, t.TempDir(), Options{})
			appendN(t, b, 1, 6)
			for i, s := range tt.steps {
				switch {
				case s.next > 0:
					wantSeqs(t, fmt.Sprintf("step %d Next", i), seqsOf(next(t, b, s.next)), s.want)
				case s.ack != nil:
					if err := b.Ack(s.ack...); err != nil {
						t.Fatal(err)
					}
				case s.release != nil:
					b.Release(s.release...)
				case s.all:
					b.ReleaseAll()
				}
			}
			wantSeqs(t, "final", seqsOf(drain(t, b)), tt.final)
		})
	}
}

func TestReopenKeepsUnackedInOrder(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, Options{})
	appendN(t, b, 1, 10)
	next(t, b, 4) // in flight at close: must come back after reopen
	if err := b.Ack(1, 2, 3, 7); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = open(t, dir, Options{})
	if s := b.Stats(); s.Entries != 6 || s.NextSeq != 11 || s.InFlight != 0 {
		t.Fatalf("Stats after reopen = %+v, want 6 entries, next seq 11", s)
	}
	es := drain(t, b)
	wantSeqs(t, "after reopen", seqsOf(es), []Seq{4, 5, 6, 8, 9, 10})
	for _, e := range es {
		if want := payloadFor(int(e.Seq)); !bytes.Equal(e.Payload, want) {
			t.Errorf("entry %d payload %q, want %q", e.Seq, e.Payload, want)
		}
	}
	wantSeqs(t, "append after reopen", appendN(t, b, 11, 1), []Seq{11})
}

func TestReopenAfterEverythingAckedContinuesSeq(t *testing.T) {
	dir := t.TempDir()
	for round := range 3 {
		b := open(t, dir, Options{})
		first := Seq(round*5 + 1)
		if got := b.Stats().NextSeq; got != first {
			t.Fatalf("round %d: NextSeq %d, want %d", round, got, first)
		}
		wantSeqs(t, "append", appendN(t, b, int(first), 5), seqRange(first, first+4))
		if err := b.Ack(seqsOf(next(t, b, 10))...); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentAppendsGetContiguousSeqs(t *testing.T) {
	const writers, each = 16, 40
	b := open(t, t.TempDir(), Options{})
	var mu sync.Mutex
	bySeq := map[Seq]string{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p := fmt.Sprintf("w%02d-%03d", w, i)
				s, err := b.Append(context.Background(), []byte(p))
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				if prev, dup := bySeq[s]; dup {
					t.Errorf("seq %d given to %q and %q", s, prev, p)
				}
				bySeq[s] = p
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := slices.Sorted(func(yield func(Seq) bool) {
		for s := range bySeq {
			if !yield(s) {
				return
			}
		}
	})
	wantSeqs(t, "appended", got, seqRange(1, writers*each))

	s := b.Stats()
	if s.Syncs == 0 || s.Syncs >= s.Appended {
		t.Errorf("%d appends took %d syncs; concurrent appends should share syncs", s.Appended, s.Syncs)
	}
	for _, e := range drain(t, b) {
		if string(e.Payload) != bySeq[e.Seq] {
			t.Errorf("entry %d payload %q, want %q", e.Seq, e.Payload, bySeq[e.Seq])
		}
	}
}

func TestNextBlocksUntilAppend(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	got := make(chan []Entry, 1)
	go func() {
		es, err := b.Next(context.Background(), 10)
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		got <- es
	}()
	select {
	case es := <-got:
		t.Fatalf("Next returned %v from an empty buffer", seqsOf(es))
	case <-time.After(20 * time.Millisecond):
	}
	appendN(t, b, 1, 1)
	select {
	case es := <-got:
		wantSeqs(t, "woken Next", seqsOf(es), []Seq{1})
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake after Append")
	}
}

func TestNextWakesOnRelease(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	appendN(t, b, 1, 2)
	next(t, b, 2)
	got := make(chan []Entry, 1)
	go func() {
		es, err := b.Next(context.Background(), 10)
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		got <- es
	}()
	b.Release(2)
	select {
	case es := <-got:
		wantSeqs(t, "woken Next", seqsOf(es), []Seq{2})
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake after Release")
	}
}

func TestNextHonoursContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled while waiting", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, context.DeadlineExceeded},
		{"already cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	}
	b := open(t, t.TempDir(), Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			if _, err := b.Next(ctx, 1); !errors.Is(err, tt.want) {
				t.Fatalf("Next = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppendWithCancelledContextStoresNothing(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append = %v, want context.Canceled", err)
	}
	if s := b.Stats(); s.Appended != 0 || s.NextSeq != 1 {
		t.Fatalf("Stats = %+v, want nothing appended", s)
	}
}

func TestAppendAbandonedWaitStillStores(t *testing.T) {
	// A long window keeps the group open; the caller gives up, the write
	// does not.
	b := open(t, t.TempDir(), Options{SyncWindow: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := b.Append(ctx, []byte("late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append = %v, want context.DeadlineExceeded", err)
	}
	es := next(t, b, 1)
	if len(es) != 1 || string(es[0].Payload) != "late" {
		t.Fatalf("Next = %v, want the abandoned append", es)
	}
}

func TestCloseIsIdempotentAndUnblocksNext(t *testing.T) {
	b := open(t, t.TempDir(), Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := b.Next(context.Background(), 1)
		errc <- err
	}()
	select { // an empty buffer's Next blocks, so it is waiting when Close comes
	case err := <-errc:
		t.Fatalf("Next on an empty buffer returned %v before Close", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := b.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked Next returned %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Close", b.Close},
		{"Append", func() error { _, err := b.Append(context.Background(), []byte("x")); return err }},
		{"Next", func() error { _, err := b.Next(context.Background(), 1); return err }},
		{"Ack", func() error { return b.Ack(1) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, err)
		}
	}
	b.Release(1)
	b.ReleaseAll()
	_ = b.Stats()
}

func TestFullDropsOldest(t *testing.T) {
	// Payloads of 30 bytes under a 100-byte bound: three fit.
	p := func(i int) []byte { return fmt.Appendf(nil, "%030d", i) }
	tests := []struct {
		name         string
		takeFirst    int // entries moved in flight before the fourth Append
		wantDropped  uint64
		wantRemain   []Seq // all stored entries after the fourth Append
		wantReady    []Seq // what Next hands out afterwards
		wantInFlight int64
	}{
		{"oldest ready entry goes", 0, 1, []Seq{2, 3, 4}, []Seq{2, 3, 4}, 0},
		{"in-flight entries are spared while others can go", 2, 1, []Seq{1, 2, 4}, []Seq{4}, 2},
		{"in-flight entries go when nothing else can", 3, 1, []Seq{2, 3, 4}, []Seq{4}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			dir := t.TempDir()
			b := open(t, dir, Options{MaxBytes: 100, Logger: slog.New(rec)})
			for i := 1; i <= 3; i++ {
				if _, err := b.Append(context.Background(), p(i)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.takeFirst > 0 {
				next(t, b, tt.takeFirst)
			}
			if s, err := b.Append(context.Background(), p(4)); err != nil || s != 4 {
				t.Fatalf("fourth Append = %d, %v", s, err)
			}
			s := b.Stats()
			if s.Dropped[DropFull] != tt.wantDropped || s.Entries != int64(len(tt.wantRemain)) || s.Bytes != 90 || s.InFlight != tt.wantInFlight {
				t.Fatalf("Stats = %+v, want %d dropped, %d entries of 90 bytes, %d in flight", s, tt.wantDropped, len(tt.wantRemain), tt.wantInFlight)
			}
			if n := rec.count(slog.LevelWarn, "buffer: full, dropped oldest entries"); n != 1 {
				t.Errorf("%d full warnings logged, want 1", n)
			}
			wantSeqs(t, "ready after drop", seqsOf(drain(t, b)), tt.wantReady)
			// Acking a dropped entry is harmless.
			if err := b.Ack(1, 2, 3); err != nil {
				t.Fatal(err)
			}
			// The drop reached the disk.
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			b = open(t, dir, Options{MaxBytes: 100})
			got := seqsOf(drain(t, b))
			want := slices.DeleteFunc(slices.Clone(tt.wantRemain), func(s Seq) bool { return s <= 3 })
			wantSeqs(t, "after reopen", got, want)
		})
	}
}

func TestPayloadLargerThanMaxBytesIsRefused(t *testing.T) {
	b := open(t, t.TempDir(), Options{MaxBytes: 64})
	appendN(t, b, 1, 2)
	if _, err := b.Append(context.Background(), make([]byte, 65)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append(65 bytes) = %v, want ErrFull", err)
	}
	if s := b.Stats(); s.Entries != 2 || s.Dropped[DropFull] != 0 {
		t.Fatalf("Stats = %+v: a refused append must not drop anything", s)
	}
	if _, err := b.Append(context.Background(), make([]byte, 64)); err != nil {
		t.Fatalf("Append(64 bytes) = %v, want it to fit after dropping", err)
	}
}

func TestAgeExpiry(t *testing.T) {
	clk := newClock()
	rec := &recorder{}
	dir := t.TempDir()
	b := open(t, dir, Options{MaxAge: time.Hour, Now: clk.Now, Uptime: clk.Uptime, Logger: slog.New(rec)})
	appendN(t, b, 1, 3)
	wantSeqs(t, "in flight", seqsOf(next(t, b, 1)), []Seq{1})
	clk.Advance(30 * time.Minute)
	appendN(t, b, 4, 1)
	if got := b.Stats().OldestAge; got != 30*time.Minute {
		t.Fatalf("OldestAge = %v, want 30m", got)
	}
	clk.Advance(45 * time.Minute) // 1..3 are 75 min old, 4 is 45 min old

	wantSeqs(t, "after expiry", seqsOf(next(t, b, 10)), []Seq{4})
	s := b.Stats()
	if s.Dropped[DropAge] != 2 || s.Entries != 2 || s.InFlight != 2 {
		t.Fatalf("Stats = %+v, want 2 dropped by age (entry 1 is in flight), 2 entries", s)
	}
	if rec.count(slog.LevelWarn, "buffer: dropped entries older than MaxAge") == 0 {
		t.Error("age drop not logged")
	}
	// Once released, the old in-flight entry expires too.
	b.Release(1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if es, err := b.Next(ctx, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, %v; want no entries", seqsOf(es), err)
	}
	if got := b.Stats().Dropped[DropAge]; got != 3 {
		t.Fatalf("Dropped[age] = %d, want 3", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, Options{MaxAge: time.Hour, Now: clk.Now, Uptime: clk.Uptime})
	wantSeqs(t, "after reopen", seqsOf(drain(t, b)), []Seq{4})
}

func TestAgeExpiryOnAppend(t *testing.T) {
	clk := newClock()
	b := open(t, t.TempDir(), Options{MaxAge: time.Minute, Now: clk.Now, Uptime: clk.Uptime})
	appendN(t, b, 1, 3)
	clk.Advance(2 * time.Minute)
	appendN(t, b, 4, 1)
	if s := b.Stats(); s.Dropped[DropAge] != 3 || s.Entries != 1 {
		t.Fatalf("Stats = %+v, want the three old entries dropped by the append", s)
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"negative MaxBytes", Options{MaxBytes: -1}},
		{"negative MaxAge", Options{MaxAge: -time.Second}},
		{"negative GCInterval", Options{GCInterval: -time.Second}},
		{"tiny MemTableSize", Options{MemTableSize: 1000}},
		{"tiny ValueLogFileSize", Options{ValueLogFileSize: 1000}},
		{"huge ValueLogFileSize", Options{ValueLogFileSize: 2 << 30}},
		{"negative BlockCacheSize", Options{BlockCacheSize: -1}},
		{"InlineValueLimit above engine ceiling", Options{InlineValueLimit: 2 << 20}},
		{"InlineValueLimit too big for MemTableSize", Options{MemTableSize: 2 << 20, InlineValueLimit: 1 << 20}},
		{"GCDiscardRatio of 1", Options{GCDiscardRatio: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir() + "/store"
			b, err := Open(dir, tt.o)
			if err == nil {
				b.Close()
				t.Fatal("Open accepted invalid options")
			}
			if _, statErr := os.Stat(dir); statErr == nil {
				t.Error("Open touched the disk before rejecting the options")
			}
		})
	}
}

func TestAgeExpiryInBackground(t *testing.T) {
	// With a 2 s MaxAge the sweep runs every second; nothing but the sweep
	// touches the buffer after the clock moves.
	clk := newClock()
	b := open(t, t.TempDir(), Options{MaxAge: 2 * time.Second, Now: clk.Now, Uptime: clk.Uptime})
	appendN(t, b, 1, 3)
	clk.Advance(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().Dropped[DropAge] != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("background sweep did not expire entries: %+v", b.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := b.Stats(); s.Entries != 0 || s.Bytes != 0 {
		t.Fatalf("Stats after sweep = %+v", s)
	}
}

// TestBeforeWriteRunsOncePerGroupOfAppends: BeforeWrite runs before each
// group of appends is written (an append returns after it), once per
// group, and not for deletions alone.
func TestBeforeWriteRunsOncePerGroupOfAppends(t *testing.T) {
	var calls, appendsReturned atomic.Int64
	var early atomic.Bool // an append returned before a BeforeWrite covering it
	var late atomic.Bool  // a BeforeWrite ran after its group was written
	var b *Buffer
	b = open(t, t.TempDir(), Options{BeforeWrite: func() {
		// The n-th call comes before the n-th group is written (and
		// counted in Stats.Syncs).
		if n := calls.Add(1); b.Stats().Syncs != uint64(n-1) {
			late.Store(true)
		}
	}})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			before := calls.Load()
			if _, err := b.Append(context.Background(), payloadFor(i)); err != nil {
				t.Error(err)
			}
			if calls.Load() == before {
				early.Store(true)
			}
			appendsReturned.Add(1)
		})
	}
	wg.Wait()
	if early.Load() {
		t.Error("an append returned without a BeforeWrite after it was made")
	}
	if late.Load() {
		t.Error("a BeforeWrite ran after its group was written")
	}
	st := b.Stats()
	if got := uint64(calls.Load()); got != st.Syncs {
		t.Errorf("BeforeWrite ran %d times for %d groups of appends", got, st.Syncs)
	}
	// Deletions alone: acknowledged entries are deleted by the committer
	// without a BeforeWrite. The committer is one goroutine: once the
	// deletions are taken, the next append's group comes after them.
	es := next(t, b, 100)
	called := calls.Load()
	if err := b.Ack(seqsOf(es)...); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pendingDeletes(b) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the acknowledged entries were not deleted within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := b.Append(context.Background(), payloadFor(99)); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load() - called; got != 1 {
		t.Errorf("BeforeWrite ran %d times for deletions and one append, want 1", got)
	}
}

// pendingDeletes returns how many acknowledged entries wait to be deleted.
func pendingDeletes(b *Buffer) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.deletes)
}

// TestAckedDeletionsReachDiskUnprompted acks entries and appends nothing
// more: the deletions are written deleteFlush later, and then the flush
// timer stops rather than waking the committer on and on.
func TestAckedDeletionsReachDiskUnprompted(t *testing.T) {
	b := open(t, t.TempDir(), Options{CloseIdleAfter: -1})
	seqs := appendN(t, b, 1, 3)
	if err := b.Ack(seqs...); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return storedEntries(t, b) == 0 && !flushTimerArmed(b) }, func() string {
		return fmt.Sprintf("20 s after the ack: %d acked entries still in the engine, flush timer armed %v; want 0 and false",
			storedEntries(t, b), flushTimerArmed(b))
	})
}

// TestDeletionsRideWithTheNextGroup: deletions pending when entries are
// appended are written with them, and the flush timer armed for them
// stops, so that a steady ward's acks cost no write of their own.
func TestDeletionsRideWithTheNextGroup(t *testing.T) {
	b := open(t, t.TempDir(), Options{CloseIdleAfter: -1})
	if err := b.Ack(appendN(t, b, 1, 3)...); err != nil {
		t.Fatal(err)
	}
	if !flushTimerArmed(b) {
		t.Fatal("an ack left deletions pending without arming the flush timer")
	}
	appendN(t, b, 4, 1)
	if n := storedEntries(t, b); n != 1 {
		t.Errorf("after the next append: %d entries in the engine, want 1 (the deletions written with it)", n)
	}
	// The committer stops the timer just after answering that append, and
	// takes the next one only after that: once it is answered, the timer
	// must be stopped (no wait, no deadline).
	appendN(t, b, 5, 1)
	if flushTimerArmed(b) {
		t.Error("the flush timer is still armed after the deletions were written with the next group")
	}
}

// storedEntries counts the entries in b's engine.
func storedEntries(t *testing.T, b *Buffer) int {
	t.Helper()
	n := 0
	err := b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{entryPrefix}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// flushTimerArmed reports whether b's deletion flush timer is running.
func flushTimerArmed(b *Buffer) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushArmed
}
