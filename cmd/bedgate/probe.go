package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// defaultProbeTimeout is how long probe listens with each driver. Every
// supported device sends at least once a second when it is set up right.
const defaultProbeTimeout = 3 * time.Second

// errNothingAnswered is probe's result on a port where no driver heard a
// device.
var errNothingAnswered = errors.New("nothing answered")

// probeValues is how many values of the first reading probe prints.
const probeValues = 6

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("probe", stderr)
	only := fs.String("driver", "", "try only this driver (default: each in turn)")
	timeout := fs.Duration("timeout", defaultProbeTimeout, "how long to listen with each driver")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: probe: give exactly one PORT (see bedgate ports)", errUsage)
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: probe: --timeout %v: must be positive", errUsage, *timeout)
	}
	path := pos[0]
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	names := reg.Names()
	if *only != "" {
		if _, err := reg.Lookup(*only); err != nil {
			return fmt.Errorf("%w: probe: %v", errUsage, err)
		}
		names = []string{*only}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	var tried []string
	for _, name := range names {
		drv, _ := reg.Lookup(name)
		fmt.Fprintf(stdout, "%s: trying %s at %s ... ", path, name, drv.Line)
		res, err := probeOne(ctx, path, drv, *timeout, log)
		if err != nil {
			fmt.Fprintln(stdout, "cannot open")
			if errors.Is(err, serialport.ErrInvalidSettings) {
				fmt.Fprintf(stdout, "  %v\n", err)
				tried = append(tried, name+" (settings refused)")
				continue
			}
			return fmt.Errorf("probe: %w", serialport.Explain(err))
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "interrupted")
			return ctx.Err()
		}
		if res.reading == nil {
			fmt.Fprintln(stdout, res.silence())
			tried = append(tried, fmt.Sprintf("%s at %s", name, drv.Line))
			continue
		}
		fmt.Fprintln(stdout, "answered")
		printProbe(stdout, path, drv, res)
		return nil
	}
	return fmt.Errorf("probe: %s: %w (tried %s, %v each); check the cable (null-modem?), that the device's serial output is on, and its mode and speed",
		path, errNothingAnswered, strings.Join(tried, ", "), *timeout)
}

// probeResult is what one driver heard in the time given.
type probeResult struct {
	reading *drivers.Reading
	stats   drivers.Stats
	bytes   int64 // bytes that arrived
	node    string
	ended   error // the session ended early (the device went away)
	took    time.Duration
}

func (r probeResult) silence() string {
	switch {
	case r.ended != nil:
		return fmt.Sprintf("link lost: %v", r.ended)
	case r.bytes == 0:
		return "silent"
	default:
		s := fmt.Sprintf("no reading (%d bytes: %d frames, %d rejected, %d bytes skipped", r.bytes, r.stats.Frames, r.stats.Bad, r.stats.Skipped)
		if r.stats.LastError != "" {
			s += "; last: " + r.stats.LastError
		}
		return s + ")"
	}
}

// probeOne opens path at the driver's settings and runs a session until the
// first reading or the timeout. The error is only from opening the port.
func probeOne(ctx context.Context, path string, drv drivers.Driver, timeout time.Duration, log *slog.Logger) (probeResult, error) {
	port, err := serialport.Open(path, drv.Line, serialport.Options{})
	if err != nil {
		return probeResult{}, err
	}
	defer port.Close()
	res := probeResult{node: port.Node()}
	counted := &countingPort{rw: port}
	sess, err := drv.NewSession(counted, drivers.Options{Logger: log})
	if err != nil {
		res.ended = err
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errGot := errors.New("got a reading")
	start := time.Now()
	err = sess.Run(ctx, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		res.reading = &r
		return errGot
	}))
	res.took = time.Since(start)
	res.stats = sess.Stats()
	res.bytes = counted.n.Load()
	if err != nil && !errors.Is(err, errGot) && ctx.Err() == nil {
		res.ended = err
	}
	return res, nil
}

func printProbe(w io.Writer, path string, drv drivers.Driver, res probeResult) {
	r := res.reading
	fmt.Fprintf(w, "  port:    %s", path)
	if res.node != "" && res.node != path {
		fmt.Fprintf(w, " (%s)", res.node)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  driver:  %s: %s\n", drv.Name, drv.Description)
	fmt.Fprintf(w, "  line:    %s\n", drv.Line)
	dev := r.Device.Driver
	if r.Device.Model != "" {
		dev += " model " + r.Device.Model
	}
	if r.Device.Serial != "" {
		dev += " serial " + r.Device.Serial
	} else {
		dev += " (no serial number)"
	}
	fmt.Fprintf(w, "  device:  %s\n", dev)
	if !r.DeviceTime.IsZero() {
		fmt.Fprintf(w, "  clock:   %s (device time)\n", r.DeviceTime.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  heard:   first reading after %v\n", res.took.Round(time.Millisecond))
	var vals []string
	for _, v := range r.Values {
		if len(vals) == probeValues {
			vals = append(vals, "...")
			break
		}
		name := v.Label
		if name == "" {
			name = v.Ref
		}
		val := "--"
		if v.Value != nil {
			val = strconv.FormatFloat(*v.Value, 'f', -1, 64)
		}
		s := name + " " + val
		if v.Unit != "" && v.Value != nil {
			s += " " + v.Unit
		}
		if v.Status != 0 {
			s += " [" + v.Status.String() + "]"
		}
		vals = append(vals, s)
	}
	fmt.Fprintf(w, "  values:  %s\n", strings.Join(vals, ", "))
}

// countingPort counts the bytes read through it.
type countingPort struct {
	rw io.ReadWriter
	n  atomic.Int64
}

func (c *countingPort) Read(p []byte) (int, error) {
	n, err := c.rw.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingPort) Write(p []byte) (int, error) { return c.rw.Write(p) }
