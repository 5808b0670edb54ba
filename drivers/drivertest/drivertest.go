package drivertest

import (
	"bufio"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/simulators"
)

// Defaults of [Pair].
const (
	DefaultSpeed        = 60
	DefaultPeriod       = 20 * time.Millisecond
	DefaultReadings     = 5
	DefaultWait         = 20 * time.Second
	DefaultCancelWithin = time.Second
)

// Pair is a driver and the simulator that speaks its protocol.
type Pair struct {
	Driver    drivers.Driver
	Simulator simulators.Kind
	// NewSplit returns the driver's frame splitter; a fresh one each call,
	// for splitters that keep state. Required.
	NewSplit func() bufio.SplitFunc
	// MaxFrame is the largest frame the splitter returns. Required.
	MaxFrame int
	// Dir is the directory of the driver's package, where its fuzz
	// targets are ("." from its own tests). Required.
	Dir string
	// Fuzz names the fuzz targets the driver must have, each with seeds.
	// At least one is required.
	Fuzz []string
	// Speed is how many times faster than real time the simulated
	// device's clock runs. The default is DefaultSpeed.
	Speed float64
	// Period is the simulator's reading period (simulators.Options.Period;
	// a device whose host polls may ignore it). The default is
	// DefaultPeriod.
	Period time.Duration
	// Readings is how many readings the round trip compares. The default
	// is DefaultReadings.
	Readings int
	// Wait bounds each wait for readings. The default is DefaultWait.
	Wait time.Duration
	// CancelWithin is how soon Run must return after its context ends.
	// The default is DefaultCancelWithin.
	CancelWithin time.Duration
}

func (p Pair) withDefaults() Pair {
	if p.Speed <= 0 {
		p.Speed = DefaultSpeed
	}
	if p.Period <= 0 {
		p.Period = DefaultPeriod
	}
	if p.Readings <= 0 {
		p.Readings = DefaultReadings
	}
	if p.Wait <= 0 {
		p.Wait = DefaultWait
	}
	if p.CancelWithin <= 0 {
		p.CancelWithin = DefaultCancelWithin
	}
	return p
}
