// Command bedgate is the bedside device gateway: it reads vital-sign
// monitors over serial ports and forwards validated observations to the
// electronic patient record over MQTT.
//
// Usage:
//
//	bedgate run --config FILE         run the gateway
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
//	bedgate help [COMMAND]            list the commands, or one's flags
//
// Every command answers --help with its synopsis and flags (exit status 0).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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

// A command is one of bedgate's subcommands: its synopsis (after
// "bedgate "), what it does, and the function that runs it.
type command struct {
	name, synopsis, summary string
	run                     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order usage shows them.
var commands []command

func init() {
	commands = []command{
		{"run", "run --config FILE [--log-level LEVEL]", "run the gateway",
			func(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
				return runGateway(ctx, args, stderr)
			}},
		{"decode", "decode --driver NAME [FILE|-]", "decode captured device bytes into JSON lines", runDecodeCaptures},
		{"config", "config check FILE", "check a configuration file (exit 1 on any problem);\nwarns about port bindings that are not stable", runConfig},
		{"ports", "ports [--json] [--config FILE]", "list serial ports (USB ids, serial numbers, by-id and\nby-path names) and the beds bound to them; opens none",
			func(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
				return runPorts(args, stdout, stderr)
			}},
		{"probe", "probe PORT [--driver NAME] [--timeout D]", "try each driver on a port; report what answered",
			func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
				return runProbe(ctx, args, stdout, stderr)
			}},
		{"capture", "capture PORT --out FILE [--driver NAME] [--for D]", "record the bytes a device sends, with timestamps\n(decode reads captures; bedsim --replay plays them)",
			func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
				return runCapture(ctx, args, stdout, stderr)
			}},
		{"version", "version", "print the version", runVersion},
		{"help", "help [COMMAND]", "print this, or a command's flags", runHelp},
	}
}

// usage is the list of commands, each with its synopsis and summary.
func usage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		lines := strings.Split(c.summary, "\n")
		syn := "  bedgate " + c.synopsis
		if len(syn) < 41 {
			fmt.Fprintf(&b, "%-41s%s\n", syn, lines[0])
		} else {
			fmt.Fprintf(&b, "%s\n%41s%s\n", syn, "", lines[0])
		}
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "%41s%s\n", "", l)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage())
		return fmt.Errorf("%w: no command given", errUsage)
	}
	name, rest := args[0], args[1:]
	switch {
	case isHelp(name):
		name = "help"
	case name == "--version":
		name = "version"
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintln(stderr, usage())
		return fmt.Errorf("%w: unknown command %q", errUsage, name)
	}
	err := c.run(ctx, rest, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the flag set printed the command's help
	}
	return err
}

// runHelp is "help [COMMAND]": the list of commands, or one command's
// synopsis and flags, on stdout.
func runHelp(ctx context.Context, args []string, stdin io.Reader, stdout, _ io.Writer) error {
	switch len(args) {
	case 0:
		fmt.Fprintln(stdout, usage())
		return nil
	case 1:
	default:
		return fmt.Errorf("%w: help: give at most one COMMAND", errUsage)
	}
	c, ok := lookup(args[0])
	switch {
	case c.name == "help" || isHelp(args[0]):
		fmt.Fprintln(stdout, usage())
		return nil
	case !ok:
		return fmt.Errorf("%w: help: unknown command %q", errUsage, args[0])
	}
	err := c.run(ctx, []string{"--help"}, stdin, stdout, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// runVersion is "version".
func runVersion(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	switch {
	case len(args) == 1 && isHelp(args[0]):
		printSynopsis(stdout, "version")
		return nil
	case len(args) > 0:
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	fmt.Fprintln(stdout, "bedgate", version)
	return nil
}

// runConfig is "config check FILE".
func runConfig(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return fmt.Errorf("%w: config: the only subcommand is \"check FILE\"", errUsage)
	case isHelp(args[0]) || (args[0] == "check" && len(args) == 2 && isHelp(args[1])):
		printSynopsis(stdout, "config")
		return nil
	case args[0] != "check":
		return fmt.Errorf("%w: config: the only subcommand is \"check FILE\"", errUsage)
	}
	return runConfigCheckPorts(args[1:], stdout, stderr)
}

// printSynopsis prints a command's synopsis and summary.
func printSynopsis(w io.Writer, name string) {
	c, _ := lookup(name)
	fmt.Fprintf(w, "usage: bedgate %s\n\n%s\n", c.synopsis, c.summary)
}
