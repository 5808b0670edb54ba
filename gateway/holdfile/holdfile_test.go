package holdfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, path string) *File {
	t.Helper()
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// entries returns h's live entries, failing t if they cannot be read.
func entries(t *testing.T, h *File) []Entry {
	t.Helper()
	es, err := h.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func keys(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Data))
	}
	return out
}

// TestReopen: entries added and not done are there after a reopen, in the
// order they were added; done ones are not; keys keep growing.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held")
	h := open(t, path)
	var ks []uint64
	for i := 0; i < 5; i++ {
		k, err := h.Add([]byte(fmt.Sprint("r", i)))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	h.Done(ks[1])
	h.Done(ks[3])
	h.Close()

	h = open(t, path)
	if got := fmt.Sprint(keys(entries(t, h))); got != "[r0 r2 r4]" {
		t.Fatalf("after reopen: %s, want [r0 r2 r4]", got)
	}
	k, err := h.Add([]byte("r5"))
	if err != nil || k <= ks[4] {
		t.Fatalf("new key %d (%v), want more than %d", k, err, ks[4])
	}
	// With nothing live the file is emptied.
	for _, e := range entries(t, h) {
		h.Done(e.Key)
	}
	if st := h.Stats(); st.Live != 0 || st.Bytes != 0 {
		t.Fatalf("nothing live: %+v, want an empty file", st)
	}
	h.Close()
}

// TestRead: Read returns a live entry's data, and ErrNotLive for a key
// done or never added.
func TestRead(t *testing.T) {
	h := open(t, filepath.Join(t.TempDir(), "held"))
	defer h.Close()
	a, _ := h.Add([]byte("a"))
	b, _ := h.Add([]byte("bb"))
	if data, err := h.Read(b); err != nil || string(data) != "bb" {
		t.Fatalf("Read(b) = %q, %v", data, err)
	}
	h.Done(a)
	for _, k := range []uint64{a, b + 1} {
		if data, err := h.Read(k); !errors.Is(err, ErrNotLive) {
			t.Errorf("Read(%d) = %q, %v; want ErrNotLive", k, data, err)
		}
	}
}

// TestReadDamaged: an entry whose frame changed on disk under the open file
// (any field of it) or was cut off reads as ErrDamaged, never as other data.
func TestReadDamaged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset int64 // from the frame's start
		b      []byte
		cut    bool // the file truncated to the frame's start plus offset
	}{
		{name: "op", offset: 0, b: []byte{opDone}},
		{name: "key", offset: 8, b: []byte{0xff}},
		{name: "length", offset: 12, b: []byte{3}},
		{name: "data", offset: header, b: []byte("X")},
		{name: "checksum", offset: header + 2, b: []byte{0}},
		{name: "cut short", offset: header + 1, cut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := open(t, filepath.Join(t.TempDir(), "held"))
			defer h.Close()
			k, err := h.Add([]byte("bb"))
			if err != nil {
				t.Fatal(err)
			}
			start := h.live[k].off - header
			if tc.cut {
				err = h.f.Truncate(start + tc.offset)
			} else {
				_, err = h.f.WriteAt(tc.b, start+tc.offset)
			}
			if err != nil {
				t.Fatal(err)
			}
			if data, err := h.Read(k); !errors.Is(err, ErrDamaged) {
				t.Errorf("Read = %q, %v; want ErrDamaged", data, err)
			}
		})
	}
}

// TestDamagedTail: a frame cut short by a crash (or garbage after it) is
// cut off at Open; the entries before it are kept and later adds follow
// them.
func TestDamagedTail(t *testing.T) {
	for _, tail := range [][]byte{{opAdd, 0, 0}, bytes.Repeat([]byte{0xff}, 40), frame(opAdd, 9, []byte("x"))[:15]} {
		path := filepath.Join(t.TempDir(), "held")
		h := open(t, path)
		h.Add([]byte("kept"))
		h.Close()
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		f.Write(tail)
		f.Close()

		h = open(t, path)
		if st := h.Stats(); st.Damaged != int64(len(tail)) {
			t.Errorf("damaged %d, want %d", st.Damaged, len(tail))
		}
		h.Add([]byte("after"))
		h.Close()
		h = open(t, path)
		if got := fmt.Sprint(keys(entries(t, h))); got != "[kept after]" {
			t.Errorf("tail %x: %s, want [kept after]", tail, got)
		}
		h.Close()
	}
}

