package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// lineLog records the messages of the log lines written to it.
type lineLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *lineLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *lineLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lineLog) WithGroup(string) slog.Handler      { return l }

func (l *lineLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, msg) {
			n++
		}
	}
	return n
}

// TestCaptureClosedBeforeItsPort: bytes read after the capture was closed,
// as the port is being closed, are no failure to report; a capture whose
// file fails while it records is reported.
func TestCaptureClosedBeforeItsPort(t *testing.T) {
	for _, closed := range []bool{true, false} {
		log := &lineLog{}
		s := &supervisor{
			bedLink:    bedLink{bed: Bed{Name: "bed1"}, log: slog.New(log), now: time.Now},
			port:       "/dev/ttyUSB0",
			driver:     drivers.Driver{Name: "masimo"},
			captureDir: t.TempDir(),
		}
		port := &struct {
			io.Reader
			io.Writer
		}{strings.NewReader("SPO2=098%\r\n"), io.Discard}
		c, err := s.openCapture(port, "/dev/pts/9")
		if err != nil {
			t.Fatal(err)
		}
		if closed {
			c.Close()
		} else {
			c.f.Close() // the file fails under a capture still recording
		}
		var got bytes.Buffer
		if _, err := io.Copy(&got, c.tee); err != nil || got.String() != "SPO2=098%\r\n" {
			t.Fatalf("read through the capture %q, %v; want the port's bytes", got.String(), err)
		}
		want := 1
		if closed {
			want = 0
		}
		if n := log.count("capture stopped"); n != want {
			t.Errorf("capture closed %v: %d \"capture stopped\" lines, want %d", closed, n, want)
		}
		c.Close()
	}
}
