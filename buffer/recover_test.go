package buffer

import (
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

func TestUnreadableStoreIsMovedAside(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"garbage MANIFEST", func(t *testing.T, dir string) {
			makeStore(t, dir)
			overwrite(t, filepath.Join(dir, "MANIFEST"), "this is not a manifest")
		}},
		{"garbage KEYREGISTRY", func(t *testing.T, dir string) {
			makeStore(t, dir)
			overwrite(t, filepath.Join(dir, "KEYREGISTRY"), strings.Repeat("\xff", 64))
		}},
		{"garbage table file", func(t *testing.T, dir string) {
			makeStore(t, dir)
			overwrite(t, filepath.Join(dir, "000001.sst"), strings.Repeat("garbage", 1000))
		}},
		{"truncated table file", func(t *testing.T, dir string) {
			makeStore(t, dir)
			truncate(t, filepath.Join(dir, "000001.sst"), 0.5)
		}},
		{"empty table file", func(t *testing.T, dir string) {
			makeStore(t, dir)
			overwrite(t, filepath.Join(dir, "000001.sst"), "")
		}},
		{"garbage value log", func(t *testing.T, dir string) {
			makeStore(t, dir)
			overwrite(t, filepath.Join(dir, "000001.vlog"), strings.Repeat("junk", 5000))
		}},
		{"torn MANIFEST that loses the data", func(t *testing.T, dir string) {
			makeStore(t, dir)
			truncate(t, filepath.Join(dir, "MANIFEST"), 0.9)
		}},
		{"path is a file", func(t *testing.T, dir string) {
			overwrite(t, dir, "not a directory")
		}},
		{"another program's database", func(t *testing.T, dir string) {
			rawUpdate(t, dir, func(txn *badger.Txn) error { return txn.Set([]byte("hello"), []byte("world")) })
		}},
		{"unknown format marker", func(t *testing.T, dir string) {
			makeStore(t, dir)
			rawUpdate(t, dir, func(txn *badger.Txn) error { return txn.Set(metaFormatKey, []byte("bedgate-buffer/99")) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			tt.setup(t, dir)
			rec := &recorder{}
			b := open(t, dir, Options{Logger: slog.New(rec)})

			s := b.Stats()
			if !strings.HasPrefix(s.RecoveredFrom, dir+".corrupt-") {
				t.Fatalf("RecoveredFrom = %q, want %s.corrupt-<time>", s.RecoveredFrom, dir)
			}
			if _, err := os.Stat(s.RecoveredFrom); err != nil {
				t.Fatalf("moved-aside store: %v", err)
			}
			if n := rec.count(slog.LevelError, "buffer: store unreadable, moved aside, starting empty"); n != 1 {
				t.Errorf("%d recovery errors logged, want 1", n)
			}
			if s.Entries != 0 || s.NextSeq != 1 {
				t.Fatalf("fresh store Stats = %+v", s)
			}
			if seq, err := b.Append(context.Background(), []byte("after recovery")); err != nil || seq != 1 {
				t.Fatalf("Append on fresh store = %d, %v", seq, err)
			}
		})
	}
}

func TestHarmlessStrayFilesAreTolerated(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"operator's notes", "notes.txt", "left by an operator"},
		{"table file the manifest does not list", "000009.sst", strings.Repeat("x", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			makeStore(t, dir)
			overwrite(t, filepath.Join(dir, tt.file), tt.content)
			b := open(t, dir, Options{})
			if s := b.Stats(); s.RecoveredFrom != "" || s.Entries != 3 {
				t.Fatalf("Stats = %+v, want the 3 stored entries and no recovery", s)
			}
		})
	}
}

func TestStoreInUseIsNotMovedAside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "outbox")
	first := open(t, dir, Options{})
	appendN(t, first, 1, 2)

	second, err := Open(dir, Options{Logger: quietLogger()})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a store in use succeeded")
	}
	matches, _ := filepath.Glob(filepath.Join(parent, "*.corrupt-*"))
	if len(matches) != 0 {
		t.Fatalf("store in use was moved aside to %v", matches)
	}
	if got := seqsOf(drain(t, first)); len(got) != 2 {
		t.Fatalf("first Buffer lost entries: %v", got)
	}
}

func TestUnreadableEntryIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	makeStore(t, dir)
	rawUpdate(t, dir, func(txn *badger.Txn) error {
		// Entry 2 with a payload that no longer matches its checksum.
		v := encodeValue(newClock().Now(), 0, payloadFor(2))
		v[len(v)-1] ^= 0xff
		return txn.Set(seqKey(entryPrefix, 2), v)
	})
	b := open(t, dir, Options{})
	if s := b.Stats(); s.Quarantined != 1 || s.Entries != 2 || s.RecoveredFrom != "" {
		t.Fatalf("Stats = %+v, want 1 quarantined, 2 entries", s)
	}
	wantSeqs(t, "readable entries", seqsOf(drain(t, b)), []Seq{1, 3})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, Options{})
	if s := b.Stats(); s.Quarantined != 1 || s.NextSeq != 4 {
		t.Fatalf("Stats after reopen = %+v, want quarantine kept and next seq 4", s)
	}
}
