package buffer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// corruptError reports a store that exists but cannot be used. Open moves
// such a directory aside; every other error (permissions, a store locked by
// another process, a full disk) is returned to the caller instead, since
// moving the directory would not fix it.
type corruptError struct {
	err error
}

func (e *corruptError) Error() string { return "buffer: unreadable store: " + e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

func corrupt(format string, args ...any) error {
	return &corruptError{err: fmt.Errorf(format, args...)}
}

// recovered is the state rebuilt from disk at Open.
type recovered struct {
	db *engine
	// lock is the store directory's lock (lockDir), or nil where the
	// engine keeps its own.
	lock        *os.File
	idx         index
	next        Seq
	quarantined int64
	incarnation string
	clock       *ageClock
}

// openStore opens the store in dir, which prepareDir made ready and
// locked (lock; nil where the engine keeps its own lock), and rebuilds the
// in-memory index. A new store is seeded with what a salvage found, if
// anything. The caller keeps the lock; the store returned holds it.
func openStore(dir string, o Options, log *slog.Logger, seed *salvaged, lock *os.File) (*recovered, error) {
	bo := o.badgerOptions(dir).WithBypassLockGuard(lock != nil)
	_, statErr := os.Stat(filepath.Join(dir, badger.ManifestFilename))
	existed := statErr == nil
	if !existed && hasStoreFiles(dir) {
		// The engine would start afresh and overwrite the tables.
		return nil, corrupt("%s holds table or log files but no MANIFEST", dir)
	}
	if err := checkTables(dir, bo); err != nil {
		return nil, err
	}
	db, err := openEngine(bo)
	if isNoSpace(err) {
		return nil, err
	}
	if err != nil {
		return nil, corrupt("open %s: %w", dir, err)
	}
	if seed != nil && !existed {
		if err := seed.store(db); err != nil {
			closeQuietly(db)
			return nil, fmt.Errorf("buffer: store salvaged entries: %w", err)
		}
		existed = true
	}
	r, err := load(db, existed, o, log)
	if err != nil {
		closeQuietly(db)
		var ce *corruptError
		if errors.As(err, &ce) || isNoSpace(err) {
			return nil, err
		}
		return nil, corrupt("read %s: %w", dir, err)
	}
	// Sound: the tables the manifest did not list go, as the engine would
	// have deleted them, unless they hold entries newer than any the store
	// knows (a manifest that lost its last records).
	if newer := unlistedBeyond(dir, r.next); newer > 0 {
		closeQuietly(db)
		return nil, corrupt("%d entries beyond the store's last sequence number are in tables its manifest does not list", newer)
	}
	_ = os.RemoveAll(filepath.Join(dir, unlistedDir))
	r.lock = lock
	return r, nil
}

// prepareDir creates dir if needed, takes its lock (lockDir) and checks the
// conditions that moving the directory aside would not cure, so that a
// failure of the engine to open afterwards can be treated as corruption.
// The caller closes the lock it returns.
func prepareDir(dir string) (_ *os.File, err error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("buffer: create store directory: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("buffer: store directory: %w", err)
	case !fi.IsDir():
		return nil, corrupt("%s is not a directory", dir)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && lock != nil {
			lock.Close()
		}
	}()
	probe := filepath.Join(dir, ".write-probe")
	err = os.WriteFile(probe, []byte("ok"), 0o600)
	if errors.Is(err, syscall.ENOSPC) {
		// Writable but full: the space guard handles it (see space.go).
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("buffer: store directory is not writable: %w", err)
	}
	if err := os.Remove(probe); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("buffer: store directory: %w", err)
	}
	return lock, nil
}

