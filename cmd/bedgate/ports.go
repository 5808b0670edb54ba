package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/config"
)

// Kinds "bedgate ports" adds for configured ports that enumeration does not
// list.
const (
	kindAbsent = "absent" // the port's path leads nowhere now
	kindOther  = "other"  // a node that is not a serial port sysfs knows
)

// portRow is one line of "bedgate ports": a port and the beds bound to it.
type portRow struct {
	serialport.PortInfo
	Beds []bedUse `json:"beds,omitempty"`
}

// bedUse names a configured bed and the binding that leads to the port.
type bedUse struct {
	Bed     string `json:"bed"`
	Binding string `json:"binding"`
}

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
	rows := bindPorts(e, ports, beds)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []portRow{}
		}
		return enc.Encode(rows)
	}
	printPorts(stdout, rows)
	return nil
}

// bindPorts matches each bed's binding to the ports; a bed whose port is not
// among them gets a row of its own (a pseudo-terminal, or absent).
func bindPorts(e serialport.Enumerator, ports []serialport.PortInfo, beds []config.Bed) []portRow {
	rows := make([]portRow, len(ports))
	for i, p := range ports {
		rows[i].PortInfo = p
	}
	for _, b := range beds {
		use := bedUse{Bed: b.Name, Binding: b.Port}
		matched := false
		if serialport.IsUSBBinding(b.Port) {
			id, err := serialport.ParseUSBID(b.Port)
			for i := range rows {
				if err == nil && id.Matches(rows[i].PortInfo) {
					rows[i].Beds = append(rows[i].Beds, use)
					matched = true
				}
			}
			if !matched {
				rows = append(rows, portRow{PortInfo: serialport.PortInfo{Name: b.Port, Kind: kindAbsent}, Beds: []bedUse{use}})
			}
			continue
		}
		node, err := e.Node(b.Port)
		for i := range rows {
			if err == nil && rows[i].Name == node {
				rows[i].Beds = append(rows[i].Beds, use)
				matched = true
			}
		}
		if matched {
			continue
		}
		kind := kindOther
		switch {
		case err != nil:
			kind = kindAbsent
		case strings.HasPrefix(node, "/dev/pts/"):
			kind = serialport.KindPTY
		}
		rows = append(rows, portRow{PortInfo: serialport.PortInfo{Name: node, Kind: kind}, Beds: []bedUse{use}})
	}
	return rows
}

func printPorts(w io.Writer, rows []portRow) {
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
	if err := runConfigCheck(args, stdout); err != nil {
		return err
	}
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	cfg, err := config.Load(args[0], reg.Names())
	if err != nil {
		return err
	}
	for _, w := range cfg.PortWarnings(serialport.Enumerator{}) {
		fmt.Fprintln(stderr, "warning:", w)
	}
	return nil
}

// explainOpen adds to an error from opening a port what a biomedical
// engineer needs to fix it: the group to join, the process holding the
// port, the ports present.
func explainOpen(err error) error {
	var oe *serialport.OpenError
	if !errors.As(err, &oe) {
		return err
	}
	node := oe.Node
	if node == "" {
		node = oe.Path
	}
	var more string
	switch {
	case errors.Is(err, serialport.ErrPermission):
		more = permissionFix(node)
	case errors.Is(err, serialport.ErrBusy):
		if holders := holdersOf(node); len(holders) > 0 {
			more = "held by " + strings.Join(holders, ", ") + "; stop it first (a running gateway holds its beds' ports)"
		} else {
			more = "stop the program using it first (a running gateway holds its beds' ports)"
		}
	case errors.Is(err, serialport.ErrNoDevice):
		if ports, lerr := serialport.List(); lerr == nil && len(ports) > 0 {
			var names []string
			for _, p := range ports {
				names = append(names, p.Name)
			}
			more = "ports present: " + strings.Join(names, ", ") + " (see bedgate ports)"
		} else {
			more = "no serial ports are present (see bedgate ports)"
		}
	}
	if more == "" {
		return err
	}
	return fmt.Errorf("%w\n  %s", err, more)
}

// permissionFix says which group to join to open node.
func permissionFix(node string) string {
	me := "USER"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	group := "dialout"
	if info, err := os.Stat(node); err == nil {
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			if g, err := user.LookupGroupId(strconv.FormatUint(uint64(st.Gid), 10)); err == nil {
				group = g.Name
			}
		}
	}
	return fmt.Sprintf("%s belongs to group %s: run \"sudo usermod -aG %s %s\", then log out and in again", node, group, group, me)
}

// holdersOf lists the processes that have node open, as "pid 123 (name)",
// from /proc; processes of other users are not visible without privilege.
func holdersOf(node string) []string {
	want, err := os.Stat(node)
	if err != nil {
		return nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var holders []string
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			info, err := os.Stat(filepath.Join(fdDir, fd.Name()))
			if err == nil && os.SameFile(info, want) {
				name := "?"
				if comm, err := os.ReadFile(filepath.Join("/proc", p.Name(), "comm")); err == nil {
					name = strings.TrimSpace(string(comm))
				}
				holders = append(holders, fmt.Sprintf("pid %d (%s)", pid, name))
				break
			}
		}
	}
	return holders
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
