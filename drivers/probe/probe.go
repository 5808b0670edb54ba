package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// ErrNothingAnswered is matched by the error [All] returns when no driver
// heard a reading on the port. All wraps it with the port and what it tried.
var ErrNothingAnswered = errors.New("nothing answered")

// Result is what one driver heard on a port in the time given.
type Result struct {
	Driver drivers.Driver
	// Reading is the first reading the session emitted, or nil if none came.
	Reading *drivers.Reading
	// Stats are the session's statistics when it stopped.
	Stats drivers.Stats
	// Bytes counts the bytes that arrived from the device.
	Bytes int64
	// Node is the device node the port's path resolved to.
	Node string
	// Ended is why the session ended before a reading or the timeout (for
	// example the device went away), or nil.
	Ended error
	// Took is how long the session ran: until the first reading, or the
	// whole timeout.
	Took time.Duration
}

// Probe opens path at drv's line settings and runs drv's session until its
// first reading, the timeout or the end of ctx. The error is only from
// opening the port (see [serialport.Open] and [serialport.Explain]); what
// the session heard, or why it ended, is in the Result. A timeout of zero
// means the driver's own (drivers.Driver.ProbeTimeout); the session gets
// opts.
func Probe(ctx context.Context, path string, drv drivers.Driver, timeout time.Duration, opts drivers.Options) (Result, error) {
	port, err := serialport.Open(path, drv.Line, serialport.Options{})
	if err != nil {
		return Result{Driver: drv}, err
	}
	defer port.Close()
	res := Result{Driver: drv, Node: port.Node()}
	counted := &countingReadWriter{rw: port}
	sess, err := drv.NewSession(counted, opts)
	if err != nil {
		res.Ended = err
		return res, nil
	}
	if timeout <= 0 {
		timeout = drv.ProbeTimeout()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errGot := errors.New("probe: got a reading")
	start := time.Now()
	err = sess.Run(ctx, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		res.Reading = &r
		return errGot
	}))
	res.Took = time.Since(start)
	res.Stats = sess.Stats()
	res.Bytes = counted.n.Load()
	if err != nil && !errors.Is(err, errGot) && ctx.Err() == nil {
		res.Ended = err
	}
	return res, nil
}

// Options control [All].
type Options struct {
	// Session is given to each driver's session (its logger and clock).
	Session drivers.Options
	// Trying, if not nil, is called before each driver is tried, so that
	// a caller can show progress (each try may take the whole timeout).
	Trying func(drv drivers.Driver)
	// Tried, if not nil, is called after each try with what was heard and
	// the try's error: the error from opening the port, or the context's
	// error when ctx ended during the try, or nil.
	Tried func(res Result, err error)
}

// All probes path with each driver in drvs in turn (see [Probe]; a zero
// timeout gives each driver its own) and
// returns the result of the first that hears a reading. A driver whose line
// settings the port refuses ([serialport.ErrInvalidSettings]) is passed
// over; any other error opening the port ends the search and is returned
// as it is. When ctx ends, All returns its error. When no driver hears a
// reading the error matches [ErrNothingAnswered] and names what was tried.
func All(ctx context.Context, path string, drvs []drivers.Driver, timeout time.Duration, opts Options) (Result, error) {
	tried := func(res Result, err error) {
		if opts.Tried != nil {
			opts.Tried(res, err)
		}
	}
	var names []string
	for _, drv := range drvs {
		if opts.Trying != nil {
			opts.Trying(drv)
		}
		res, err := Probe(ctx, path, drv, timeout, opts.Session)
		if err != nil {
			tried(res, err)
			if errors.Is(err, serialport.ErrInvalidSettings) {
				names = append(names, drv.Name+" (settings refused)")
				continue
			}
			return Result{}, err
		}
		if err := ctx.Err(); err != nil {
			tried(res, err)
			return Result{}, err
		}
		tried(res, nil)
		if res.Reading != nil {
			return res, nil
		}
		wait := timeout
		if wait <= 0 {
			wait = drv.ProbeTimeout()
		}
		names = append(names, fmt.Sprintf("%s at %s for %v", drv.Name, drv.Line, wait))
	}
	return Result{}, fmt.Errorf("probe: %s: %w (tried %s); check the cable (null-modem?), that the device's serial output is on, and its mode and speed",
		path, ErrNothingAnswered, strings.Join(names, ", "))
}

// countingReadWriter counts the bytes read through it.
type countingReadWriter struct {
	rw io.ReadWriter
	n  atomic.Int64
}

func (c *countingReadWriter) Read(p []byte) (int, error) {
	n, err := c.rw.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReadWriter) Write(p []byte) (int, error) { return c.rw.Write(p) }
