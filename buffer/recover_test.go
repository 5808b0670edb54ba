package buffer

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// makeStore writes a small buffer store in dir and closes it.
func makeStore(t *testing.T, dir string) {
	t.Helper()
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, b, 1, 3)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawUpdate opens dir as a plain Badger database and applies fn.
func rawUpdate(t *testing.T, dir string, fn func(*badger.Txn) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithMemTableSize(8 << 20))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// truncate cuts the file at path to the given fraction of its length.
func truncate(t *testing.T, path string, keep float64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(float64(fi.Size())*keep)); err != nil {
		t.Fatal(err)
	}
}

// salvageStore46 writes the store of the issue: 50 entries of 1000 bytes,
// the first 4 acknowledged, 46 stored; it returns their payloads by seq and
// the store's incarnation.
func salvageStore46(t *testing.T, dir string) (map[Seq][]byte, string) {
	t.Helper()
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[Seq][]byte)
	for i := 1; i <= 50; i++ {
		p := append(payloadFor(i), bytes.Repeat([]byte{byte('a' + i%26)}, 986)...)
		s, err := b.Append(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		want[s] = p
	}
	for _, e := range next(t, b, 4) {
		if err := b.Ack(e.Seq); err != nil {
			t.Fatal(err)
		}
		delete(want, e.Seq)
	}
	inc := b.Incarnation()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return want, inc
}

// damageTable applies f to the store's only table file.
func damageTable(f func(t *testing.T, path string)) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
		if len(tables) != 1 {
			t.Fatalf("store has tables %v, want one", tables)
		}
		f(t, tables[0])
	}
}

// TestSalvage damages a store of 46 entries in each way the issue names and
// more: every entry still readable is recovered under its own sequence
// number with its payload unchanged, and every other one is counted
// (unreadable or missing); nothing is lost silently. The fresh store has a
// new incarnation and continues the sequence.
func TestSalvage(t *testing.T) {
	const stored = 46
	tests := []struct {
		name                           string
		damage                         func(t *testing.T, dir string)
		recovered, unreadable, missing int // -1: a prefix, counted exactly
	}{
		{"MANIFEST deleted", func(t *testing.T, dir string) { mustRemove(t, filepath.Join(dir, "MANIFEST")) }, 46, 0, 0},
		{"garbage MANIFEST", func(t *testing.T, dir string) { overwrite(t, filepath.Join(dir, "MANIFEST"), "this is not a manifest") }, 46, 0, 0},
		{"torn MANIFEST", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "MANIFEST"), 0.9) }, 46, 0, 0},
		{"garbage KEYREGISTRY", func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "KEYREGISTRY"), strings.Repeat("\xff", 64))
		}, 46, 0, 0},
		{"garbage value-log header", func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "000001.vlog"), strings.Repeat("junk", 5))
		}, 46, 0, 0},
		{"garbage value log", func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "000001.vlog"), strings.Repeat("junk", 5000))
		}, 46, 0, 0},
		{"table truncated to half", damageTable(func(t *testing.T, p string) { truncate(t, p, 0.5) }), -1, 0, -1},
		{"table zeroed", damageTable(func(t *testing.T, p string) { zero(t, p) }), 0, 0, 46},
		{"table emptied", damageTable(func(t *testing.T, p string) { overwrite(t, p, "") }), 0, 0, 46},
		{"table replaced by garbage", damageTable(func(t *testing.T, p string) { overwrite(t, p, strings.Repeat("garbage", 1000)) }), 0, 0, 46},
		{"table deleted", damageTable(func(t *testing.T, p string) { mustRemove(t, p) }), 0, 0, 46},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			want, oldInc := salvageStore46(t, dir)
			tt.damage(t, dir)
			rec := &recorder{}
			b := open(t, dir, Options{Logger: slog.New(rec)})

			s := b.Stats()
			r := s.Salvage
			if !strings.HasPrefix(s.RecoveredFrom, dir+".corrupt-") || r.From != s.RecoveredFrom {
				t.Fatalf("RecoveredFrom = %q, Salvage.From = %q, want %s.corrupt-<time>", s.RecoveredFrom, r.From, dir)
			}
			if n := rec.count(slog.LevelError, "buffer: store unreadable, moved aside and salvaged into a fresh store"); n != 1 {
				t.Errorf("%d salvage errors logged, want 1", n)
			}
			if got := r.Recovered + r.Unreadable + r.Missing; got != stored {
				t.Fatalf("recovered %d + unreadable %d + missing %d = %d, want the %d stored (problems: %v)",
					r.Recovered, r.Unreadable, r.Missing, got, stored, r.Problems)
			}
			t.Logf("stored %d: recovered %d, unreadable %d, missing %d", stored, r.Recovered, r.Unreadable, r.Missing)
			if (tt.recovered >= 0 && r.Recovered != int64(tt.recovered)) || r.Unreadable != int64(tt.unreadable) ||
				(tt.missing >= 0 && r.Missing != int64(tt.missing)) {
				t.Fatalf("salvage = %d recovered, %d unreadable, %d missing; want %d, %d, %d (problems: %v)",
					r.Recovered, r.Unreadable, r.Missing, tt.recovered, tt.unreadable, tt.missing, r.Problems)
			}
			if tt.recovered < 0 && (r.Recovered == 0 || r.Recovered == stored) {
				t.Fatalf("recovered %d of a half-truncated table, want some but not all", r.Recovered)
			}
			if s.Entries != r.Recovered || s.Quarantined != r.Unreadable {
				t.Fatalf("Stats = %+v, want the %d recovered entries and %d in quarantine", s, r.Recovered, r.Unreadable)
			}
			got := drain(t, b)
			for i, e := range got {
				if !bytes.Equal(e.Payload, want[e.Seq]) {
					t.Fatalf("entry %d (seq %d): payload changed or not stored", i, e.Seq)
				}
				if i > 0 && e.Seq <= got[i-1].Seq {
					t.Fatalf("entries out of order: %v", seqsOf(got))
				}
			}
			if len(got) != int(r.Recovered) {
				t.Fatalf("delivered %d entries, salvage recovered %d", len(got), r.Recovered)
			}
			if s.Incarnation == oldInc || !validIncarnation([]byte(s.Incarnation)) {
				t.Fatalf("incarnation %q after salvage, was %q: want a new one", s.Incarnation, oldInc)
			}
			if seq, err := b.Append(context.Background(), []byte("after salvage")); err != nil || seq != 51 {
				t.Fatalf("Append after salvage = %d, %v; want 51 (the sequence continues)", seq, err)
			}
		})
	}
}

