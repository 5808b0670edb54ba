package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// syncBuffer is a bytes.Buffer safe for the logger's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bedsim is one run of the command in this process.
type bedsim struct {
	t      *testing.T
	lines  chan string
	done   chan error
	stderr *syncBuffer
}

func start(t *testing.T, ctx context.Context, args ...string) *bedsim {
	t.Helper()
	b := &bedsim{t: t, lines: make(chan string, 16), done: make(chan error, 1), stderr: new(syncBuffer)}
	pr, pw := io.Pipe()
	go func() {
		err := run(ctx, args, pw, b.stderr)
		pw.Close()
		b.done <- err
	}()
	go func() {
		s := bufio.NewScanner(pr)
		for s.Scan() {
			b.lines <- s.Text()
		}
		close(b.lines)
	}()
	return b
}

// devices waits for the n "KIND NAME PATH" lines.
func (b *bedsim) devices(n int) [][]string {
	b.t.Helper()
	var devs [][]string
	for len(devs) < n {
		select {
		case line, ok := <-b.lines:
			if !ok {
				b.t.Fatalf("bedsim printed %d device lines, want %d; stderr:\n%s", len(devs), n, b.stderr)
			}
			fields := strings.Split(line, "\t")
			if len(fields) != 3 {
				b.t.Fatalf("output line %q: want KIND<TAB>NAME<TAB>PATH", line)
			}
			devs = append(devs, fields)
		case <-time.After(5 * time.Second):
			b.t.Fatalf("bedsim printed no device line within 5s; stderr:\n%s", b.stderr)
		}
	}
	return devs
}

// wait returns what run returned.
func (b *bedsim) wait() error {
	b.t.Helper()
	select {
	case err := <-b.done:
		return err
	case <-time.After(10 * time.Second):
		b.t.Fatalf("bedsim did not stop; stderr:\n%s", b.stderr)
		return nil
	}
}

// readAll reads the port until it fails, as a gateway would until the
// simulator hangs up.
func readAll(p io.Reader) ([]byte, error) {
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := p.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

func decode(t *testing.T, capture []byte) []drivers.Reading {
	t.Helper()
	var readings []drivers.Reading
	stats, err := masimo.Decode(context.Background(), bytes.NewReader(capture), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		readings = append(readings, r)
		return nil
	}), drivers.Options{})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if stats.Bad != 0 || stats.Skipped != 0 {
		t.Errorf("the simulator sent %d bad lines and %d stray bytes (last error %q)", stats.Bad, stats.Skipped, stats.LastError)
	}
	return readings
}

func readValues(t *testing.T, path string) []drivers.Reading {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var readings []drivers.Reading
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r drivers.Reading
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("values line %d %q: %v", i+1, line, err)
		}
		readings = append(readings, r)
	}
	return readings
}

func TestOneDeviceOnAPseudoTerminal(t *testing.T) {
	dir := t.TempDir()
	record, values := filepath.Join(dir, "capture.txt"), filepath.Join(dir, "values.jsonl")
	b := start(t, context.Background(), "--period", "20ms", "--speed", "50", "--for", "800ms", "--record", record, "--values", values, "masimo")

	dev := b.devices(1)[0]
	if dev[0] != "masimo" || dev[1] != "bed1" || !strings.HasPrefix(dev[2], "/dev/pts/") {
		t.Fatalf("device line %q, want masimo, bed1 and a /dev/pts path", dev)
	}
	port, err := serialport.Open(dev[2], masimo.Line(), serialport.Options{})
	if err != nil {
		t.Fatalf("gateway open: %v", err)
	}
	defer port.Close()
	got, readErr := readAll(port)
	if err := b.wait(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !errors.Is(readErr, serialport.ErrGone) {
		t.Errorf("gateway read ended with %v, want the device gone", readErr)
	}

	sent, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sent, got) {
		t.Errorf("the record file (%d bytes) differs from what the gateway read (%d bytes)", len(sent), len(got))
	}
	readings := decode(t, got)
	if len(readings) < 5 {
		t.Fatalf("%d readings in 800ms at 20ms and speed 50, want several", len(readings))
	}
	meant := readValues(t, values)
	if len(meant) != len(readings) {
		t.Fatalf("%d values lines for %d readings sent", len(meant), len(readings))
	}
	for i, r := range readings {
		if r.Device.Serial != defaultSerial || meant[i].Device.Serial != defaultSerial {
			t.Errorf("reading %d: serial sent %q, meant %q, want %q", i, r.Device.Serial, meant[i].Device.Serial, defaultSerial)
		}
		if !r.DeviceTime.Equal(meant[i].DeviceTime) {
			t.Errorf("reading %d: device time sent %v, meant %v", i, r.DeviceTime, meant[i].DeviceTime)
		}
	}
}

