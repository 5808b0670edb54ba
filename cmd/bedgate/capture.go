package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/all"
	capfile "github.com/bedgate/bedgate/drivers/capture"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// defaultLine is the line capture uses without --driver: the commonest
// setting of bedside monitors.
var defaultLine = drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}

func runCapture(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("capture", stderr)
	out := fs.String("out", "", "capture `FILE` to write (required; see drivers/capture for the format)")
	name := fs.String("driver", "", "use this driver's line settings (default 9600 8N1)")
	duration := fs.Duration("for", 0, "stop after this `duration` (default: until interrupted)")
	baud := fs.Int("baud", 0, "baud rate (overrides the driver's)")
	dataBits := fs.Int("data-bits", 0, "data bits, 5 to 8 (overrides the driver's)")
	parity := fs.String("parity", "", "parity: none, even or odd (overrides the driver's)")
	stopBits := fs.Int("stop-bits", 0, "stop bits, 1 or 2 (overrides the driver's)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return fmt.Errorf("%w: capture: give exactly one PORT (see bedgate ports)", errUsage)
	case *out == "":
		return fmt.Errorf("%w: capture: --out FILE is required", errUsage)
	case *duration < 0:
		return fmt.Errorf("%w: capture: --for %v: must not be negative", errUsage, *duration)
	}
	line := defaultLine
	if *name != "" {
		reg, err := all.Registry()
		if err != nil {
			return err
		}
		drv, err := reg.Lookup(*name)
		if err != nil {
			return fmt.Errorf("%w: capture: %v", errUsage, err)
		}
		line = drv.Line
	}
	line = line.Override(drivers.LineSettings{Baud: *baud, DataBits: *dataBits, Parity: drivers.Parity(*parity), StopBits: *stopBits})
	if err := line.Validate(); err != nil {
		return fmt.Errorf("%w: capture: line settings %s:\n%v", errUsage, line, err)
	}

	path := pos[0]
	port, err := serialport.Open(path, line, serialport.Options{})
	if err != nil {
		return fmt.Errorf("capture: %w", serialport.Explain(err))
	}
	defer port.Close()
	// Never overwrite a capture: it may be the only record of a fault.
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	w, err := capfile.NewWriter(f, capfile.Header{Port: path, Node: port.Node(), Driver: *name, Line: &line}, nil)
	if err != nil {
		f.Close()
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	fmt.Fprintf(stderr, "capture: recording %s at %s to %s\n", path, line, *out)

	// Close the port when ctx ends, to unblock the Read.
	stop := context.AfterFunc(ctx, func() { port.Close() })
	defer stop()
	start := time.Now()
	var total, chunks int64
	buf := make([]byte, 4096)
	var readErr error
	for {
		n, err := port.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				readErr = werr
				break
			}
			total += int64(n)
			chunks++
		}
		if err != nil {
			if ctx.Err() == nil || !errors.Is(err, serialport.ErrClosed) {
				readErr = err
			}
			break
		}
	}
	cerr := f.Close()
	fmt.Fprintf(stderr, "capture: %d bytes in %d reads over %v to %s\n", total, chunks, time.Since(start).Round(time.Millisecond), *out)
	switch {
	case errors.Is(readErr, serialport.ErrGone):
		return fmt.Errorf("capture: stopped: %w (what arrived before is in %s)", readErr, *out)
	case readErr != nil:
		return fmt.Errorf("capture: %w", readErr)
	case cerr != nil:
		return fmt.Errorf("capture: %w", cerr)
	}
	return nil
}

// runDecodeCaptures is "decode": it reads capture files (see
// drivers/capture) as well as raw bytes, telling them apart by the capture
// magic, and takes the driver from a capture's header when --driver is not
// given.
func runDecodeCaptures(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("decode", io.Discard)
	name := fs.String("driver", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		return runDecode(ctx, args, stdin, stdout, stderr) // it reports the mistake
	}
	if *name != "" {
		if reg, err := all.Registry(); err != nil || !slices.Contains(reg.Names(), *name) {
			return runDecode(ctx, args, stdin, stdout, stderr) // it names the drivers
		}
	}
	in := stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			// Let decode report it, after the mistakes in its arguments.
			return runDecode(ctx, args, stdin, stdout, stderr)
		}
		defer f.Close()
		in = f
		args = append(args[:len(args)-1:len(args)-1], "-")
	}
	raw, h, err := capfile.Raw(in)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if *name == "" && h != nil && h.Driver != "" {
		args = append([]string{"--driver", h.Driver}, args...)
	}
	return runDecode(ctx, args, raw, stdout, stderr)
}