// TestForeignStoreIsMovedAside: what is not a bedgate store is moved aside
// and replaced by an empty one.
func TestForeignStoreIsMovedAside(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"path is a file", func(t *testing.T, dir string) { overwrite(t, dir, "not a directory") }},
		{"another program's database", func(t *testing.T, dir string) {
			rawUpdate(t, dir, func(txn *badger.Txn) error { return txn.Set([]byte("hello"), []byte("world")) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			tt.setup(t, dir)
			b := open(t, dir, Options{})
			s := b.Stats()
			if !strings.HasPrefix(s.RecoveredFrom, dir+".corrupt-") {
				t.Fatalf("RecoveredFrom = %q, want %s.corrupt-<time>", s.RecoveredFrom, dir)
			}
			if _, err := os.Stat(s.RecoveredFrom); err != nil {
				t.Fatalf("moved-aside store: %v", err)
			}
			if s.Entries != 0 || s.NextSeq != 1 || s.Salvage.Recovered != 0 {
				t.Fatalf("fresh store Stats = %+v", s)
			}
			if seq, err := b.Append(context.Background(), []byte("after recovery")); err != nil || seq != 1 {
				t.Fatalf("Append on fresh store = %d, %v", seq, err)
			}
		})
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// zero overwrites the file at path with zeros, keeping its length.
func zero(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	overwrite(t, path, string(make([]byte, fi.Size())))
}

// TestSalvageFromMemtableLog: entries not yet flushed to a table live only
// in the memtable's log; a store copied as a crash would leave it (open,
// nothing flushed), then damaged, gives them all back from the log.
func TestSalvageFromMemtableLog(t *testing.T) {
	live := filepath.Join(t.TempDir(), "live")
	b := open(t, live, Options{Logger: quietLogger()})
	seqs := appendN(t, b, 1, 50)
	for _, e := range next(t, b, 4) {
		if err := b.Ack(e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	// The acknowledgements reach the log with the next group.
	seqs = append(seqs, appendN(t, b, 51, 1)...)
	dir := filepath.Join(t.TempDir(), "outbox")
	if err := os.CopyFS(dir, os.DirFS(live)); err != nil {
		t.Fatal(err)
	}
	if mems, _ := filepath.Glob(filepath.Join(dir, "*.mem")); len(mems) == 0 {
		t.Fatal("no memtable log in the crash copy")
	}
	mustRemove(t, filepath.Join(dir, "MANIFEST"))

	c := open(t, dir, Options{Logger: quietLogger()})
	r := c.Stats().Salvage
	if r.Recovered != 47 || r.Unreadable != 0 || r.Missing != 0 {
		t.Fatalf("salvage = %+v, want 47 recovered (51 appended, 4 acknowledged)", r)
	}
	wantSeqs(t, "salvaged from the log", seqsOf(drain(t, c)), seqs[4:])
}

// TestManifestLosingItsLastTable: a manifest that lost the record of its
// newest table (a torn tail) would have the engine delete that table and
// its entries; the store is salvaged instead.
func TestManifestLosingItsLastTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	makeStore(t, dir) // entries 1-3 in table 1
	m, err := os.ReadFile(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, dir, Options{Logger: quietLogger()})
	seqs := appendN(t, b, 4, 3)
	if err := b.Close(); err != nil { // entries 4-6 in a second table
		t.Fatal(err)
	}
	overwrite(t, filepath.Join(dir, "MANIFEST"), string(m))

	c := open(t, dir, Options{Logger: quietLogger()})
	if r := c.Stats().Salvage; r.From == "" || r.Recovered != 6 || r.Missing != 0 {
		t.Fatalf("salvage = %+v, want all 6 entries recovered", r)
	}
	wantSeqs(t, "entries", seqsOf(drain(t, c)), append(seqRange(1, 3), seqs...))
}
