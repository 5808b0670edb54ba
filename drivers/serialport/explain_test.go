//go:build linux

package serialport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tempNode makes an empty file standing for a device node.
func tempNode(t *testing.T) string {
	t.Helper()
	node := filepath.Join(t.TempDir(), "ttyUSB0")
	if err := os.WriteFile(node, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return node
}

func TestExplain(t *testing.T) {
	node := tempNode(t)
	held, err := os.Open(node) // this process holds node
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	free := tempNode(t)
	me := fmt.Sprintf("pid %d (", os.Getpid())

	tests := []struct {
		name string
		err  error
		is   error    // the explained error must still match it
		want []string // what the explanation adds; none means err comes back unchanged
	}{
		{"not an open error", errors.New("serialport: read /dev/ttyUSB0: boom"), nil, nil},
		{"nothing to add", &OpenError{Path: "/dev/null", Node: "/dev/null", Kind: ErrNotSerial}, ErrNotSerial, nil},
		{"permission", &OpenError{Path: "/dev/serial/by-path/x", Node: node, Kind: ErrPermission},
			ErrPermission, []string{"permission denied", node + " belongs to group ", "sudo usermod -aG ", "log out and in again"}},
		{"permission without a node", &OpenError{Path: node, Kind: ErrPermission},
			ErrPermission, []string{node + " belongs to group "}},
		{"busy, held here", &OpenError{Path: "/dev/serial/by-id/y", Node: node, Kind: ErrBusy},
			ErrBusy, []string{"port busy", "\n  held by " + me, "; stop it first (a running gateway holds its beds' ports)"}},
		{"busy, holder unseen", &OpenError{Path: free, Node: free, Kind: ErrBusy},
			ErrBusy, []string{"\n  stop the program using it first (a running gateway holds its beds' ports)"}},
		{"no device", &OpenError{Path: "/dev/serial/by-path/gone", Kind: ErrNoDevice},
			ErrNoDevice, []string{"no such device", "(see bedgate ports)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.err)
			if len(tt.want) == 0 {
				if got != tt.err {
					t.Fatalf("Explain(%q) = %q, want it unchanged", tt.err, got)
				}
				return
			}
			msg := got.Error()
			if !strings.HasPrefix(msg, tt.err.Error()+"\n  ") {
				t.Errorf("Explain(%q) = %q, want the error then an indented line", tt.err, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Explain(%q) = %q, does not say %q", tt.err, msg, w)
				}
			}
			if !errors.Is(got, tt.is) {
				t.Errorf("explained error no longer matches %v", tt.is)
			}
			var oe *OpenError
			if !errors.As(got, &oe) || oe != tt.err {
				t.Errorf("explained error no longer unwraps to the *OpenError")
			}
		})
	}
}

// TestExplainNoDeviceNamesPorts checks that a missing port's explanation
// lists exactly the ports present, or says there are none.
func TestExplainNoDeviceNamesPorts(t *testing.T) {
	ports, err := List()
	if err != nil {
		t.Skipf("cannot list this machine's ports: %v", err)
	}
	msg := Explain(&OpenError{Path: "/dev/ttyUSB9", Kind: ErrNoDevice}).Error()
	if len(ports) == 0 {
		if !strings.Contains(msg, "no serial ports are present") {
			t.Errorf("%q should say no ports are present", msg)
		}
		return
	}
	for _, p := range ports {
		if !strings.Contains(msg, p.Name) {
			t.Errorf("%q does not name port %s", msg, p.Name)
		}
	}
}

// TestHolders reads a fake /proc: processes with the node open among their
// descriptors are listed with their names, others and non-process entries
// are not.
func TestHolders(t *testing.T) {
	dir := t.TempDir()
	node, other := filepath.Join(dir, "ttyUSB0"), filepath.Join(dir, "ttyUSB1")
	for _, f := range []string{node, other} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	proc := filepath.Join(dir, "proc")
	fd := func(pid, fd, target string) {
		d := filepath.Join(proc, pid, "fd")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(d, fd)); err != nil {
			t.Fatal(err)
		}
	}
	comm := func(pid, name string) {
		if err := os.WriteFile(filepath.Join(proc, pid, "comm"), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fd("123", "0", "/dev/null")
	fd("123", "3", node)
	fd("123", "4", node) // twice open, listed once
	comm("123", "bedgate")
	fd("456", "3", other)
	comm("456", "minicom")
	fd("789", "5", node) // no comm: name unknown
	fd("self", "3", node)
	fd("1000", "7", filepath.Join(dir, "deleted"))                         // a dangling descriptor
	if err := os.MkdirAll(filepath.Join(proc, "999"), 0o755); err != nil { // no fd directory
		t.Fatal(err)
	}

	tests := []struct {
		name, proc, node string
		want             []Process
	}{
		{"held twice", proc, node, []Process{{PID: 123, Name: "bedgate"}, {PID: 789, Name: "?"}}},
		{"held once", proc, other, []Process{{PID: 456, Name: "minicom"}}},
		{"another node", proc, "/dev/null", []Process{{PID: 123, Name: "bedgate"}}},
		{"missing node", proc, filepath.Join(dir, "ttyUSB9"), nil},
		{"no proc", filepath.Join(dir, "noproc"), node, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := holdersIn(tt.proc, tt.node); !slices.Equal(got, tt.want) {
				t.Errorf("holders of %s = %v, want %v", tt.node, got, tt.want)
			}
		})
	}
	if got, want := (Process{PID: 123, Name: "bedgate"}).String(), "pid 123 (bedgate)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestHoldersFindsThisProcess reads the real /proc.
func TestHoldersFindsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc here")
	}
	node := tempNode(t)
	if got := Holders(node); len(got) != 0 {
		t.Errorf("Holders of a file nobody holds = %v", got)
	}
	f, err := os.Open(node)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := Holders(node)
	if !slices.ContainsFunc(got, func(p Process) bool { return p.PID == os.Getpid() && p.Name != "?" }) {
		t.Errorf("Holders(%s) = %v, want this process (pid %d) by name", node, got, os.Getpid())
	}
}
