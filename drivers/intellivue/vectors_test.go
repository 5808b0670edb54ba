package intellivue

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vectorDir is where the shared IntelliVue test vectors live. They are
// never copied into this repository; set INTELLIVUE_VECTORS to use another
// folder.
func vectorDir() string {
	if d := os.Getenv("INTELLIVUE_VECTORS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "vectors", "intellivue")
}

// readVector returns a shared vector file, or skips the test when the
// shared vectors are absent.
func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir(), name))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("shared vector %s not found in %s (set INTELLIVUE_VECTORS to the folder holding it)", name, vectorDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// parseHex16 parses "0x269B".
func parseHex(t testing.TB, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("bad hex number %q: %v", s, err)
	}
	return v
}

func decodeJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// quietLogger discards everything; tests check counts, not log lines.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
