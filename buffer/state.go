package buffer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The state file ("bedgate-state" in the store directory, JSON) repeats,
// outside the engine, the range of sequence numbers the store holds: the
// next number to assign and the oldest live one. The engine keeps both
// too (m/next, m/low), but in the same tables as the entries, so a table
// zeroed or deleted can take them with it; salvage then reads them here to
// count what it could not find, so that no loss goes uncounted. It is
// written at most every stateEvery while they change (not synced) and at
// Close (synced): after a crash it may be that old, so entries appended
// since may go uncounted; never a loss counted that did not happen.
//
// Each write overwrites the whole file in place, from a descriptor kept
// open: stateSize bytes, the JSON padded with spaces. One pwrite replaces
// the create, write, close and rename of a temporary file, which cost 2.5 %
// of a 64-bed gateway's CPU at 1 Hz (perf). The record is far smaller than
// a disk sector, so a crash leaves the old record or the new one; a file
// that does not parse (a torn write on a device that tears sectors) is
// read as no state file, which counts no loss that did not happen.
const (
	stateFile  = "bedgate-state"
	stateEvery = time.Second
	stateSize  = 64
)

type storeState struct {
	Next uint64 `json:"next"`
	Low  uint64 `json:"low"`
}

func readState(dir string) (storeState, bool) {
	var st storeState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil || json.Unmarshal(b, &st) != nil {
		return storeState{}, false
	}
	return st, true
}

// writeState overwrites the state file f with st, padded to stateSize.
func writeState(f *os.File, st storeState, sync bool) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if len(b) >= stateSize {
		return fmt.Errorf("state record of %d bytes does not fit the file's %d", len(b), stateSize)
	}
	rec := bytes.Repeat([]byte{' '}, stateSize)
	copy(rec, b)
	rec[stateSize-1] = '\n'
	if _, err := f.WriteAt(rec, 0); err != nil {
		return err
	}
	if sync {
		return f.Sync()
	}
	return nil
}

// saveState writes the state file if the range changed since the last
// write. Called by the committer and by Close.
func (b *Buffer) saveState(sync bool) {
	b.mu.Lock()
	st := storeState{Next: uint64(b.next), Low: uint64(b.next)}
	if i := b.idx.oldest(); i >= 0 {
		st.Low = uint64(b.idx.at(i).seq)
	}
	b.mu.Unlock()
	if st == b.savedState && !sync {
		return
	}
	if b.stateFile == nil {
		f, err := os.OpenFile(filepath.Join(b.space.dir, stateFile), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			b.log.Warn("buffer: cannot open the state file", "err", err)
			return
		}
		b.stateFile = f
	}
	if err := writeState(b.stateFile, st, sync); err != nil {
		if !isNoSpace(err) {
			b.log.Warn("buffer: cannot write the state file", "err", err)
		}
		return
	}
	b.savedState = st
}