func TestSeveralNamedDevicesWithLinks(t *testing.T) {
	dir := t.TempDir()
	links := filepath.Join(dir, "links")
	b := start(t, context.Background(), "--period", "20ms", "--speed", "50", "--for", "300ms", "--link", links,
		"--record", filepath.Join(dir, "capture.txt"), "--values", filepath.Join(dir, "values.jsonl"),
		"masimo:icu1", "masimo:icu2")

	devs := b.devices(2)
	for i, name := range []string{"icu1", "icu2"} {
		if devs[i][1] != name {
			t.Errorf("device %d is named %q, want %q", i, devs[i][1], name)
		}
		if target, err := os.Readlink(filepath.Join(links, name)); err != nil || target != devs[i][2] {
			t.Errorf("link %s points to %q (%v), want %q", name, target, err, devs[i][2])
		}
	}
	if devs[0][2] == devs[1][2] {
		t.Errorf("both devices on %s", devs[0][2])
	}
	if err := b.wait(); err != nil {
		t.Fatalf("run: %v", err)
	}

	for _, name := range []string{"icu1", "icu2"} {
		capture, err := os.ReadFile(filepath.Join(dir, "capture."+name+".txt"))
		if err != nil {
			t.Fatalf("record of %s: %v", name, err)
		}
		if len(decode(t, capture)) == 0 {
			t.Errorf("record of %s holds no readings", name)
		}
		if _, err := os.Lstat(filepath.Join(links, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("link %s left behind: %v", name, err)
		}
	}
	serials := make(map[string]int)
	for _, r := range readValues(t, filepath.Join(dir, "values.jsonl")) {
		serials[r.Device.Serial]++
	}
	if len(serials) != 2 || serials["9000000001"] == 0 || serials["9000000002"] == 0 {
		t.Errorf("values by serial = %v, want readings from 9000000001 and 9000000002", serials)
	}
}

func TestStopsWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := start(t, ctx, "--device", "masimo", "--count", "2")
	devs := b.devices(2)
	cancel()
	if err := b.wait(); err != nil {
		t.Fatalf("run after interrupt: %v", err)
	}
	for _, d := range devs {
		if _, err := os.Stat(d[2]); err == nil {
			t.Errorf("%s still exists after bedsim stopped", d[2])
		}
	}
}

