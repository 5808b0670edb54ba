package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	capfile "github.com/bedgate/bedgate/drivers/capture"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// startCapture runs "bedgate capture" in this process until the returned
// function is called; that function returns what the command returned.
func startCapture(t *testing.T, port, out string, extra ...string) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stdout, stderr syncWriter
	stdout.w, stderr.w = new(bytes.Buffer), new(bytes.Buffer)
	go func() {
		done <- run(ctx, append([]string{"capture", port, "--out", out}, extra...), strings.NewReader(""), &stdout, &stderr)
	}()
	// The header is written once the port is open.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if info, err := os.Stat(out); err == nil && info.Size() > 0 {
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("capture ended before recording: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("capture did not open the port within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("capture did not stop within 5s")
			return nil
		}
	}
}

// chunkSpan returns the time from the first chunk of a capture file to its
// last, and the number of chunks.
func chunkSpan(t *testing.T, path string) (time.Duration, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Duration
	n := 0
	for {
		c, err := r.Next()
		if err != nil {
			break
		}
		if n == 0 {
			first = c.Offset
		}
		last = c.Offset
		n++
	}
	return last - first, n
}

func decodedLines(t *testing.T, out string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestCaptureDecodeReplayRoundTrip captures a simulated monitor on a
// pseudo-terminal, decodes the capture, replays it with bedsim on another
// pseudo-terminal, captures that, and checks both decode to the same
// readings, those the simulator meant.
func TestCaptureDecodeReplayRoundTrip(t *testing.T) {
	_, bedsimBin := binaries(t)
	dir := t.TempDir()
	first, second := dir+"/first.capture", dir+"/second.capture"

	// Capture a simulated monitor that starts after the capture has.
	p := simtest.OpenPTY(t)
	stopCapture := startCapture(t, p.Path(), first, "--driver", "masimo")
	var meantJSON bytes.Buffer
	values := &syncWriter{w: &meantJSON}
	stopSim := simulate(t, "masimo", p, simulators.Options{Serial: "0000093112", Scenario: "deteriorating", Values: values})
	waitFor(t, "6 readings logged by the simulator", 10*time.Second,
		func() bool { return strings.Count(values.text(), "\n") >= 6 }, values.text)
	stopSim()
	drainCtx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	p.Drain(drainCtx)
	cancel()
	if err := stopCapture(); err != nil {
		t.Fatalf("capture: %v", err)
	}

	// Decode it: the driver comes from the capture's header.
	out1, errOut, err := invoke(t, nil, "decode", first)
	if err != nil {
		t.Fatalf("decode %s: %v\n%s", first, err, errOut)
	}
	got1 := decodedLines(t, out1)
	var meant []drivers.Reading
	for dec := json.NewDecoder(&meantJSON); dec.More(); {
		var r drivers.Reading
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		meant = append(meant, r)
	}
	if len(meant) < 5 || len(got1) != len(meant) {
		t.Fatalf("decoded %d readings from the capture; the simulator sent %d (want at least 5, all of them)", len(got1), len(meant))
	}
	for i, l := range got1 {
		var d decoded
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		if d.DeviceTime == nil || !d.DeviceTime.Equal(meant[i].DeviceTime) || d.Device.Serial != "0000093112" || len(d.Values) != len(meant[i].Values) {
			t.Errorf("reading %d: decoded %s, meant %v with %d values", i, l, meant[i].DeviceTime, len(meant[i].Values))
		}
	}

	// Replay it with bedsim and capture the replay.
	sim, devices := startBedsim(t, bedsimBin, nil, 1, "--replay", first)
	if devices[0].Kind != "replay" {
		t.Fatalf("bedsim started %+v, want a replay", devices[0])
	}
	stopReplayCapture := startCapture(t, devices[0].Path, second, "--driver", "masimo")
	if err := sim.Wait(); err != nil {
		t.Fatalf("bedsim --replay: %v\n%s", err, sim.Stderr.(*syncWriter).text())
	}
	if err := stopReplayCapture(); err != nil && !errors.Is(err, serialport.ErrGone) {
		t.Fatalf("capture of the replay: %v", err)
	}

	out2, errOut, err := invoke(t, nil, "decode", "--driver", "masimo", second)
	if err != nil {
		t.Fatalf("decode %s: %v\n%s", second, err, errOut)
	}
	if got2 := decodedLines(t, out2); strings.Join(got2, "\n") != strings.Join(got1, "\n") {
		t.Errorf("the replay decodes to %d readings that differ from the capture's %d:\nreplay:  %q\ncapture: %q", len(got2), len(got1), got2, got1)
	}
	// The replay kept the original spacing (it did not send everything at once).
	span1, n1 := chunkSpan(t, first)
	span2, n2 := chunkSpan(t, second)
	if n2 == 0 || span2 < span1*8/10 {
		t.Errorf("the capture spans %v over %d reads, its replay %v over %d: original timing not kept", span1, n1, span2, n2)
	}
	t.Logf("capture %v over %d reads; replay %v over %d reads; %d readings", span1, n1, span2, n2, len(got1))
}

func TestDecodeRawStillWorks(t *testing.T) {
	data, meant := capture(t)
	raw := writeFile(t, "raw.txt", string(data))
	out, _, err := invoke(t, nil, "decode", "--driver", "masimo", raw)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(decodedLines(t, out)); n != len(meant) {
		t.Errorf("decoded %d readings from a raw capture, want %d", n, len(meant))
	}
	// The same bytes in a capture file, from stdin, decode the same.
	var buf bytes.Buffer
	w, err := capfile.NewWriter(&buf, capfile.Header{Driver: "masimo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(len(data), 37)
		w.Write(data[:n])
		data = data[n:]
	}
	out2, _, err := invoke(t, &buf, "decode", "-")
	if err != nil {
		t.Fatal(err)
	}
	if out2 != out {
		t.Errorf("capture file on stdin decodes to\n%s\nraw file to\n%s", out2, out)
	}
}

func TestCaptureErrors(t *testing.T) {
	p := simtest.OpenPTY(t)
	out := t.TempDir() + "/x.capture"
	existing := t.TempDir() + "/earlier.capture"
	if err := os.WriteFile(existing, []byte("an earlier capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  []string
	}{
		{"no port", []string{"capture", "--out", out}, true, []string{"exactly one PORT"}},
		{"no out", []string{"capture", p.Path()}, true, []string{"--out FILE is required"}},
		{"unknown driver", []string{"capture", p.Path(), "--out", out, "--driver", "acme"}, true, []string{`unknown driver "acme"`}},
		{"bad settings", []string{"capture", p.Path(), "--out", out, "--baud", "-9600", "--parity", "mark", "--stop-bits", "3"}, true,
			[]string{"baud rate -9600", `parity "mark"`, "stop bits 3"}},
		{"negative duration", []string{"capture", p.Path(), "--out", out, "--for", "-1s"}, true, []string{"--for"}},
		{"missing node", []string{"capture", "/dev/serial/by-id/usb-gone", "--out", out}, false, []string{"no such device", "is the device plugged in?"}},
		{"existing out", []string{"capture", p.Path(), "--out", existing}, false, []string{"file exists"}},
		{"unwritable out", []string{"capture", p.Path(), "--out", t.TempDir() + "/no/such/dir/x"}, false, []string{"no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := invoke(t, nil, tt.args...)
			if err == nil || errors.Is(err, errUsage) != tt.usage {
				t.Fatalf("%q = %v, want an error (usage: %v)", tt.args, err, tt.usage)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCaptureFor(t *testing.T) {
	p := simtest.OpenPTY(t)
	out := t.TempDir() + "/x.capture"
	go func() {
		time.Sleep(50 * time.Millisecond)
		p.Write([]byte("hello\r\n"))
	}()
	_, errOut, err := invoke(t, nil, "capture", p.Path(), "--out", out, "--for", "300ms")
	if err != nil {
		t.Fatalf("capture --for: %v", err)
	}
	if !strings.Contains(errOut, "7 bytes in 1 reads") {
		t.Errorf("summary %q, want 7 bytes in 1 read", errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.Port != p.Path() || h.Node != p.Path() || h.Line == nil || *h.Line != defaultLine || h.Driver != "" {
		t.Errorf("header %+v", h)
	}
	c, err := r.Next()
	if err != nil || string(c.Data) != "hello\r\n" || c.Offset < 40*time.Millisecond {
		t.Errorf("chunk %v %q (%v), want hello at about 50ms", c.Offset, c.Data, err)
	}
}
