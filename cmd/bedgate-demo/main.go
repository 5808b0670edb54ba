// Command bedgate-demo runs a ward in one process: an embedded MQTT broker,
// simulated monitors on pseudo-terminals, the gateway reading them through
// the real serial path, and a subscriber that prints what the EPR receives.
//
// Usage:
//
//	bedgate-demo [--for D] [--broker URL] [--beds N] [--all] [--status ADDR] [--log-level LEVEL]
//
// It is a program of its own so that the production bedgate binary links
// neither the embedded broker nor the simulators.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/gateway/demo"
	simall "github.com/bedgate/bedgate/simulators/all"
)

// errUsage marks command-line mistakes: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "bedgate-demo:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "bedgate-demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bedgate-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bedgate-demo [--for D] [--broker URL] [--beds N] [--all] [--status ADDR] [--log-level LEVEL]\n\n"+
			"embedded broker, simulated monitors and the gateway; prints what the EPR receives\n"+
			"(one line per reading) and the status page's address\n\nflags:")
		fs.PrintDefaults()
	}
	dur := fs.Duration("for", 0, "stop after this long (default: until Ctrl-C)")
	broker := fs.String("broker", "", "use this external broker (tcp://host:port) instead of the embedded one")
	beds := fs.Int("beds", 4, "number of simulated monitors")
	full := fs.Bool("all", false, "print every observation on a line of its own (the full stream)")
	status := fs.String("status", "", "status page address host:port (default: a free loopback port; off: none)")
	level := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *beds < 1 || *beds > 64:
		return fmt.Errorf("%w: --beds %d: must be between 1 and 64", errUsage, *beds)
	case *dur < 0:
		return fmt.Errorf("%w: --for %v: must not be negative", errUsage, *dur)
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("%w: --log-level %q: use debug, info, warn or error", errUsage, *level)
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
		All:        *full,
		Status:     *status,
		Logger:     slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})),
		Drivers:    reg,
		Simulators: sims,
	})
}
