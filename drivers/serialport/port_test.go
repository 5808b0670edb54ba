//go:build linux

package serialport

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/bedgate/bedgate/drivers"
)

var line9600 = drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}

// newPTY returns the master and the slave of a fresh pseudo-terminal. The
// slave stays open for the test, as a simulator would keep it.
func newPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() {
		master.Close()
		slave.Close()
	})
	return master, slave
}

func openPort(t *testing.T, path string, opts Options) *Port {
	t.Helper()
	p, err := Open(path, line9600, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// readResult is what a Read in another goroutine returned.
type readResult struct {
	data []byte
	err  error
}

func readAsync(p *Port) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := p.Read(buf)
		ch <- readResult{buf[:n], err}
	}()
	return ch
}

// readBlocks fails the test if the Read started by readAsync returns
// within 30 ms: with nothing to read it must block, and then it is blocked
// when the test acts on the port.
func readBlocks(t *testing.T, ch <-chan readResult) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("Read with nothing to read returned (%q, %v)", r.data, r.err)
	case <-time.After(30 * time.Millisecond):
	}
}

func waitRead(t *testing.T, ch <-chan readResult, within time.Duration) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(within):
		t.Fatalf("Read did not return within %v", within)
		return readResult{}
	}
}

func TestReadAndWriteBothWays(t *testing.T) {
	master, slave := newPTY(t)
	p := openPort(t, slave.Name(), Options{})

	// Raw bytes, including CR, LF and control characters, pass unchanged.
	toHost := []byte("SPO2=097 BPM=072\r\n\x03\x7f")
	if _, err := master.Write(toHost); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(toHost))
	if _, err := io.ReadFull(p, got); err != nil {
		t.Fatalf("read from port: %v", err)
	}
	if !bytes.Equal(got, toHost) {
		t.Errorf("port read %q, want %q", got, toHost)
	}

	toDevice := []byte("\x02poll\r\n")
	if n, err := p.Write(toDevice); err != nil || n != len(toDevice) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	got = make([]byte, len(toDevice))
	if _, err := io.ReadFull(master, got); err != nil {
		t.Fatalf("read from master: %v", err)
	}
	if !bytes.Equal(got, toDevice) {
		t.Errorf("master read %q, want %q", got, toDevice)
	}
}

