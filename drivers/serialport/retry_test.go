//go:build linux

package serialport

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

func captureLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func TestOpenWithRetryWaitsForTheDevice(t *testing.T) {
	master, slave := newPTY(t)
	link := filepath.Join(t.TempDir(), "bed1")
	log, logs := captureLogger()

	go func() {
		time.Sleep(150 * time.Millisecond)
		os.Symlink(slave.Name(), link) // the device is plugged in
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := OpenWithRetry(ctx, link, line9600, Options{Logger: log, Backoff: Backoff{Min: 5 * ms, Max: 20 * ms}})
	if err != nil {
		t.Fatalf("OpenWithRetry: %v", err)
	}
	defer p.Close()

	if _, err := master.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := p.Read(buf); err != nil || n == 0 {
		t.Fatalf("Read = %d, %v", n, err)
	}

	// Several attempts failed the same way: one warning, the rest at debug.
	text := logs.String()
	if got := strings.Count(text, "level=WARN"); got != 1 {
		t.Errorf("%d warnings for one repeated failure, want 1:\n%s", got, text)
	}
	if strings.Count(text, "level=DEBUG") < 2 {
		t.Errorf("repeated failures were not logged at debug:\n%s", text)
	}
}

func TestOpenWithRetryStopsWithContext(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "never")
	log, _ := captureLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := OpenWithRetry(ctx, missing, line9600, Options{Logger: log, Backoff: Backoff{Min: 10 * ms, Max: 10 * time.Second}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("OpenWithRetry = %v, want DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "no such device") {
		t.Errorf("error %q should name the last failure", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("OpenWithRetry returned %v after the deadline", elapsed)
	}
}

func TestOpenWithRetryGivesUpOnInvalidSettings(t *testing.T) {
	_, slave := newPTY(t)
	log, _ := captureLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bad := drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 3}
	_, err := OpenWithRetry(ctx, slave.Name(), bad, Options{Logger: log})
	if !errors.Is(err, ErrInvalidSettings) {
		t.Fatalf("OpenWithRetry = %v, want ErrInvalidSettings", err)
	}
	if ctx.Err() != nil {
		t.Error("OpenWithRetry retried settings that can never work")
	}
}

// TestOpenWithRetryReportsEachFailure checks that OnRetry hears every failed
// attempt with its cause (a missing node: ErrNoDevice) and a positive delay.
func TestOpenWithRetryReportsEachFailure(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "never")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failures []error
	var delays []time.Duration
	_, err := OpenWithRetry(ctx, missing, line9600, Options{
		Logger:  slog.New(slog.DiscardHandler),
		Backoff: Backoff{Min: ms, Max: 2 * ms},
		OnRetry: func(err error, retryIn time.Duration) {
			failures, delays = append(failures, err), append(delays, retryIn)
			if len(failures) == 3 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenWithRetry = %v, want Canceled", err)
	}
	if len(failures) != 3 {
		t.Fatalf("OnRetry called %d times, want 3", len(failures))
	}
	for i, f := range failures {
		if !errors.Is(f, ErrNoDevice) || delays[i] <= 0 {
			t.Errorf("failure %d: %v after %v, want ErrNoDevice and a positive delay", i, f, delays[i])
		}
	}
}
