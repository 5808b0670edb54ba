package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/capture"
	"github.com/bedgate/bedgate/simulators"
)

// replayKind is the device kind of --replay, as printed on standard output.
const replayKind = "replay"

// replayLine is the line a replay uses on a real port when its capture does
// not name one.
var replayLine = drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}

// replaySpec checks the capture file and returns the device that plays it.
func replaySpec(file string, speed float64) (deviceSpec, error) {
	h, err := readCaptureHeader(file)
	if err != nil {
		return deviceSpec{}, err
	}
	line := replayLine
	if h.Line != nil && h.Line.Validate() == nil {
		line = *h.Line
	}
	kind := simulators.Kind{
		Name: replayKind,
		Line: line,
		New: func(simulators.Options) (simulators.Device, error) {
			return &replayDevice{file: file, speed: speed}, nil
		},
	}
	return deviceSpec{kind: kind, name: "bed1"}, nil
}

func readCaptureHeader(file string) (capture.Header, error) {
	f, err := os.Open(file)
	if err != nil {
		return capture.Header{}, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	r, err := capture.NewReader(f)
	if err != nil {
		return capture.Header{}, fmt.Errorf("replay: %s: %w (bedgate capture writes capture files)", file, err)
	}
	return r.Header(), nil
}

// replayDevice sends the bytes of a capture with their original spacing,
// divided by speed, then stops: Run returns nil at the end of the capture.
type replayDevice struct {
	file  string
	speed float64
}

func (d *replayDevice) Run(ctx context.Context, rw io.ReadWriter) error {
	f, err := os.Open(d.file)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	r, err := capture.NewReader(f)
	if err != nil {
		return fmt.Errorf("replay: %s: %w", d.file, err)
	}
	return capture.Play(ctx, r, rw, d.speed)
}
