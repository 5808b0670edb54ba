package buffer

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStateFileOverwrittenInPlace writes states of shrinking width over a
// file left by the rename-based writer, and reads each back whole.
func TestStateFileOverwrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, stateFile)
	// What earlier versions wrote: the JSON and a newline, no padding.
	if err := os.WriteFile(path, []byte(`{"next":123456789012,"low":123456789000}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, st := range []storeState{
		{Next: 1<<64 - 1, Low: 1<<64 - 2}, // the widest record
		{Next: 10, Low: 7},
		{Next: 1, Low: 1},
	} {
		for _, sync := range []bool{false, true} {
			if err := writeState(f, st, sync); err != nil {
				t.Fatalf("writeState(%+v, sync %v): %v", st, sync, err)
			}
			got, ok := readState(dir)
			if !ok || got != st {
				raw, _ := os.ReadFile(path)
				t.Fatalf("after writing %+v: read %+v, %v from %q", st, got, ok, raw)
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() != stateSize {
				t.Fatalf("state file size %v (%v), want %d", fi.Size(), err, stateSize)
			}
		}
	}
}