// load checks the format marker and rebuilds the index, moving entries whose
// value does not decode to the quarantine prefix.
func load(db *engine, existed bool, o Options, log *slog.Logger) (r *recovered, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, corrupt("storage engine panicked while reading: %v", p)
		}
	}()
	if err := checkFormat(db, existed); err != nil {
		return nil, err
	}
	r = &recovered{db: db}
	var metaNext, lastSeq Seq
	var bad []Seq
	var badKeys [][]byte
	var cp checkpoint
	var cpFound bool
	var floor time.Duration // highest age-clock stamp stored
	var unstamped []int     // index positions of version-1 entries
	wall := o.Now()
	err = db.View(func(txn *badger.Txn) error {
		if v, err := getMeta(txn, metaNextKey); err != nil {
			return err
		} else if len(v) == 8 {
			metaNext = Seq(binary.BigEndian.Uint64(v))
		} else if v != nil {
			log.Warn("buffer: ignoring malformed sequence high-water mark", "bytes", len(v))
		}
		if v, err := getMeta(txn, metaIncarnationKey); err != nil {
			return err
		} else if validIncarnation(v) {
			r.incarnation = string(v)
		}
		if v, err := getMeta(txn, metaClockKey); err != nil {
			return err
		} else if v != nil {
			cp, cpFound = decodeCheckpoint(v)
		}

		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{entryPrefix}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			seq, ok := keySeq(item.Key())
			if !ok {
				badKeys = append(badKeys, item.KeyCopy(nil))
				continue
			}
			lastSeq = seq
			err := item.Value(func(v []byte) error {
				sv, err := decodeValue(v)
				if err != nil {
					log.Error("buffer: quarantining unreadable entry", "seq", uint64(seq), "err", err)
					bad = append(bad, seq)
					return nil
				}
				s := slot{seq: seq, appended: sv.appended.UnixNano(), stamp: int64(sv.stamp), size: uint32(len(sv.payload))}
				if sv.hasStamp {
					floor = max(floor, sv.stamp)
				} else {
					// Version 1: stamped below once the age clock is known.
					s.stamp = int64(wallAge(wall, sv.appended))
					unstamped = append(unstamped, r.idx.n)
				}
				r.idx.push(s)
				return nil
			})
			if err != nil {
				return err
			}
		}
		it.Close()

		qit := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{quarantinePrefix}})
		defer qit.Close()
		for qit.Rewind(); qit.Valid(); qit.Next() {
			r.quarantined++
			if seq, ok := keySeq(qit.Item().Key()); ok {
				lastSeq = max(lastSeq, seq)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 || len(badKeys) > 0 {
		if err := quarantine(db, bad, badKeys); err != nil {
			return nil, err
		}
		r.quarantined += int64(len(bad))
		log.Warn("buffer: entries quarantined at open", "count", len(bad), "malformed_keys_removed", len(badKeys))
	}
	r.next = max(metaNext, lastSeq+1, 1)
	if lastSeq > 0 && metaNext <= lastSeq {
		// The high-water mark lags the entries (a group split over two
		// transactions lost its second to a power cut): write it, or the
		// numbers would be given again once these entries are acked and
		// the store is opened again.
		if err := setMeta(db, metaNextKey, be64(uint64(r.next))); err != nil {
			return nil, err
		}
		log.Warn("buffer: sequence high-water mark was behind the stored entries; corrected", "was", uint64(metaNext), "next", uint64(r.next))
	}
	r.clock = resume(o.Uptime, wall, cp, cpFound, floor)
	now := r.clock.now()
	for _, i := range unstamped {
		s := r.idx.at(i)
		s.stamp = int64(now) - s.stamp
	}
	if r.incarnation == "" {
		// A store made before incarnations, or one that lost its id.
		r.incarnation = newIncarnation()
		if err := setMeta(db, metaIncarnationKey, []byte(r.incarnation)); err != nil {
			return nil, err
		}
		if existed {
			log.Warn("buffer: store had no incarnation id; gave it one", "incarnation", r.incarnation)
		}
	}
	return r, nil
}

// getMeta returns the value of a metadata key, or nil when it is absent.
func getMeta(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// setMeta writes one metadata key and syncs it.
func setMeta(db *engine, key, value []byte) error {
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
		return err
	}
	return db.Sync()
}

// checkFormat writes the format marker into a new store and refuses a store
// written by something else, or one that existed (it has a manifest) but
// lost its marker, which means the engine dropped data while recovering.
func checkFormat(db *engine, existed bool) error {
	var found []byte
	empty := true
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaFormatKey)
		if err == nil {
			found, err = item.ValueCopy(nil)
			return err
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	switch {
	case err != nil:
		return err
	case found != nil && !bytes.Equal(found, formatValue):
		return corrupt("format marker %q, want %q", found, formatValue)
	case found != nil:
		return nil
	case !empty:
		return corrupt("store holds data but no bedgate buffer format marker")
	case existed:
		return corrupt("existing store has lost its format marker")
	}
	return setMeta(db, metaFormatKey, formatValue)
}

// quarantine moves unreadable entries to the quarantine prefix and deletes
// malformed keys, in one synced batch.
func quarantine(db *engine, seqs []Seq, malformed [][]byte) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range malformed {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	err := db.View(func(txn *badger.Txn) error {
		for _, s := range seqs {
			item, err := txn.Get(seqKey(entryPrefix, s))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			db.wrote(int64(len(v)) + 2*entryDiskOverhead)
			if err := wb.Set(seqKey(quarantinePrefix, s), v); err != nil {
				return err
			}
			if err := wb.Delete(seqKey(entryPrefix, s)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	return db.Sync()
}

// moveAside renames an unreadable store to <dir>.corrupt-<UTC timestamp>.
func moveAside(dir string, now time.Time) (string, error) {
	base := filepath.Clean(dir) + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	target := base
	for n := 2; ; n++ {
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			break
		}
		target = fmt.Sprintf("%s-%d", base, n)
	}
	if err := os.Rename(dir, target); err != nil {
		return "", fmt.Errorf("buffer: move unreadable store aside: %w", err)
	}
	return target, nil
}
