package serialport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// OpenWithRetry opens the port at path like Open, trying again after each
// failure with the delays of opts.Backoff, until it succeeds or ctx ends.
// It is what a supervisor calls to wait for a device to be plugged in.
//
// Each distinct failure is logged once at warn level to opts.Logger; a
// failure that repeats is logged at debug level only. Invalid line settings
// are returned at once, since no retry can fix them. When ctx ends it returns
// an error matching ctx.Err() that also names the last failure.
func OpenWithRetry(ctx context.Context, path string, line drivers.LineSettings, opts Options) (*Port, error) {
	opts = opts.withDefaults()
	log := opts.Logger.With("port", path)
	backoff := opts.Backoff
	backoff.Reset()
	var last error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, retryStopped(path, err, last)
		}
		p, err := Open(path, line, opts)
		if err == nil {
			if attempt > 1 {
				log.Info("serialport: port open", "node", p.Node(), "attempts", attempt)
			}
			return p, nil
		}
		if errors.Is(err, ErrInvalidSettings) {
			return nil, err
		}
		delay := backoff.Next()
		if last == nil || err.Error() != last.Error() {
			log.Warn("serialport: cannot open port, retrying", "err", err, "retry_in", delay)
		} else {
			log.Debug("serialport: cannot open port, retrying", "err", err, "retry_in", delay, "attempt", attempt)
		}
		last = err
		if opts.OnRetry != nil {
			opts.OnRetry(err, delay)
		}

		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, retryStopped(path, ctx.Err(), last)
		case <-t.C:
		}
	}
}

func retryStopped(path string, cause, last error) error {
	if last == nil {
		return fmt.Errorf("serialport: open %s: %w", path, cause)
	}
	return fmt.Errorf("serialport: open %s: %w (last failure: %v)", path, cause, last)
}
