package buffer

import (
	"os"
	"path/filepath"
	"testing"
)

// storeFiles makes a small store and returns the bytes of its first file
// matching pattern, as a fuzz seed.
func storeFiles(f *testing.F, pattern string, closeFirst bool) []byte {
	dir := f.TempDir()
	b, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	appendN(f, b, 1, 20)
	if closeFirst {
		if err := b.Close(); err != nil {
			f.Fatal(err)
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(names) == 0 {
		f.Fatalf("no %s in the store", pattern)
	}
	data, err := os.ReadFile(names[0])
	if err != nil {
		f.Fatal(err)
	}
	if !closeFirst {
		b.Close()
	}
	return data
}

// FuzzSalvageTable: salvage reads any bytes as a table file without
// panicking, whatever it recovers.
func FuzzSalvageTable(f *testing.F) {
	table := storeFiles(f, "*.sst", true)
	f.Add(table)
	f.Add(table[:len(table)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "000001.sst"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		sv := salvageStore(dir)
		if int64(len(sv.entries)+len(sv.unreadable))+sv.missing > int64(len(data)) {
			t.Fatalf("salvage of %d bytes found %d entries, %d unreadable, %d missing", len(data), len(sv.entries), len(sv.unreadable), sv.missing)
		}
	})
}

// FuzzSalvageLog: salvage reads any bytes as a memtable log without
// panicking.
func FuzzSalvageLog(f *testing.F) {
	log := storeFiles(f, "*.mem", false)
	end := len(log)
	for end > logHeaderSize && log[end-1] == 0 {
		end--
	}
	f.Add(log[:end])
	f.Add(log[:end/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "000001.mem"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = salvageStore(dir)
	})
}
