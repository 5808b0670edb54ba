package buffer

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer/tmpfstest"
	"github.com/dgraph-io/badger/v4"
)

// fillUntilRefused appends 2000-byte payloads until the disk guard has
// refused refusals of them (the engine may give space back in between, so
// some later ones may be stored). It returns the seqs stored.
func fillUntilRefused(t *testing.T, b *Buffer, refusals int) []Seq {
	t.Helper()
	payload := make([]byte, 2000)
	var stored []Seq
	for refused := 0; refused < refusals; {
		s, err := b.Append(context.Background(), payload)
		switch {
		case errors.Is(err, ErrDiskFull):
			refused++
		case err != nil:
			t.Fatalf("Append %d: %v", len(stored)+1, err)
		default:
			stored = append(stored, s)
		}
		if len(stored) > 100000 {
			t.Fatal("100000 appends of 2000 bytes fitted on the small filesystem: the guard never refused")
		}
	}
	return stored
}

// drainAll takes and acks every ready entry, returning their seqs in order.
func drainAll(t *testing.T, b *Buffer) []Seq {
	t.Helper()
	got := seqsOf(drain(t, b))
	if err := b.Ack(got...); err != nil {
		t.Fatal(err)
	}
	return got
}

// waitAccepting appends until the disk guard accepts again (the store gave
// the space of the acknowledged entries back), with a deadline. It returns
// the seq stored and how many appends were refused before it.
func waitAccepting(t *testing.T, b *Buffer, within time.Duration) (Seq, uint64) {
	t.Helper()
	deadline := time.Now().Add(within)
	for refused := uint64(0); ; refused++ {
		s, err := b.Append(context.Background(), make([]byte, 2000))
		if err == nil {
			return s, refused
		}
		if !errors.Is(err, ErrDiskFull) || time.Now().After(deadline) {
			t.Fatalf("appends still refused %v after the backlog was acknowledged: %v (stats %+v)", within, err, b.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDiskFullOnTmpfs fills a real 8 MiB tmpfs with appends while nothing is
// acknowledged (the broker is down): the guard refuses appends, counted and
// logged, before the storage engine can run out of space (it would die of
// SIGBUS), every stored entry is then delivered in order, and once they are
// acknowledged the space comes back and appends are accepted again. Three
// rounds.
func TestDiskFullOnTmpfs(t *testing.T) {
	mnt := tmpfstest.Mount(t, "8m")
	rec := &recorder{}
	b := open(t, filepath.Join(mnt, "outbox"), Options{Logger: slog.New(rec)})
	if s := b.Stats(); s.DiskReserve != 3<<20 {
		t.Fatalf("DiskReserve on an 8 MiB filesystem = %d, want 3 MiB", s.DiskReserve)
	}
	var refused uint64
	for round := 1; round <= 3; round++ {
		stored := fillUntilRefused(t, b, 50)
		refused += 50
		s := b.Stats()
		if s.Dropped[DropDiskFull] != refused {
			t.Fatalf("round %d: Dropped[%s] = %d, want %d", round, DropDiskFull, s.Dropped[DropDiskFull], refused)
		}
		t.Logf("round %d: %d entries stored (%d bytes), %d refused, %d bytes free", round, len(stored), s.Bytes, s.Dropped[DropDiskFull], s.DiskFree)
		if len(stored) < 250 {
			t.Fatalf("round %d: only %d entries of 2000 bytes fitted on 8 MiB", round, len(stored))
		}
		wantSeqs(t, "delivered", drainAll(t, b), stored)
		waitFree(t, b, s.DiskReserve+(1<<20), 10*time.Second)
		extra, n := waitAccepting(t, b, 30*time.Second)
		refused += n
		wantSeqs(t, "after the drain", drainAll(t, b), []Seq{extra})
	}
	if rec.count(slog.LevelWarn, "buffer: disk nearly full, refusing new entries") == 0 {
		t.Error("refusals were not logged")
	}
	if n := rec.count(slog.LevelWarn, "buffer: disk nearly full, refusing new entries"); n > 3 {
		t.Errorf("refusal logged %d times in three rounds, want at most one a round (rate-limited)", n)
	}
}

// TestOpenOnFullDisk: a store whose filesystem is then filled to the last
// block by something else opens (the reserve file is released), delivers
// everything, and gives the space back as the entries are acknowledged.
func TestOpenOnFullDisk(t *testing.T) {
	mnt := tmpfstest.Mount(t, "8m")
	dir := filepath.Join(mnt, "outbox")
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	stored := fillUntilRefused(t, b, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + ".reserve"); err != nil {
		t.Fatalf("no reserve file beside the store: %v", err)
	}
	tmpfstest.Fill(t, filepath.Join(mnt, "filler"))

	rec := &recorder{}
	b = open(t, dir, Options{Logger: slog.New(rec)})
	if rec.count(slog.LevelWarn, "buffer: disk nearly full at open; released the reserve file so the store can open and drain") != 1 {
		t.Error("the release of the reserve file was not logged")
	}
	if _, err := b.Append(context.Background(), []byte("on a full disk")); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append on a full disk: %v, want ErrDiskFull", err)
	}
	before := b.space.free()
	wantSeqs(t, "delivered after opening on a full disk", drainAll(t, b), stored)
	waitFree(t, b, before+int64(len(stored))*2000/2, 30*time.Second)
	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	s, _ := waitAccepting(t, b, 30*time.Second)
	if want := stored[len(stored)-1] + 1; s != want {
		t.Fatalf("first append after the drain got seq %d, want %d", s, want)
	}
}

// waitFree waits until the store's filesystem has at least want bytes free.
func waitFree(t *testing.T, b *Buffer, want int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for b.space.free() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes free %v after the backlog was acknowledged, want %d: no space given back", b.space.free(), within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFreeSpaceReadingsServeOnlyWithPlentyOfRoom: with plenty of room a
// reading of free space serves for cacheFor; near the reserve, and after
// the reserve file changed, every look reads the filesystem.
func TestFreeSpaceReadingsServeOnlyWithPlentyOfRoom(t *testing.T) {
	const reserve = 1 << 20
	cases := []struct {
		name      string
		free      int64
		forget    bool
		wantReads int
	}{
		{"plenty of room", 64 * plentyOfRoom * reserve, false, 1},
		{"near the reserve", 4 * reserve, false, 3},
		{"reserve file changed", 64 * plentyOfRoom * reserve, true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			s := &space{dir: t.TempDir(), reserve: reserve, ballastSize: reserve, cacheFor: time.Hour,
				statfs: func(string) (int64, int64, error) { reads++; return tc.free, 1 << 40, nil }}
			for range 3 {
				if got := s.free(); got != tc.free {
					t.Fatalf("free = %d, want %d", got, tc.free)
				}
				if tc.forget {
					s.forget()
				}
			}
			if reads != tc.wantReads {
				t.Errorf("%d statfs calls for 3 looks, want %d", reads, tc.wantReads)
			}
		})
	}
}

// TestSecondOpenKeepsReserveFile: a second Open of a store in use, on a
// disk something else filled, is refused before it touches anything: the
// running Buffer's reserve file stays.
func TestSecondOpenKeepsReserveFile(t *testing.T) {
	mnt := tmpfstest.Mount(t, "16m")
	dir := filepath.Join(mnt, "outbox")
	b := open(t, dir, Options{CloseIdleAfter: -1})
	appendWithin(t, b, payloadFor(1))
	if _, err := os.Stat(dir + ".reserve"); err != nil {
		t.Fatalf("no reserve file after the first commit: %v", err)
	}
	tmpfstest.Fill(t, filepath.Join(mnt, "filler"))
	if _, err := Open(dir, Options{Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v, want the store in use", err)
	}
	if _, err := os.Stat(dir + ".reserve"); err != nil {
		t.Errorf("the second Open removed the running store's reserve file: %v", err)
	}
}

// TestOpenFullDiskWithoutReserveFile: a store whose disk was filled to the
// last block while its reserve file did not exist is not opened (the
// engine would touch its memory-mapped log with no block for it and the
// process die of SIGBUS): Open says the disk is full, and opens it once
// there is room, every entry kept.
func TestOpenFullDiskWithoutReserveFile(t *testing.T) {
	mnt := tmpfstest.Mount(t, "16m")
	dir := filepath.Join(mnt, "outbox")
	b := open(t, dir, Options{CloseIdleAfter: -1})
	appendWithin(t, b, payloadFor(1))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir + ".reserve"); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	filler := filepath.Join(mnt, "filler")
	tmpfstest.Fill(t, filler)
	_, err := Open(dir, Options{Logger: quietLogger()})
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("Open on a full disk: %v, want %v saying the disk is full", err, ErrDiskFull)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, Options{})
	wantSeqs(t, "kept", seqsOf(drain(t, b)), []Seq{1})
}

// TestSalvageLeavesNoLock: an Open that moves an unreadable store aside and
// salvages it keeps one lock, the fresh store's, and Close releases it.
func TestSalvageLeavesNoLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	b := open(t, dir, Options{CloseIdleAfter: -1})
	appendN(t, b, 1, 3)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, dir, func(txn *badger.Txn) error { return txn.Set(metaFormatKey, []byte("not ours")) })
	before := openFiles(t)
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	aside := b.Stats().RecoveredFrom
	if aside == "" {
		t.Fatal("the unreadable store was not salvaged")
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == aside {
			t.Errorf("descriptor %s still holds the moved store %s (its lock)", fd.Name(), aside)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if after := openFiles(t); after != before {
		t.Errorf("open files %d before the salvaging Open, %d after its Close", before, after)
	}
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files here: %v", err)
	}
	return len(fds)
}
