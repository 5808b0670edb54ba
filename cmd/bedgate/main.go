// Command bedgate is the bedside device gateway: it reads vital-sign
// monitors over serial ports and forwards validated observations to the
// electronic patient record over MQTT.
//
// Usage:
//
//	bedgate run --config FILE         run the gateway
//	bedgate demo [--for D] [--broker URL] [--beds N]
//	                                  embedded broker + simulated monitors + gateway
//	bedgate decode --driver NAME [FILE|-]
//	                                  decode captured device bytes to JSON lines
//	bedgate config check FILE         check a configuration file
//	bedgate version                   print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks command-line mistakes: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bedgate:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `usage:
  bedgate run --config FILE              run the gateway
  bedgate demo [--for D] [--broker URL] [--beds N]
                                         embedded broker, simulated monitors and the gateway;
                                         prints what the EPR receives
  bedgate decode --driver NAME [FILE|-]  decode captured device bytes into JSON lines
  bedgate config check FILE              check a configuration file (exit 1 on any problem)
  bedgate version                        print the version`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return runGateway(ctx, rest, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "decode":
		return runDecode(ctx, rest, stdin, stdout, stderr)
	case "config":
		if len(rest) == 0 || rest[0] != "check" {
			return fmt.Errorf("%w: config: the only subcommand is \"check FILE\"", errUsage)
		}
		return runConfigCheck(rest[1:], stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "bedgate", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}
