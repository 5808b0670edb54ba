package serialport

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Explain adds to an error from [Open] what a biomedical engineer needs to
// fix it, on a second indented line: for [ErrPermission] the group to join
// and the command that joins it, for [ErrBusy] the processes holding the
// port (see [Holders]), for [ErrNoDevice] the ports present (see [List]).
// The result still matches everything err matches. Errors that are not a
// [*OpenError], and open errors with nothing to add, are returned as they
// are.
func Explain(err error) error {
	var oe *OpenError
	if !errors.As(err, &oe) {
		return err
	}
	node := oe.Node
	if node == "" {
		node = oe.Path
	}
	var more string
	switch {
	case errors.Is(err, ErrPermission):
		more = permissionFix(node)
	case errors.Is(err, ErrBusy):
		if holders := Holders(node); len(holders) > 0 {
			names := make([]string, len(holders))
			for i, p := range holders {
				names[i] = p.String()
			}
			more = "held by " + strings.Join(names, ", ") + "; stop it first (a running gateway holds its beds' ports)"
		} else {
			more = "stop the program using it first (a running gateway holds its beds' ports)"
		}
	case errors.Is(err, ErrNoDevice):
		if ports, lerr := List(); lerr == nil && len(ports) > 0 {
			names := make([]string, len(ports))
			for i, p := range ports {
				names[i] = p.Name
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

// permissionFix says which group to join to open node: the node's own
// group where it can be read, else dialout.
func permissionFix(node string) string {
	me := "USER"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	group := "dialout"
	if g, ok := nodeGroup(node); ok {
		group = g
	}
	return fmt.Sprintf("%s belongs to group %s: run \"sudo usermod -aG %s %s\", then log out and in again", node, group, group, me)
}

// Process is a process that has a port open.
type Process struct {
	PID  int
	Name string // the command name, or "?" when it cannot be read
}

// String gives the form used in messages, for example "pid 123 (bedgate)".
func (p Process) String() string { return fmt.Sprintf("pid %d (%s)", p.PID, p.Name) }

// Holders lists the processes that have node open, read from /proc, in the
// order /proc lists them. Processes of other users are not visible without
// privilege; on systems without /proc, and for a node that does not exist,
// it returns nil.
func Holders(node string) []Process { return holdersIn("/proc", node) }

// holdersIn is Holders with the proc file system at proc.
func holdersIn(proc, node string) []Process {
	want, err := os.Stat(node)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil
	}
	var holders []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(proc, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			info, err := os.Stat(filepath.Join(fdDir, fd.Name()))
			if err == nil && os.SameFile(info, want) {
				name := "?"
				if comm, err := os.ReadFile(filepath.Join(proc, e.Name(), "comm")); err == nil {
					name = strings.TrimSpace(string(comm))
				}
				holders = append(holders, Process{PID: pid, Name: name})
				break
			}
		}
	}
	return holders
}
