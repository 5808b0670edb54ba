package buffer

import (
	"encoding/json"
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
// written at most every stateEvery while they change (rename of a
// temporary file, not synced) and at Close (synced): after a crash it may
// be that old, so entries appended since may go uncounted; never a loss
// counted that did not happen.
const (
	stateFile  = "bedgate-state"
	stateEvery = time.Second
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

func writeState(dir string, st storeState, sync bool) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, stateFile)
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	return err
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
	if err := writeState(b.space.dir, st, sync); err != nil {
		if !isNoSpace(err) {
			b.log.Warn("buffer: cannot write the state file", "err", err)
		}
		return
	}
	b.savedState = st
}