func TestReadBlocksUntilData(t *testing.T) {
	master, slave := newPTY(t)
	p := openPort(t, slave.Name(), Options{})

	ch := readAsync(p)
	// Read must keep waiting, not return (0, nil).
	select {
	case r := <-ch:
		t.Fatalf("Read returned (%q, %v) with no data", r.data, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := master.Write([]byte{'x'}); err != nil {
		t.Fatal(err)
	}
	r := waitRead(t, ch, 2*time.Second)
	if r.err != nil || string(r.data) != "x" {
		t.Fatalf("Read = (%q, %v), want (\"x\", nil)", r.data, r.err)
	}
}

// TestSilentPortsParkInThePoller checks that a Read waiting on a silent
// port waits in the runtime's network poller (goroutine state "IO wait"),
// not in a system call on a thread of its own ("syscall", as go.bug.st/serial's
// select(2) did): a thread in a system call keeps runtime.sysmon polling,
// which at 64 ports was the largest single cost of reading them.
func TestSilentPortsParkInThePoller(t *testing.T) {
	const ports = 16
	var masters []*os.File
	var reads []<-chan readResult
	for range ports {
		master, slave := newPTY(t)
		p := openPort(t, slave.Name(), Options{})
		masters = append(masters, master)
		reads = append(reads, readAsync(p))
	}
	// states counts the goroutines in Port.Read by their state.
	states := func() map[string]int {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n := map[string]int{}
		for _, g := range strings.Split(string(buf), "\n\n") {
			if !strings.Contains(g, "serialport.(*Port).Read(") {
				continue
			}
			head, _, _ := strings.Cut(g, "\n")
			// "goroutine 7 [IO wait]:" or "goroutine 7 [syscall, 2 minutes]:"
			_, state, _ := strings.Cut(head, "[")
			state, _, _ = strings.Cut(state, "]")
			state, _, _ = strings.Cut(state, ",")
			n[state]++
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for got := states(); got["IO wait"] != ports; got = states() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines in Port.Read by state: %v; want all %d in \"IO wait\"", got, ports)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And each still reads what its device sends.
	for i, m := range masters {
		if _, err := m.Write([]byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range reads {
		if r := waitRead(t, ch, 2*time.Second); r.err != nil || string(r.data) != string(rune('a'+i)) {
			t.Errorf("port %d: Read = (%q, %v), want (%q, nil)", i, r.data, r.err, string(rune('a'+i)))
		}
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	_, slave := newPTY(t)
	p := openPort(t, slave.Name(), Options{})

	ch := readAsync(p)
	readBlocks(t, ch)
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := waitRead(t, ch, time.Second)
	if !errors.Is(r.err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", r.err)
	}
	if errors.Is(r.err, ErrGone) {
		t.Errorf("Read after Close reported the device gone: %v", r.err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Read on closed port: %v, want ErrClosed", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write on closed port: %v, want ErrClosed", err)
	}
}

func TestMasterClosedIsGone(t *testing.T) {
	// The hang-up is noticed from the kernel alone: Read polls nothing.
	master, slave := newPTY(t)
	p := openPort(t, slave.Name(), Options{})

	ch := readAsync(p)
	readBlocks(t, ch)
	master.Close()
	r := waitRead(t, ch, 2*time.Second)
	t.Logf("Read: %v", r.err)
	for _, target := range []error{ErrGone, drivers.ErrLinkLost} {
		if !errors.Is(r.err, target) {
			t.Errorf("Read after master closed: %v, want it to match %v", r.err, target)
		}
	}
	var gone *GoneError
	if !errors.As(r.err, &gone) || gone.Op != "read" || gone.Node != slave.Name() {
		t.Errorf("Read error %#v is not a *GoneError for read of %s", r.err, slave.Name())
	}
	if n := strings.Count(r.err.Error(), slave.Name()); n != 1 {
		t.Errorf("Read error %q names the node %d times, want once", r.err, n)
	}
	// Later reads and writes fail the same way, never (0, nil).
	if n, err := p.Read(make([]byte, 8)); n != 0 || !errors.Is(err, ErrGone) {
		t.Errorf("second Read = %d, %v, want ErrGone", n, err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, drivers.ErrLinkLost) {
		t.Errorf("Write after master closed: %v, want ErrLinkLost", err)
	}
}

// TestHangupIsGone: a USB serial adapter unplugged is a hang-up of its
// terminal (the kernel's tty_vhangup), which TIOCVHANGUP does to a
// pseudo-terminal: a Read parked in the poller wakes with ErrGone.
func TestHangupIsGone(t *testing.T) {
	_, slave := newPTY(t)
	p := openPort(t, slave.Name(), Options{})
	ch := readAsync(p)
	readBlocks(t, ch)
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCVHANGUP, 0); err != nil {
		t.Skipf("TIOCVHANGUP: %v (needs CAP_SYS_ADMIN)", err)
	}
	r := waitRead(t, ch, 2*time.Second)
	if !errors.Is(r.err, ErrGone) || !errors.Is(r.err, drivers.ErrLinkLost) {
		t.Errorf("Read after hang-up: %v, want ErrGone and ErrLinkLost", r.err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, ErrGone) {
		t.Errorf("Write after hang-up: %v, want ErrGone", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "ttyUSB9")
	dangling := filepath.Join(dir, "bed1")
	if err := os.Symlink(missing, dangling); err != nil {
		t.Fatal(err)
	}
	regular := filepath.Join(dir, "capture.bin")
	if err := os.WriteFile(regular, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, slave := newPTY(t)

	tests := []struct {
		name     string
		path     string
		line     drivers.LineSettings
		want     error
		mentions string
	}{
		{"missing node", missing, line9600, ErrNoDevice, "plugged in"},
		{"dangling symlink names its target", dangling, line9600, ErrNoDevice, missing},
		{"regular file", regular, line9600, ErrNotSerial, "character device"},
		{"device that is not a terminal", "/dev/null", line9600, ErrNotSerial, "/dev/null"},
		{"zero baud", slave.Name(), drivers.LineSettings{Baud: 0, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}, ErrInvalidSettings, "baud"},
		{"nine data bits", slave.Name(), drivers.LineSettings{Baud: 9600, DataBits: 9, Parity: drivers.NoParity, StopBits: 1}, ErrInvalidSettings, "data bits"},
		{"mark parity", slave.Name(), drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: "mark", StopBits: 1}, ErrInvalidSettings, "parity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open(tt.path, tt.line, Options{})
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open error %q does not match %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mentions) || !strings.HasPrefix(err.Error(), "serialport: open ") {
				t.Errorf("Open error %q should start with \"serialport: open \" and mention %q", err, tt.mentions)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		errno    syscall.Errno
		want     error
		alsoIs   error
		mentions string
	}{
		{syscall.ENOENT, ErrNoDevice, fs.ErrNotExist, "plugged in"},
		{syscall.ENXIO, ErrNoDevice, syscall.ENXIO, "plugged in"},
		{syscall.EACCES, ErrPermission, fs.ErrPermission, "dialout group"},
		{syscall.EPERM, ErrPermission, fs.ErrPermission, "dialout group"},
		{syscall.EBUSY, ErrBusy, syscall.EBUSY, "another process"},
		{syscall.EWOULDBLOCK, ErrBusy, syscall.EWOULDBLOCK, "another process"},
		{syscall.ENOTTY, ErrNotSerial, syscall.ENOTTY, "not a serial port"},
	}
	for _, tt := range tests {
		t.Run(tt.errno.Error(), func(t *testing.T) {
			err := classify("/dev/serial/by-path/x", "/dev/ttyUSB0", tt.errno)
			if !errors.Is(err, tt.want) || !errors.Is(err, tt.alsoIs) {
				t.Errorf("classify(%v) = %q, want it to match %v and %v", tt.errno, err, tt.want, tt.alsoIs)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.mentions) || !strings.Contains(msg, "/dev/serial/by-path/x (/dev/ttyUSB0)") {
				t.Errorf("message %q should name both paths and mention %q", msg, tt.mentions)
			}
		})
	}
}

func TestSecondOpenIsBusy(t *testing.T) {
	_, slave := newPTY(t)
	first := openPort(t, slave.Name(), Options{})

	second, err := Open(slave.Name(), line9600, Options{})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a held port succeeded")
	}
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}

	first.Close()
	again, err := Open(slave.Name(), line9600, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

func TestOpenThroughSymlink(t *testing.T) {
	master, slave := newPTY(t)
	link := filepath.Join(t.TempDir(), "bed1")
	if err := os.Symlink(slave.Name(), link); err != nil {
		t.Fatal(err)
	}
	p := openPort(t, link, Options{})
	if p.Path() != link || p.Node() != slave.Name() {
		t.Errorf("Path, Node = %q, %q, want %q, %q", p.Path(), p.Node(), link, slave.Name())
	}
	ch := readAsync(p)
	master.Close()
	r := waitRead(t, ch, 2*time.Second)
	if msg := r.err.Error(); !strings.Contains(msg, link) || !strings.Contains(msg, slave.Name()) {
		t.Errorf("error %q should name the link and the node", msg)
	}
}

func TestLineSettingsReachTheTerminal(t *testing.T) {
	// The Linux pty driver forces CS8 and clears PARENB whatever is asked,
	// so only the bits it keeps are checked: stop bits, odd parity and
	// hardware flow control.
	tests := []struct {
		name string
		line drivers.LineSettings
		want uint32 // c_cflag bits that must be set
		not  uint32 // c_cflag bits that must be clear
	}{
		{"8N1", line9600, 0, unix.PARODD | unix.CSTOPB | unix.CRTSCTS},
		{"7E2", drivers.LineSettings{Baud: 19200, DataBits: 7, Parity: drivers.EvenParity, StopBits: 2}, unix.CSTOPB, unix.PARODD | unix.CRTSCTS},
		{"8O1 RTS/CTS", drivers.LineSettings{Baud: 115200, DataBits: 8, Parity: drivers.OddParity, StopBits: 1, RTSCTS: true}, unix.PARODD | unix.CRTSCTS, unix.CSTOPB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, slave := newPTY(t)
			p, err := Open(slave.Name(), tt.line, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			term, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if term.Cflag&tt.want != tt.want || term.Cflag&tt.not != 0 {
				t.Errorf("c_cflag = %#o, want %#o set and %#o clear", term.Cflag, tt.want, tt.not)
			}
		})
	}
}
