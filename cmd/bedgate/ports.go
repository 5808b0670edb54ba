package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/config"
)

func runPorts(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ports", stderr)
	asJSON := fs.Bool("json", false, "print JSON (an array of ports) instead of a table")
	cfgPath := fs.String("config", "", "configuration `FILE` whose beds to show against the ports")
	root := fs.String("root", "", "read sys and dev under `DIR` instead of / (for tests)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: ports: unexpected argument %q", errUsage, fs.Arg(0))
	}
	e := serialport.Enumerator{Root: *root}
	ports, err := e.List()
	if err != nil {
		return fmt.Errorf("ports: %w", err)
	}
	var beds []config.Bed
	if *cfgPath != "" {
		reg, err := all.Registry()
		if err != nil {
			return err
		}
		cfg, err := config.Load(*cfgPath, reg.Names())
		if err != nil {
			return err
		}
		beds = cfg.Beds
	}
	rows := config.BindPorts(e, ports, beds)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []config.BoundPort{}
		}
		return enc.Encode(rows)
	}
	printPorts(stdout, rows)
	return nil
}

func printPorts(w io.Writer, rows []config.BoundPort) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no serial ports found")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tKIND\tVID:PID\tSERIAL\tMANUFACTURER\tPRODUCT\tBED")
	for _, r := range rows {
		ids := "-"
		if r.USB {
			ids = r.VID + ":" + r.PID
			if r.Interface != "" && r.Interface != "00" {
				ids += " if" + r.Interface
			}
		}
		var beds []string
		for _, b := range r.Beds {
			beds = append(beds, b.Bed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Kind, ids, dash(r.Serial), dash(r.Manufacturer), dash(r.Product), dash(strings.Join(beds, ",")))
	}
	tw.Flush()
	for _, r := range rows {
		if len(r.ByID)+len(r.ByPath)+len(r.Beds) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", r.Name)
		for _, n := range r.ByPath {
			fmt.Fprintf(w, "  by-path  %s\n", n)
		}
		for _, n := range r.ByID {
			fmt.Fprintf(w, "  by-id    %s\n", n)
		}
		for _, b := range r.Beds {
			fmt.Fprintf(w, "  bed      %s (%s)\n", b.Bed, b.Binding)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runConfigCheckPorts is "config check": the configuration's own checks,
// then warnings (on stderr) about its port bindings against the ports
// present. Warnings do not change the exit status.
func runConfigCheckPorts(args []string, stdout, stderr io.Writer) error {
	cfg, err := runConfigCheck(args, stdout)
	if err != nil {
		return err
	}
	for _, w := range append(cfg.SecretWarnings(), cfg.PortWarnings(serialport.Enumerator{})...) {
		fmt.Fprintln(stderr, "warning:", w)
	}
	return nil
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("probe PORT --driver masimo") and returns the
// positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for rest := args; ; {
		if err := parseFlags(fs, rest); err != nil {
			return nil, err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos, rest = append(pos, rest[0]), rest[1:]
	}
}