// TestCompaction: a file mostly of done entries is rewritten with the live
// ones only.
func TestCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held")
	h := open(t, path)
	first, _ := h.Add([]byte("long-lived"))
	big := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; i < 40; i++ {
		k, err := h.Add(big)
		if err != nil {
			t.Fatal(err)
		}
		h.Done(k)
	}
	if st := h.Stats(); st.Bytes > compactAt+int64(len(big))*2 {
		t.Fatalf("file of %d bytes with one small live entry: not compacted", st.Bytes)
	}
	if data, err := h.Read(first); err != nil || string(data) != "long-lived" {
		t.Fatalf("Read after compaction = %q, %v; want the entry", data, err)
	}
	// Entries are read back from the file: from the rewritten one, also
	// for an entry added after the rewrite.
	if _, err := h.Add([]byte("after")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys(entries(t, h))); got != "[long-lived after]" {
		t.Fatalf("after compaction, before a reopen: %s", got)
	}
	h.Close()
	h = open(t, path)
	if es := entries(t, h); len(es) != 2 || es[0].Key != first || fmt.Sprint(keys(es)) != "[long-lived after]" {
		t.Fatalf("after compaction: %v", keys(es))
	}
	h.Close()
}

// FuzzOpen: any file content opens without panicking, and what it keeps
// survives a reopen unchanged.
func FuzzOpen(f *testing.F) {
	f.Add(frame(opAdd, 1, []byte("a")))
	f.Add(append(frame(opAdd, 1, []byte("a")), frame(opDone, 1, nil)...))
	f.Add([]byte{opAdd, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "held")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(entries(t, h))
		h.Close()
		h, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if got := fmt.Sprint(entries(t, h)); got != want {
			t.Fatalf("reopen changed the entries: %s, want %s", got, want)
		}
	})
}

// TestConcurrentAdds: adds from many goroutines at once (sharing syncs),
// with some done meanwhile and a compaction on the way, are all there
// after a reopen, and no done one is.
func TestConcurrentAdds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held")
	h := open(t, path)
	const beds, each = 32, 40
	big := bytes.Repeat([]byte("x"), 4096) // enough done bytes to compact
	var wg sync.WaitGroup
	kept := make([][]string, beds)
	for b := range beds {
		wg.Go(func() {
			for i := range each {
				data := fmt.Appendf(nil, "bed%d-%d-", b, i)
				if i%2 == 1 {
					data = append(data, big...)
				}
				k, err := h.Add(data)
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 1 {
					if err := h.Done(k); err != nil {
						t.Error(err)
					}
					continue
				}
				kept[b] = append(kept[b], string(data))
			}
		})
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range kept {
		want = append(want, k...)
	}
	got := keys(entries(t, open(t, path)))
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("after reopening: %d entries, want the %d added and not done", len(got), len(want))
	}
}

