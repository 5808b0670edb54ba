//go:build linux

package pty

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func openPTY(t *testing.T) *PTY {
	t.Helper()
	p, err := Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// openGateway opens the slave as a gateway would, without changing its
// settings, so the test sees the PTY's own raw mode.
func openGateway(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// withTimeout runs f and fails the test if it has not returned within d.
func withTimeout(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}

func TestPathIsATerminal(t *testing.T) {
	p := openPTY(t)
	if !strings.HasPrefix(p.Path(), "/dev/pts/") {
		t.Errorf("Path() = %q, want a /dev/pts device", p.Path())
	}
	info, err := os.Stat(p.Path())
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("%s is not a character device: %v", p.Path(), err)
	}
}

func TestRawInBothDirections(t *testing.T) {
	p := openPTY(t)
	gw := openGateway(t, p.Path())

	// Every byte value passes unchanged from simulator to gateway.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := p.Write(all); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(all))
	withTimeout(t, 2*time.Second, "gateway read", func() {
		if _, err := io.ReadFull(gw, got); err != nil {
			t.Errorf("gateway read: %v", err)
		}
	})
	if !bytes.Equal(got, all) {
		t.Errorf("gateway read %q, want all 256 byte values in order", got)
	}

	// And from gateway to simulator, with nothing echoed back before it.
	want := []byte("\x02ACK\r\n\x03")
	if _, err := gw.Write(want); err != nil {
		t.Fatal(err)
	}
	got = make([]byte, len(want))
	withTimeout(t, 2*time.Second, "simulator read", func() {
		if _, err := io.ReadFull(p, got); err != nil {
			t.Errorf("simulator read: %v", err)
		}
	})
	if !bytes.Equal(got, want) {
		t.Errorf("simulator read %q, want %q (echo or translation?)", got, want)
	}
}

func TestGatewayReconnectsWhileSimulatorWrites(t *testing.T) {
	p := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(p, "tick %d\n", i); err != nil {
				writerDone <- err
				return
			}
			select {
			case <-ctx.Done():
				writerDone <- nil
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	for session := range 3 {
		gw, err := os.OpenFile(p.Path(), os.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			t.Fatalf("session %d: open: %v", session, err)
		}
		r := bufio.NewReader(gw)
		withTimeout(t, 2*time.Second, fmt.Sprintf("session %d read", session), func() {
			for range 5 {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Errorf("session %d: read: %v", session, err)
					return
				}
				if !strings.HasPrefix(line, "tick ") {
					t.Errorf("session %d: read %q", session, line)
				}
			}
		})
		gw.Close()
		time.Sleep(20 * time.Millisecond) // nobody attached for a while
	}
	cancel()
	if err := <-writerDone; err != nil {
		t.Errorf("simulator write failed across reconnects: %v", err)
	}
}

func TestWriteWithNobodyListeningDoesNotBlock(t *testing.T) {
	p := openPTY(t)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB
	withTimeout(t, 20*time.Second, "writing 64 KiB with no reader", func() {
		for range 4 {
			if n, err := p.Write(chunk); err != nil || n != len(chunk) {
				t.Errorf("Write = %d, %v", n, err)
				return
			}
		}
	})
	// What is written next still reaches a gateway that attaches later.
	if _, err := p.Write([]byte("\nEND\n")); err != nil {
		t.Fatal(err)
	}
	gw := openGateway(t, p.Path())
	r := bufio.NewReaderSize(gw, 1<<16)
	withTimeout(t, 5*time.Second, "reading up to the marker", func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Errorf("read: %v", err)
				return
			}
			if line == "END\n" {
				return
			}
		}
	})
}

func TestCloseUnblocksReadAndHangsUp(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	gw := openGateway(t, p.Path())

	readErr := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 16))
		readErr <- err
	}()
	select { // nothing to read: Read blocks, so Close finds it waiting
	case err := <-readErr:
		t.Fatalf("Read with nothing to read returned %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not unblock Read")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The gateway sees the line hang up: end of file or an I/O error.
	withTimeout(t, 2*time.Second, "gateway read after hang-up", func() {
		n, err := gw.Read(make([]byte, 16))
		if n != 0 || err == nil {
			t.Errorf("gateway read after Close = %d, %v, want end of file or an error", n, err)
		}
	})
	if _, err := p.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestDrain(t *testing.T) {
	p := openPTY(t)
	if err := p.Drain(context.Background()); err != nil {
		t.Fatalf("Drain with nothing written: %v", err)
	}
	msg := []byte("SN=0001 SPO2=097\r\n")
	if _, err := p.Write(msg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with nobody reading = %v, want DeadlineExceeded", err)
	}

	gw := openGateway(t, p.Path())
	go io.ReadFull(gw, make([]byte, len(msg)))
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Errorf("Drain with a reader: %v", err)
	}
}

func TestLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "ward3", "bed1")
	first, second := openPTY(t), openPTY(t)

	if err := first.Link(link); err != nil {
		t.Fatalf("Link: %v", err)
	}
	if target, err := os.Readlink(link); err != nil || target != first.Path() {
		t.Fatalf("link points to %q (%v), want %q", target, err, first.Path())
	}
	// A second simulator takes the name over atomically.
	if err := second.Link(link); err != nil {
		t.Fatalf("Link over an existing link: %v", err)
	}
	if target, _ := os.Readlink(link); target != second.Path() {
		t.Fatalf("link points to %q, want %q", target, second.Path())
	}
	// Closing the first leaves the second's link alone.
	first.Close()
	if target, _ := os.Readlink(link); target != second.Path() {
		t.Errorf("closing the first PTY changed the link to %q", target)
	}
	second.Close()
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("link still there after Close: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "ward3", ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	if err := second.Link(link); err == nil {
		t.Error("Link on a closed PTY succeeded")
	}
}
