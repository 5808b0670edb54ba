package buffer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// checkTables parses the footer and index of every table file the manifest
// lists, before the engine opens them. The engine opens tables on goroutines
// of its own, where a malformed file panics beyond any recover of ours and
// would crash the gateway; parsing them here first, with the engine's own
// parser, turns that panic into an error. Checksums are not verified here:
// the engine itself skips a table whose checksum fails and logs it. A
// manifest that does not parse is left for the engine to report.
//
// Table files the manifest does not list are moved into the "unlisted"
// subdirectory, where the engine, which deletes them at open, does not look:
// they are the output of a compaction cut short (their data is also in the
// listed tables), or the only copy of the data when the manifest was torn.
// Salvage reads them; a store that opens sound deletes them.
func checkTables(dir string, bo badger.Options) (err error) {
	f, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return nil
	}
	defer f.Close()
	var m badger.Manifest
	func() {
		defer func() {
			if recover() != nil {
				err = errors.New("manifest replay panicked")
			}
		}()
		m, _, err = badger.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	}()
	if err != nil {
		return nil
	}
	for id, tm := range m.Tables {
		name := table.NewFilename(id, dir)
		if err := openTable(name, tm.Compression, nil); err != nil {
			return corrupt("table %s: %w", filepath.Base(name), err)
		}
	}
	return setAsideUnlisted(dir, m.Tables)
}

// unlistedDir holds, inside a store directory, table files its manifest did
// not list.
const unlistedDir = "unlisted"

func setAsideUnlisted(dir string, listed map[uint64]badger.TableManifest) error {
	names, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	for _, name := range names {
		id, ok := table.ParseFileID(name)
		if _, listed := listed[id]; listed || !ok {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, unlistedDir), 0o750); err != nil {
			return fmt.Errorf("buffer: set aside an unlisted table: %w", err)
		}
		if err := os.Rename(name, filepath.Join(dir, unlistedDir, filepath.Base(name))); err != nil {
			return fmt.Errorf("buffer: set aside an unlisted table: %w", err)
		}
	}
	return nil
}

// openTable parses a table file with the engine's reader, under a recover,
// and then, if read is not nil, hands it the table. Block checksums are not
// verified (see readIndexedTable for why that suits salvage too).
func openTable(name string, c options.CompressionType, read func(*table.Table)) (err error) {
	mf, err := z.OpenMmapFile(name, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	// From here every failure leaves mf open for us to close.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("unreadable table: %v", firstLine(fmt.Sprint(p)))
		}
		if cerr := mf.Close(-1); err == nil && cerr != nil {
			err = cerr
		}
	}()
	t, err := table.OpenTable(mf, table.Options{
		BlockSize:   4 << 10,
		Compression: c,
		ChkMode:     options.NoVerification,
	})
	if err == nil && read != nil {
		read(t)
	}
	return err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