func TestRealPortInsteadOfAPseudoTerminal(t *testing.T) {
	// A pseudo-terminal made here stands in for a real serial port.
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer master.Close()
	got := make(chan []byte, 1)
	go func() {
		data, _ := readAll(master)
		got <- data
	}()

	b := start(t, context.Background(), "--port", slave.Name(), "--period", "20ms", "--speed", "50", "--for", "300ms", "masimo")
	if dev := b.devices(1)[0]; dev[2] != slave.Name() {
		t.Errorf("device path %q, want the port %q", dev[2], slave.Name())
	}
	if err := b.wait(); err != nil {
		t.Fatalf("run: %v", err)
	}
	slave.Close() // the last slave handle: the master now reads what is left, then fails
	if readings := decode(t, <-got); len(readings) == 0 {
		t.Error("nothing readable arrived on the port")
	}
}

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		mentions string
	}{
		{"unknown flag", []string{"--bogus", "masimo"}, "flag provided but not defined: -bogus"},
		{"no devices", nil, "no devices"},
		{"unknown kind", []string{"nosuchmonitor"}, `unknown simulator "nosuchmonitor"`},
		{"devices twice over", []string{"--device", "masimo", "masimo"}, "not both"},
		{"zero count", []string{"--device", "masimo", "--count", "0"}, "--count 0"},
		{"count without device", []string{"--count", "2", "masimo"}, "--count needs --device"},
		{"name with a slash", []string{"masimo:ward/bed"}, "device name"},
		{"duplicate name", []string{"masimo:x", "masimo:x"}, "used twice"},
		{"port with two devices", []string{"--port", "/dev/null", "masimo", "masimo"}, "--port runs one device"},
		{"port with links", []string{"--port", "/dev/null", "--link", "/tmp/x", "masimo"}, "--link"},
		{"negative period", []string{"--period", "-1s", "masimo"}, "--period"},
		{"bad duration", []string{"--for", "soon", "masimo"}, "invalid value"},
		{"bad log level", []string{"--log-level", "loud", "masimo"}, "invalid value"},
		{"zero speed", []string{"--speed", "0", "masimo"}, "--speed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Fatalf("run(%q) = %v, want a usage error", tt.args, err)
			}
			if !strings.Contains(err.Error(), tt.mentions) || !strings.Contains(err.Error(), "bedsim -h") {
				t.Errorf("error %q should mention %q and point to bedsim -h", err, tt.mentions)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q before failing", stdout.String())
			}
		})
	}
}

func TestFailuresThatAreNotUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		mentions string
	}{
		{"missing port", []string{"--port", filepath.Join(dir, "ttyUSB7"), "masimo"}, "no such device"},
		{"record in a missing directory", []string{"--record", filepath.Join(dir, "no", "capture.txt"), "masimo"}, "record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			var usage *usageError
			if err == nil || errors.As(err, &usage) {
				t.Fatalf("run(%q) = %v, want a failure that is not a usage error", tt.args, err)
			}
			if !strings.Contains(err.Error(), tt.mentions) {
				t.Errorf("error %q should mention %q", err, tt.mentions)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &stdout, &stderr); err != nil {
		t.Fatalf("run -h: %v", err)
	}
	for _, want := range []string{"Usage:", "KIND[:NAME]", "masimo", "-record"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help does not mention %q:\n%s", want, stdout.String())
		}
	}
}

func TestNthSerial(t *testing.T) {
	tests := []struct {
		first string
		i     int
		want  string
	}{
		{"9000000001", 0, "9000000001"},
		{"9000000001", 1, "9000000002"},
		{"0000000099", 1, "0000000100"},
		{"SIM-A", 0, "SIM-A"},
		{"SIM-A", 2, "SIM-A-3"},
		{"+12", 1, "+12-2"},
	}
	for _, tt := range tests {
		if got := nthSerial(tt.first, tt.i); got != tt.want {
			t.Errorf("nthSerial(%q, %d) = %q, want %q", tt.first, tt.i, got, tt.want)
		}
	}
}

func TestDeviceClock(t *testing.T) {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := base
	clock := deviceClock(60, func() time.Time { return now })
	now = base.Add(2 * time.Second)
	if got, want := clock(), base.Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("at speed 60, 2s later the device clock reads %v, want %v", got, want)
	}
	if got := deviceClock(1, func() time.Time { return now })(); !got.Equal(now) {
		t.Errorf("at speed 1 the device clock reads %v, want %v", got, now)
	}
}

func TestRecordPath(t *testing.T) {
	tests := []struct {
		file    string
		several bool
		want    string
	}{
		{"capture.txt", false, "capture.txt"},
		{"capture.txt", true, "capture.bed1.txt"},
		{"/tmp/run.d/capture", true, "/tmp/run.d/capture.bed1"},
		{"capture", true, "capture.bed1"},
	}
	for _, tt := range tests {
		if got := recordPath(tt.file, "bed1", tt.several); got != tt.want {
			t.Errorf("recordPath(%q, %v) = %q, want %q", tt.file, tt.several, got, tt.want)
		}
	}
}
