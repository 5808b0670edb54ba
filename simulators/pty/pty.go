package pty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// writeStall is how long Write waits for a reader before it discards the
// bytes queued for one.
const writeStall = 100 * time.Millisecond

// drainPoll is how often Drain looks at the queue.
const drainPoll = 10 * time.Millisecond

// drainSettle is how long after the last Write Drain trusts an empty queue:
// written bytes reach the reader's queue through a kernel work queue, which
// a loaded machine runs late.
const drainSettle = 100 * time.Millisecond

// PTY is a pseudo-terminal pair: the simulator's end (Read, Write) and a
// device path for the gateway (Path). Read, Write, Link, Drain and Close may
// be called concurrently; Read must not be called from two goroutines at
// once, nor Write.
type PTY struct {
	master *os.File // the simulator's end, pollable so Close unblocks Read
	slave  *os.File // held open for the PTY's life; never read
	path   string
	line   terminal

	closed    atomic.Bool
	lastWrite atomic.Int64 // Unix nanoseconds of the last Write's end
	mu        sync.Mutex
	links     []string
}

var _ io.ReadWriteCloser = (*PTY)(nil)

// Open makes a pseudo-terminal pair in raw mode.
func Open() (*PTY, error) {
	p, err := open()
	if err != nil {
		return nil, fmt.Errorf("pty: open: %w", err)
	}
	return p, nil
}

// Path returns the slave device the gateway opens, for example /dev/pts/7.
func (p *PTY) Path() string { return p.path }

// Read reads what the gateway wrote to the slave. It blocks until data
// arrives or the PTY is closed, when it returns an error matching
// os.ErrClosed.
func (p *PTY) Read(b []byte) (int, error) {
	n, err := p.master.Read(b)
	if err != nil {
		return n, fmt.Errorf("pty: read %s: %w", p.path, err)
	}
	return n, nil
}

// Write sends b to the gateway. When nobody has read the line for long
// enough that the terminal's queue is full, Write discards the queued bytes
// and goes on, so it never blocks for long; it returns len(b) and nil unless
// the PTY is closed or fails.
func (p *PTY) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		if err := p.master.SetWriteDeadline(time.Now().Add(writeStall)); err != nil {
			return written, fmt.Errorf("pty: write %s: %w", p.path, err)
		}
		n, err := p.master.Write(b[written:])
		written += n
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			// Nobody is reading: lose the queued bytes, as a serial
			// line with nobody listening would.
			if ferr := p.line.flushInput(); ferr != nil {
				return written, fmt.Errorf("pty: write %s: discard unread input: %w", p.path, ferr)
			}
		default:
			return written, fmt.Errorf("pty: write %s: %w", p.path, err)
		}
	}
	p.lastWrite.Store(time.Now().UnixNano())
	return written, nil
}

// Drain waits until the gateway has read everything written so far, or ctx
// ends (it then returns ctx.Err()). With no gateway attached it waits for ctx.
func (p *PTY) Drain(ctx context.Context) error {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	empty := 0
	for {
		n, err := p.line.queued()
		if err != nil {
			return fmt.Errorf("pty: drain %s: %w", p.path, err)
		}
		// Bytes pass through a kernel work queue on their way to the
		// reader's queue; two empty looks in a row, drainSettle after the
		// last Write, mean none are in flight.
		if n == 0 && time.Since(time.Unix(0, p.lastWrite.Load())) >= drainSettle {
			empty++
		} else {
			empty = 0
		}
		if empty >= 2 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Link makes path a symbolic link to the slave, creating its directory when
// needed and replacing whatever was there atomically. Close removes the link
// unless something else has replaced it since.
func (p *PTY) Link(path string) error {
	if p.closed.Load() {
		return fmt.Errorf("pty: link %s: %w", path, os.ErrClosed)
	}
	dir, base := filepath.Split(path)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("pty: link %s: %w", path, err)
		}
	}
	// A temporary name unique to this terminal and link, renamed over path.
	tmp := filepath.Join(dir, "."+base+"."+strings.ReplaceAll(strings.TrimPrefix(p.path, "/dev/"), "/", "-")+".tmp")
	os.Remove(tmp)
	if err := os.Symlink(p.path, tmp); err != nil {
		return fmt.Errorf("pty: link %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pty: link %s: %w", path, err)
	}
	p.mu.Lock()
	p.links = append(p.links, path)
	p.mu.Unlock()
	return nil
}

// Close removes the links, hangs up the line and releases the terminal. It
// unblocks a waiting Read. Closing a closed PTY does nothing.
func (p *PTY) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	p.mu.Lock()
	links := p.links
	p.links = nil
	p.mu.Unlock()
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && target == p.path {
			if err := os.Remove(l); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := p.master.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := p.slave.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pty: close %s: %w", p.path, err)
	}
	return nil
}
