package gateway

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// TestCaptureClosedBeforeItsPort: bytes read after the capture was closed,
// as the port is being closed, are no failure to report; a capture whose
// file fails while it records is reported.
func TestCaptureClosedBeforeItsPort(t *testing.T) {
	for _, closed := range []bool{true, false} {
		log := &LogWatch{}
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
		if n := log.Count("capture stopped"); n != want {
			t.Errorf("capture closed %v: %d \"capture stopped\" lines, want %d", closed, n, want)
		}
		c.Close()
	}
}
