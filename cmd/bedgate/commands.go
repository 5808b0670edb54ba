package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/ratelog"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/config"
)

// newFlagSet returns a flag set that reports errors instead of exiting;
// asked for help, it prints the command's synopsis, summary and flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		printSynopsis(fs.Output(), name)
		fmt.Fprintln(fs.Output(), "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	return nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: use debug, info, warn or error", errUsage, level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runGateway(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	path := fs.String("config", "", "configuration file (YAML); BEDGATE_* environment variables override it")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: run: --config FILE is required", errUsage)
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	cfg, err := config.Load(*path, reg.Names())
	if err != nil {
		return err
	}
	mem := gateway.LimitMemory()
	log.Debug("memory settings", "limit_bytes", mem.Limit, "gc_percent", mem.GCPercent, "gc_headroom_bytes", mem.GCHeadroom)
	return gateway.Run(ctx, gateway.Options{Config: cfg, Drivers: reg, Logger: log, Version: version,
		OnStart: func(g *gateway.Gateway) { notifyService(ctx, g, log) }})
}

// runConfigCheck loads and checks one configuration file, reports it ok,
// and returns it for further checks.
func runConfigCheck(args []string, stdout io.Writer) (*config.Config, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%w: config check: give exactly one FILE", errUsage)
	}
	reg, err := all.Registry()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(args[0], reg.Names())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "%s: ok: gateway %s, %d beds, broker %s\n", args[0], cfg.Gateway.ID, len(cfg.Beds), strings.Join(cfg.MQTT.URLs(), ", "))
	return cfg, nil
}

func runDecode(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("decode", stderr)
	name := fs.String("driver", "", "driver that produced the bytes (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("%w: decode: --driver is required (one of %v)", errUsage, reg.Names())
	}
	drv, err := reg.Lookup(*name)
	if err != nil {
		return fmt.Errorf("%w: decode: %v", errUsage, err)
	}
	in := stdin
	switch fs.NArg() {
	case 0:
	case 1:
		if p := fs.Arg(0); p != "-" {
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			defer f.Close()
			in = f
		}
	default:
		return fmt.Errorf("%w: decode: give at most one FILE", errUsage)
	}
	enc := json.NewEncoder(stdout)
	sink := drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		d := decoded{Device: r.Device, Values: r.Values, DeviceStatus: r.DeviceStatus}
		if !r.DeviceTime.IsZero() {
			d.DeviceTime = &r.DeviceTime
		}
		return enc.Encode(d)
	})
	log := slog.New(ratelog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}), ratelog.Options{}))
	st, err := drv.Decode(ctx, in, sink, drivers.Options{Logger: log})
	fmt.Fprintf(stderr, "decode: %d readings, %d frames, %d rejected, %d bytes skipped\n", st.Readings, st.Frames, st.Bad, st.Skipped)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// decoded is one JSON line of "bedgate decode": a reading without the
// receive time, which a capture does not have.
type decoded struct {
	DeviceTime   *time.Time       `json:"device_time"` // null when the device sent no time
	Device       drivers.DeviceID `json:"device"`
	Values       []drivers.Value  `json:"values"`
	DeviceStatus string           `json:"device_status,omitempty"`
}
