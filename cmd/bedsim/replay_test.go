package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/capture"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/drivers/serialport"
	simmasimo "github.com/bedgate/bedgate/simulators/masimo"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// writeCapture writes a capture of three Masimo lines, the first split over
// two reads, and returns the file, the readings meant and when the last
// chunk is due.
func writeCapture(t *testing.T) (string, []drivers.Reading, []byte, time.Duration) {
	t.Helper()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var meant []drivers.Reading
	var lines [][]byte
	for i, v := range []scenario.Vitals{
		{SpO2: 97, PulseRate: 72, PerfusionIndex: 1.3},
		{SpO2: 96, PulseRate: 75, PerfusionIndex: 1.1},
		{SpO2: 91, PulseRate: 118, PerfusionIndex: 0.4, Artefact: true},
	} {
		r := simmasimo.MeantReading(t0.Add(time.Duration(i)*time.Second), "0000093112", v)
		line, err := simmasimo.FormatLine(r)
		if err != nil {
			t.Fatal(err)
		}
		meant = append(meant, r)
		lines = append(lines, line)
	}
	chunks := []capture.Chunk{
		{Offset: 150 * time.Millisecond, Data: lines[0][:10]},
		{Offset: 160 * time.Millisecond, Data: lines[0][10:]},
		{Offset: 300 * time.Millisecond, Data: lines[1]},
		{Offset: 450 * time.Millisecond, Data: lines[2]},
	}
	line := masimo.Line()
	path := filepath.Join(t.TempDir(), "bed1.capture")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewWriter(f, capture.Header{Start: t0, Port: "/dev/ttyUSB0", Driver: "masimo", Line: &line}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		if err := w.WriteChunk(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, meant, bytes.Join(lines, nil), chunks[len(chunks)-1].Offset
}

func TestReplay(t *testing.T) {
	file, meant, sent, last := writeCapture(t)
	record := filepath.Join(t.TempDir(), "record.txt")
	started := time.Now()
	b := start(t, context.Background(), "--replay", file, "--record", record)
	dev := b.devices(1)[0]
	if dev[0] != "replay" || dev[1] != "bed1" || !strings.HasPrefix(dev[2], "/dev/pts/") {
		t.Fatalf("device line %q, want replay, bed1 and a /dev/pts path", dev)
	}
	port, err := serialport.Open(dev[2], masimo.Line(), serialport.Options{})
	if err != nil {
		t.Fatalf("gateway open: %v", err)
	}
	defer port.Close()
	got, readErr := readAll(port)
	took := time.Since(started)
	if err := b.wait(); err != nil {
		t.Fatalf("run: %v (bedsim must end cleanly when the capture ends)", err)
	}
	if !errors.Is(readErr, serialport.ErrGone) {
		t.Errorf("read ended with %v, want the device gone after the capture ended", readErr)
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("read %q, want the captured bytes %q", got, sent)
	}
	if rec, err := os.ReadFile(record); err != nil || !bytes.Equal(rec, sent) {
		t.Errorf("--record wrote %q (%v), want the bytes played", rec, err)
	}
	if took < last {
		t.Errorf("the capture played in %v, less than its own %v: original timing not kept", took, last)
	}
	readings := decode(t, got)
	if len(readings) != len(meant) {
		t.Fatalf("%d readings replayed, want %d", len(readings), len(meant))
	}
	for i, r := range readings {
		if !r.DeviceTime.Equal(meant[i].DeviceTime) || r.Device != meant[i].Device || len(r.Values) != len(meant[i].Values) {
			t.Errorf("reading %d: got %v %+v with %d values, want %v %+v with %d", i, r.DeviceTime, r.Device, len(r.Values), meant[i].DeviceTime, meant[i].Device, len(meant[i].Values))
		}
	}
}

func TestReplayArguments(t *testing.T) {
	file, _, _, _ := writeCapture(t)
	raw := filepath.Join(t.TempDir(), "raw.txt")
	if err := os.WriteFile(raw, []byte("SN=1\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		usage    bool
		mentions string
	}{
		{"with a kind", []string{"--replay", file, "masimo"}, true, "give no devices"},
		{"with --device", []string{"--replay", file, "--device", "masimo"}, true, "give no devices"},
		{"with --values", []string{"--replay", file, "--values", filepath.Join(t.TempDir(), "v")}, true, "--values"},
		{"missing file", []string{"--replay", filepath.Join(t.TempDir(), "nope")}, false, "no such file"},
		{"raw file", []string{"--replay", raw}, false, "not a capture file (bedgate capture writes capture files)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			var usage *usageError
			if err == nil || errors.As(err, &usage) != tt.usage || !strings.Contains(err.Error(), tt.mentions) {
				t.Errorf("run(%q) = %v; want a usage error: %v, mentioning %q", tt.args, err, tt.usage, tt.mentions)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q before failing", stdout.String())
			}
		})
	}
}
