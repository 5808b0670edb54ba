package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/gateway/demo"
	simall "github.com/bedgate/bedgate/simulators/all"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	dur := fs.Duration("for", 0, "stop after this long (default: until Ctrl-C)")
	broker := fs.String("broker", "", "use this external broker (tcp://host:port) instead of the embedded one")
	beds := fs.Int("beds", 4, "number of simulated monitors")
	level := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *beds < 1 || *beds > 64 {
		return fmt.Errorf("%w: demo: --beds %d: must be between 1 and 64", errUsage, *beds)
	}
	if *dur < 0 {
		return fmt.Errorf("%w: demo: --for %v: must not be negative", errUsage, *dur)
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("%w: demo: --log-level %q: use debug, info, warn or error", errUsage, *level)
	}
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	sims, err := simall.Registry()
	if err != nil {
		return err
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	return demo.Run(ctx, demo.Options{
		Beds:       *beds,
		Broker:     *broker,
		Out:        stdout,
		Logger:     slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})),
		Drivers:    reg,
		Simulators: sims,
	})
}