// TestGroupCommit: Adds written while a sync runs wait for the next one,
// which they share, whether the running one succeeds or fails; a failed
// sync fails exactly the Adds it covered; each waiting Add is woken once.
func TestGroupCommit(t *testing.T) {
	errDisk := errors.New("injected sync failure")
	for _, tc := range []struct {
		name     string
		firstErr error // what the first sync returns
	}{
		{"first sync succeeds", nil},
		{"first sync fails", errDisk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := open(t, filepath.Join(t.TempDir(), "held"))
			defer h.Close()
			release, syncs := holdFirstSync(h, tc.firstErr)
			waitFor := func(what string, cond func() bool) {
				t.Helper()
				waitUntil(t, what, underLock(h, cond))
			}

			first := make(chan error, 1)
			go func() {
				_, err := h.Add([]byte("first"))
				first <- err
			}()
			waitFor("the first sync to start", func() bool { return h.syncing != nil })

			const later = 7
			results := make(chan error, later)
			for i := range later {
				go func() {
					_, err := h.Add(fmt.Appendf(nil, "later %d", i))
					results <- err
				}()
			}
			waitFor("every frame to be written", func() bool { return h.writes == 1+later })
			close(release)

			if err := <-first; !errors.Is(err, tc.firstErr) {
				t.Errorf("the Add the first sync covered returned %v, want %v", err, tc.firstErr)
			}
			for i := range later {
				select {
				case err := <-results:
					if err != nil {
						t.Errorf("an Add written during the first sync returned %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%d of the %d Adds written during the first sync returned: the others wait for a sync nobody runs", i, later)
				}
			}
			if n := syncs(); n != 2 {
				t.Errorf("%d syncs, want 2: the first, and one shared by the %d Adds written during it", n, later)
			}
			h.mu.Lock()
			if h.wakes != later {
				t.Errorf("waiting Adds were woken %d times, want %d: each once (one of them to run the second sync)", h.wakes, later)
			}
			h.mu.Unlock()
			want := later
			if tc.firstErr == nil {
				want++
			}
			if got := h.Stats().Live; got != want {
				t.Errorf("%d live entries, want %d", got, want)
			}
		})
	}
}

// TestGroupCommitCompaction: Adds waiting for the next sync while a
// compaction (which leaves only synced data) covers them all return, though
// no further sync runs: none is left waiting for a sync nobody will run.
func TestGroupCommitCompaction(t *testing.T) {
	h := open(t, filepath.Join(t.TempDir(), "held"))
	defer h.Close()
	// Enough dead data that the next Done compacts the file.
	var big []uint64
	for range 5 {
		k, err := h.Add(bytes.Repeat([]byte("x"), compactAt/3))
		if err != nil {
			t.Fatal(err)
		}
		big = append(big, k)
	}
	for _, k := range big[:3] {
		if err := h.Done(k); err != nil {
			t.Fatal(err)
		}
	}
	release, syncs := holdFirstSync(h, nil)
	results := make(chan error, 4)
	go func() {
		_, err := h.Add([]byte("first"))
		results <- err
	}()
	waitUntil(t, "the first sync to start", underLock(h, func() bool { return h.syncing != nil }))
	const later = 3
	for i := range later {
		go func() {
			_, err := h.Add(fmt.Appendf(nil, "later %d", i))
			results <- err
		}()
	}
	waitUntil(t, "the later Adds to wait for the next sync", func() bool { return waitingInSelect() == later })
	if err := h.Done(big[3]); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Bytes >= compactAt {
		t.Fatalf("the file was not compacted (%d bytes)", st.Bytes)
	}
	close(release)
	for i := range 1 + later {
		select {
		case err := <-results:
			if err != nil {
				t.Errorf("Add: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d Adds returned: the others wait for a sync nobody runs", i, 1+later)
		}
	}
	if n := syncs(); n != 1 {
		t.Errorf("%d syncs, want 1: the compaction covered the later Adds", n)
	}
}

// waitingInSelect counts the goroutines waiting in syncThrough's select:
// Adds waiting for the next sync.
func waitingInSelect() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, "holdfile.(*File).syncThrough") {
			n++
		}
	}
	return n
}

// waitUntil polls cond until it holds, failing the test after 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// holdFirstSync makes h's first sync wait until release is closed and then
// fail with err (nil: sync); syncs counts the syncs begun.
func holdFirstSync(h *File, err error) (release chan struct{}, syncs func() int) {
	release = make(chan struct{})
	var mu sync.Mutex
	n := 0
	h.sync = func(f *os.File) error {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			<-release
			if err != nil {
				return err
			}
		}
		return f.Sync()
	}
	return release, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// underLock is cond evaluated with h's mutex held.
func underLock(h *File, cond func() bool) func() bool {
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return cond()
	}
}
