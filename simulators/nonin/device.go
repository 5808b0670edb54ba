package nonin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/nonin"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// FirmwareRevision is the revision the simulated device reports.
const FirmwareRevision = 48

// Kinds returns the registry records of the three formats.
func Kinds() []simulators.Kind {
	return []simulators.Kind{Kind(driver.DF2), Kind(driver.DF7), Kind(driver.DF8)}
}

// Kind returns the registry record of the simulator of format f.
func Kind(f driver.Format) simulators.Kind {
	return simulators.Kind{Name: f.Name(), Line: driver.Line(), New: func(opts simulators.Options) (simulators.Device, error) {
		return New(f, opts)
	}}
}

// Device is a simulated Nonin oximeter. Run may be called once at a time.
type Device struct {
	format driver.Format
	opts   simulators.Options
	engine *scenario.Engine
}

// New returns a simulated device sending format f: a packet every third
// of a second (#2, #7) or a record every second (#8) unless
// Options.Period says otherwise. It fails on an unknown scenario or format.
// The device has no serial number in these formats: Options.Serial is
// ignored.
func New(f driver.Format, opts simulators.Options) (*Device, error) {
	switch f {
	case driver.DF2, driver.DF7, driver.DF8:
	default:
		return nil, fmt.Errorf("nonin simulator: data format #%d: want 2, 7 or 8", int(f))
	}
	opts = opts.WithDefaults(driver.Period(f))
	e, err := scenario.New(opts.Scenario, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("nonin simulator: %w", err)
	}
	return &Device{format: f, opts: opts, engine: e}, nil
}

// Run writes one packet or record per period to rw until ctx ends (it then
// returns ctx.Err()) or a write fails. Each is followed, when
// Options.Values is set, by one JSON line holding the reading it means.
func (d *Device) Run(ctx context.Context, rw io.ReadWriter) error {
	var enc *json.Encoder
	if d.opts.Values != nil {
		enc = json.NewEncoder(d.opts.Values)
	}
	start := d.opts.Now()
	tick := time.NewTicker(d.opts.Period)
	defer tick.Stop()
	for n := 0; ; n++ {
		wire, meant := Encode(d.format, d.engine.At(d.opts.Now().Sub(start)), n)
		if _, err := rw.Write(wire); err != nil {
			return fmt.Errorf("nonin simulator: write: %w", err)
		}
		if enc != nil {
			if err := enc.Encode(meant); err != nil {
				return fmt.Errorf("nonin simulator: log values: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Encode returns the bytes of the n-th packet (#2, #7) or record (#8) a
// device in format f sends for vitals v, and the reading the driver
// decodes from them, receive time aside.
func Encode(f driver.Format, v scenario.Vitals, n int) ([]byte, drivers.Reading) {
	hr, spo2 := clampInt(v.PulseRate, 0, driver.MissingHR-1), clampInt(v.SpO2, 0, driver.MissingSpO2-1)
	if f == driver.DF8 {
		rec := driver.Record{HRD: &hr, SpO2D: &spo2}
		switch {
		case v.SensorOff:
			rec = driver.Record{Status2: driver.Status2SNSA}
		case v.NoSignal:
			rec = driver.Record{Status: driver.Status8OOT}
		case v.Artefact:
			rec.Status = driver.Status8ARTF | driver.Status8MPRF
		}
		wire := driver.AppendRecord(nil, rec)
		got, _ := driver.ParseRecord(wire)
		return wire, got.Reading()
	}
	status := byte(driver.StatusGPRF)
	h, s := hr, spo2
	switch {
	case v.SensorOff:
		status, h, s = driver.StatusSNSD, driver.MissingHR, driver.MissingSpO2
	case v.NoSignal:
		status, h, s = driver.StatusOOT, driver.MissingHR, driver.MissingSpO2
	case v.Artefact:
		status = driver.StatusARTF | driver.StatusRPRF | driver.StatusGPRF
	}
	hrMSB, hrLSB := byte(h>>7), byte(h&0x7F)
	floats := [driver.PacketFrames]byte{0: hrMSB, 1: hrLSB, 2: byte(s), 3: FirmwareRevision,
		8: byte(s), 9: byte(s), 10: byte(s), 13: hrMSB, 14: hrLSB, 15: byte(s), 16: byte(s),
		19: hrMSB, 20: hrLSB, 21: hrMSB, 22: hrLSB}
	var frames [driver.PacketFrames]driver.Frame
	var wire []byte
	for i := range frames {
		st := driver.StatusAlways | status
		if i == 0 {
			st |= driver.StatusSYNC
		}
		// A pleth wave of about one beat a second.
		pleth := 128 + 100*math.Sin(2*math.Pi*float64(n*driver.PacketFrames+i)/75)
		frames[i] = driver.Frame{Status: st, Pleth: uint16(pleth), Float: floats[i]}
		if f == driver.DF7 {
			frames[i].Pleth <<= 8
		}
		wire = driver.AppendFrame(wire, f, frames[i])
	}
	return wire, driver.DecodePacket(f, &frames).Reading(f)
}

func clampInt(x float64, lo, hi int) int {
	return min(max(int(math.Round(x)), lo), hi)
}
