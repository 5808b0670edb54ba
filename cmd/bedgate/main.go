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
//	bedgate ports [--json] [--config FILE]
//	                                  list serial ports and the beds bound to them
//	bedgate probe PORT [--driver NAME] [--timeout D]
//	                                  find which driver's device answers on a port
//	bedgate capture PORT --out FILE [--driver NAME] [--for D]
//	                                  record what a device sends, with timestamps
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
  bedgate config check FILE              check a configuration file (exit 1 on any problem);
                                         warns about port bindings that are not stable
  bedgate ports [--json] [--config FILE] list serial ports (USB ids, serial numbers, by-id and
                                         by-path names) and the beds bound to them; opens none
  bedgate probe PORT [--driver NAME] [--timeout D]
                                         try each driver on a port; report what answered
  bedgate capture PORT --out FILE [--driver NAME] [--for D]
                                         record the bytes a device sends, with timestamps
                                         (decode reads captures; bedsim --replay plays them)
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
		return runDecodeCaptures(ctx, rest, stdin, stdout, stderr)
	case "config":
		if len(rest) == 0 || rest[0] != "check" {
			return fmt.Errorf("%w: config: the only subcommand is \"check FILE\"", errUsage)
		}
		return runConfigCheckPorts(rest[1:], stdout, stderr)
	case "ports":
		return runPorts(rest, stdout, stderr)
	case "probe":
		return runProbe(ctx, rest, stdout, stderr)
	case "capture":
		return runCapture(ctx, rest, stdout, stderr)
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
