// Command bedsim runs simulated bedside monitors on pseudo-terminals or
// serial ports, so that a gateway can be run and tested without hardware.
//
// Usage:
//
//	bedsim [flags] KIND[:NAME] ...
//	bedsim [flags] --device KIND [--count N]
//	bedsim [flags] --replay FILE
//
// Each KIND[:NAME] argument starts one simulated device of that kind (for
// example "masimo" or "masimo:bed3"); --device with --count starts N of one
// kind. Devices without a NAME are called bed1, bed2, ... by their position.
// Names may hold letters, digits, '.', '_' and '-'. Flags may come before or
// after the devices.
//
// As soon as every device's terminal exists, bedsim prints one line per
// device to standard output, three fields separated by a tab:
//
//	KIND	NAME	PATH
//
// for example "masimo	bed1	/dev/pts/7", where PATH is the device a
// gateway opens (the pseudo-terminal, or the --port path). It then runs
// until interrupted (SIGINT or SIGTERM) or for the --for duration, and
// exits 0. Diagnostics go to standard error. A bad flag or argument exits
// with status 2, any other failure with status 1.
//
// Flags:
//
//	--device KIND     start --count devices of KIND (instead of arguments)
//	--count N         how many devices --device starts (default 1)
//	--scenario NAME   physiology scenario (default: the simulators' own, "stable")
//	--seed N          seed of the first device; device i gets N+i-1 (default 1)
//	--serial S        serial number of the first device; each next device
//	                  gets the next number when S is all digits, else S-2,
//	                  S-3, ... (default 9000000001, so every device differs)
//	--period D        time between readings (default: the protocol's own)
//	--port PATH       speak on this real serial port, with the kind's line
//	                  settings, instead of a pseudo-terminal (one device only)
//	--link DIR        make DIR/NAME a symlink to each device's terminal
//	--record FILE     write the exact bytes each device sends to FILE; with
//	                  several devices, to FILE with ".NAME" before its
//	                  extension (capture.txt becomes capture.bed1.txt, ...)
//	--replay FILE     play a capture file written by "bedgate capture" back
//	                  as one device (printed as "replay bed1 PATH"), with
//	                  the capture's timing divided by --speed and, with
//	                  --port, its line settings; bedsim exits when the
//	                  capture ends (after the gateway has read it)
//	--values FILE     write one JSON line (a drivers.Reading, identified by
//	                  its device serial) per reading sent, all devices in one file
//	--for D           stop after D (default: run until interrupted)
//	--speed X         run the devices' clocks X times faster than real time,
//	                  from now (default 1); with a short --period this plays
//	                  a scenario in fast motion, for demos and tests
//	--log-level L     debug, info, warn or error (default info)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "bedsim:", err)
	var usage *usageError
	if errors.As(err, &usage) {
		os.Exit(2)
	}
	os.Exit(1)
}
