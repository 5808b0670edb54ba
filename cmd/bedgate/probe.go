package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/probe"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// probeValues is how many values of the first reading probe prints.
const probeValues = 6

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("probe", stderr)
	only := fs.String("driver", "", "try only this driver (default: each in turn)")
	timeout := fs.Duration("timeout", 0, "how long to listen with each driver (default: the driver's own, 3 reading periods and at least 3s)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: probe: give exactly one PORT (see bedgate ports)", errUsage)
	}
	if *timeout < 0 {
		return fmt.Errorf("%w: probe: --timeout %v: must not be negative", errUsage, *timeout)
	}
	path := pos[0]
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	names := reg.Names()
	if *only != "" {
		names = []string{*only}
	}
	drvs := make([]drivers.Driver, len(names))
	for i, name := range names {
		if drvs[i], err = reg.Lookup(name); err != nil {
			return fmt.Errorf("%w: probe: %v", errUsage, err)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	res, err := probe.All(ctx, path, drvs, *timeout, probe.Options{
		Session: drivers.Options{Logger: log},
		Trying: func(drv drivers.Driver) {
			fmt.Fprintf(stdout, "%s: trying %s at %s ... ", path, drv.Name, drv.Line)
		},
		Tried: func(res probe.Result, err error) {
			switch {
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				fmt.Fprintln(stdout, "interrupted")
			case err != nil:
				fmt.Fprintln(stdout, "cannot open")
				if errors.Is(err, serialport.ErrInvalidSettings) {
					fmt.Fprintf(stdout, "  %v\n", err)
				}
			case res.Reading == nil:
				fmt.Fprintln(stdout, silence(res))
			default:
				fmt.Fprintln(stdout, "answered")
			}
		},
	})
	switch {
	case errors.Is(err, probe.ErrNothingAnswered), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case err != nil: // from opening the port
		return fmt.Errorf("probe: %w", serialport.Explain(err))
	}
	printProbe(stdout, path, res)
	return nil
}

// silence says what a driver heard when it heard no reading.
func silence(r probe.Result) string {
	switch {
	case r.Ended != nil:
		return fmt.Sprintf("link lost: %v", r.Ended)
	case r.Bytes == 0:
		return "silent"
	default:
		s := fmt.Sprintf("no reading (%d bytes: %d frames, %d rejected, %d bytes skipped", r.Bytes, r.Stats.Frames, r.Stats.Bad, r.Stats.Skipped)
		if r.Stats.LastError != "" {
			s += "; last: " + r.Stats.LastError
		}
		return s + ")"
	}
}

func printProbe(w io.Writer, path string, res probe.Result) {
	r, drv := res.Reading, res.Driver
	fmt.Fprintf(w, "  port:    %s", path)
	if res.Node != "" && res.Node != path {
		fmt.Fprintf(w, " (%s)", res.Node)
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
	fmt.Fprintf(w, "  heard:   first reading after %v\n", res.Took.Round(time.Millisecond))
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
