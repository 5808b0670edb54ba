package simtest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/all"
	"github.com/bedgate/bedgate/simulators/pty"
)

// OpenPTY opens a pseudo-terminal that is closed at the end of the test. It
// skips the test where the system has none.
func OpenPTY(t testing.TB) *pty.PTY {
	t.Helper()
	p, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// FastClock returns a UTC clock that starts now and runs speed times faster
// than real time, so that a simulated monitor sends readings with distinct
// device times many times a second.
func FastClock(speed float64) func() time.Time {
	start := time.Now()
	return func() time.Time {
		return start.Add(time.Duration(float64(time.Since(start)) * speed)).UTC()
	}
}

// Run runs a simulated device of the registered kind on rw until the
// returned stop is called or the test ends, whichever comes first. A nil
// opts.Logger discards the device's logs.
func Run(t testing.TB, kind string, rw io.ReadWriter, opts simulators.Options) (stop func()) {
	t.Helper()
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	k, err := reg.Lookup(kind)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dev, err := k.New(opts)
	if err != nil {
		t.Fatalf("simtest: %s: %v", kind, err)
	}
	return RunDevice(t, dev, rw)
}

// RunDevice runs dev on rw until the returned stop is called or the test
// ends, whichever comes first: Run for a device built with a configuration
// of its own.
func RunDevice(t testing.TB, dev simulators.Device, rw io.ReadWriter) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { dev.Run(ctx, rw) })
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}
