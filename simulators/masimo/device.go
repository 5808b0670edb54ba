package masimo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// DefaultSerial is the serial number the device reports by default.
const DefaultSerial = "0000100001"

// layout is the Radical-7 field order after SN; the values of the keys
// after PI are never measured by the simulated sensor.
var layout = [...]string{"SPO2", "BPM", "PI", "SPCO", "SPMET", "DESAT", "PIDELTA", "PVI"}

// Kind returns the registry record of this simulator.
func Kind() simulators.Kind {
	return simulators.Kind{Name: driver.DriverName, Line: driver.Line(), New: New}
}

// Device is a simulated Radical-7. Run may be called once at a time.
type Device struct {
	opts   simulators.Options
	engine *scenario.Engine
}

// New returns a simulated device. It fails on an unknown scenario or a
// serial number that cannot be sent (longer than 20 bytes, or with bytes
// other than ASCII letters, digits and dashes). A serial of dashes is sent
// as a unit without a serial number sends it.
func New(opts simulators.Options) (simulators.Device, error) {
	opts = opts.WithDefaults(time.Second)
	if opts.Serial == "" {
		opts.Serial = DefaultSerial
	}
	if err := checkSerial(opts.Serial); err != nil {
		return nil, fmt.Errorf("masimo simulator: serial %q: %w", opts.Serial, err)
	}
	e, err := scenario.New(opts.Scenario, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("masimo simulator: %w", err)
	}
	return &Device{opts: opts, engine: e}, nil
}

func checkSerial(s string) error {
	if len(s) > 20 {
		return errors.New("longer than 20 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return errors.New("must be ASCII letters, digits and dashes")
		}
	}
	return nil
}

// Run writes one line per period to rw until ctx ends (it then returns
// ctx.Err()) or a write fails. Each line is followed, when Options.Values
// is set, by one JSON line holding the reading it means. The device only
// writes; it never reads rw. The caller owns rw: a Write blocked on a full
// link returns when the caller closes it.
func (d *Device) Run(ctx context.Context, rw io.ReadWriter) error {
	var enc *json.Encoder
	if d.opts.Values != nil {
		enc = json.NewEncoder(d.opts.Values)
	}
	var start, last time.Time // the first and the last line's device time
	tick := time.NewTicker(d.opts.Period)
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := d.opts.Now().Truncate(time.Second)
		if start.IsZero() {
			start = now
		}
		if now.After(last) {
			r := MeantReading(now, d.opts.Serial, d.engine.At(now.Sub(start)))
			line, err := FormatLine(r)
			if err != nil {
				return fmt.Errorf("masimo simulator: %w", err)
			}
			if _, err := rw.Write(line); err != nil {
				return fmt.Errorf("masimo simulator: write: %w", err)
			}
			if enc != nil {
				if err := enc.Encode(r); err != nil {
					return fmt.Errorf("masimo simulator: log values: %w", err)
				}
			}
			last = now
		} else {
			d.opts.Logger.Debug("masimo simulator: tick within the last line's second; skipped")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// MeantReading returns the reading a Radical-7 with a SET sensor sends for
// vitals v at device time t (truncated to the second): what the driver
// decodes from the line FormatLine prints for it, ReceivedAt aside.
func MeantReading(t time.Time, serial string, v scenario.Vitals) drivers.Reading {
	exc := driver.ExcSET
	measured := map[string]*float64{}
	switch {
	case v.SensorOff:
		exc |= driver.ExcSensorOff | driver.ExcPulseSearch
	case v.NoSignal:
		exc |= driver.ExcPulseSearch
	default:
		if v.Artefact {
			exc |= driver.ExcInterference | driver.ExcLowSignalIQ
		}
		measured["SPO2"] = round(v.SpO2, 0)
		measured["BPM"] = round(v.PulseRate, 0)
		measured["PI"] = round(v.PerfusionIndex, 2)
	}
	st := exc.Status()
	r := drivers.Reading{
		Device:       drivers.DeviceID{Driver: driver.DriverName, Serial: serial},
		DeviceTime:   t.Truncate(time.Second),
		DeviceStatus: fmt.Sprintf("ALARM=%04X EXC=%06X", 0, uint32(exc)),
	}
	if isDashes(serial) {
		r.Device.Serial = ""
	}
	for _, key := range layout {
		f, _ := driver.LookupField(key)
		r.Values = append(r.Values, f.Value(measured[key], st))
	}
	return r
}

// FormatLine prints r as one ASCII 1 line with its CR/LF, using the
// driver's codec (see drivers/masimo AppendLine).
func FormatLine(r drivers.Reading) ([]byte, error) {
	return driver.AppendLine(make([]byte, 0, 160), r)
}

func round(x float64, decimals int) *float64 {
	p := math.Pow(10, float64(decimals))
	r := math.Round(x*p) / p
	return &r
}

func isDashes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			return false
		}
	}
	return s != ""
}
