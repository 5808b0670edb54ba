package dri

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/dri"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// Level is the interface level the simulated monitor reports
// (DRI_LEVEL_05, '15: CARESCAPE software 2 and later).
const Level = 11

// NIBPCycle is the simulated NIBP auto mode: a measurement at the start
// and then every NIBPCycle of device time.
const NIBPCycle = 2 * time.Minute

// ambient is the ambient pressure the CO2 group reports, 1/10 mmHg.
const ambient = 7600

// Kind returns the registry record of the simulator.
func Kind() simulators.Kind {
	return simulators.Kind{Name: driver.DriverName, Line: driver.Line(), New: func(opts simulators.Options) (simulators.Device, error) {
		return New(opts)
	}}
}

// Device is a simulated monitor. Run may be called once at a time.
type Device struct {
	opts   simulators.Options
	fixed  bool // Options.Period was set: it overrides the requested interval
	engine *scenario.Engine
}

// New returns a simulated monitor. It fails on an unknown scenario. The
// monitor has no serial number on this interface: Options.Serial is
// ignored.
func New(opts simulators.Options) (*Device, error) {
	fixed := opts.Period > 0
	opts = opts.WithDefaults(driver.DefaultInterval)
	e, err := scenario.New(opts.Scenario, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("dri simulator: %w", err)
	}
	return &Device{opts: opts, fixed: fixed, engine: e}, nil
}

// transmission is what the host asked for.
type transmission struct {
	display, aux time.Duration // zero: off
	classes      uint32
}

// Run answers the host's requests over rw and sends records until ctx ends
// (it then returns ctx.Err()) or rw fails. Each reading the records hold
// is logged, when Options.Values is set, as one JSON line. The caller owns
// rw: a Read may still be pending when Run returns, until rw is closed.
func (d *Device) Run(ctx context.Context, rw io.ReadWriter) error {
	var enc *json.Encoder
	if d.opts.Values != nil {
		enc = json.NewEncoder(d.opts.Values)
	}
	done := make(chan struct{})
	defer close(done)
	chunks := make(chan drivers.Chunk, 4)
	go drivers.ReadChunks(rw, 256, chunks, done)
	var (
		buf     []byte
		tx      transmission
		decoder driver.Decoder
		tick    *time.Ticker
		tickC   <-chan time.Time
	)
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	start := d.opts.Now()
	send := func() error {
		now := d.opts.Now()
		for _, rec := range d.records(tx, now, now.Sub(start)) {
			if _, err := rw.Write(driver.AppendFrame(nil, rec)); err != nil {
				return fmt.Errorf("dri simulator: write: %w", err)
			}
			r, err := driver.ParseRecord(rec)
			if err != nil {
				return fmt.Errorf("dri simulator: %w", err)
			}
			readings, _ := decoder.Record(r)
			for _, rd := range readings {
				if enc != nil {
					if err := enc.Encode(rd); err != nil {
						return fmt.Errorf("dri simulator: log values: %w", err)
					}
				}
			}
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tickC:
			if err := send(); err != nil {
				return err
			}
		case c := <-chunks:
			if c.Err != nil {
				return fmt.Errorf("dri simulator: read: %w", c.Err)
			}
			var reqs []driver.PhdbRequest
			reqs, buf = requests(append(buf, c.Data...))
			if len(reqs) == 0 {
				continue
			}
			for _, q := range reqs {
				tx = d.apply(tx, q)
			}
			if tick != nil {
				tick.Stop()
				tick, tickC = nil, nil
			}
			if tx.display == 0 {
				continue
			}
			tick = time.NewTicker(tx.display)
			tickC = tick.C
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// apply returns tx changed by request q.
func (d *Device) apply(tx transmission, q driver.PhdbRequest) transmission {
	ival := time.Duration(q.Interval) * time.Second
	if d.fixed && ival > 0 {
		ival = d.opts.Period
	}
	switch q.Type {
	case driver.PhDispl:
		tx.display, tx.classes = max(ival, 0), q.Classes
	case driver.PhAuxInfo:
		tx.aux = max(ival, 0)
	}
	return tx
}

// requests returns the physiological requests among the complete frames
// in buf, and the bytes of a frame not yet complete.
func requests(buf []byte) ([]driver.PhdbRequest, []byte) {
	var out []driver.PhdbRequest
	for {
		adv, tok, err := driver.Split(buf, false)
		if err != nil || adv == 0 {
			return out, buf
		}
		buf = buf[adv:]
		if tok == nil {
			continue
		}
		b, err := driver.Unframe(tok)
		if err != nil {
			continue
		}
		r, err := driver.ParseRecord(b)
		if err != nil || r.MainType != driver.MainPhdb {
			continue
		}
		for _, s := range r.Subrecords {
			if q, err := driver.ParsePhdbRequest(s.Data); err == nil && s.Type == driver.PhRequest {
				out = append(out, q)
			}
		}
	}
}

// records returns the records due at now, elapsed into the run: the
// auxiliary information when asked for, then the displayed values.
func (d *Device) records(tx transmission, now time.Time, elapsed time.Duration) [][]byte {
	v := d.engine.At(elapsed)
	sec := uint32(now.Unix())
	// The latest NIBP measurement: at the start and every NIBPCycle.
	cycle := elapsed.Truncate(NIBPCycle)
	nibpAt := now.Add(cycle - elapsed)
	nibp := d.engine.At(cycle)
	var out [][]byte
	if tx.aux > 0 {
		aux := driver.Aux{NIBPTime: uint32(nibpAt.Unix())}
		out = append(out, driver.AppendRecord(nil, driver.Record{Level: Level, Time: sec, MainType: driver.MainPhdb,
			Subrecords: []driver.Subrecord{{Type: driver.PhAuxInfo, Data: aux.Append(nil)}}}))
	}
	subs := []driver.Subrecord{{Type: driver.PhDispl, Data: driver.Phdb{Time: sec, Data: driver.EncodeBasic(Groups(v, nibp, elapsed-cycle))}.Append(nil)}}
	for i, bit := range []uint32{driver.ClassExt1, driver.ClassExt2, driver.ClassExt3} {
		if tx.classes&bit != 0 {
			subs = append(subs, driver.Subrecord{Type: driver.PhDispl, Data: driver.Phdb{Time: sec, Class: driver.Class(i + 1)}.Append(nil)})
		}
	}
	return append(out, driver.AppendRecord(nil, driver.Record{Level: Level, Time: sec, MainType: driver.MainPhdb, Subrecords: subs}))
}

const on = driver.StatusExists | driver.StatusActive

// Groups returns the basic class groups of a monitor showing vitals v, and
// the NIBP measurement of vitals nibp taken age ago: ECG (lead II) with
// impedance respiration, NIBP in auto mode, an axillary temperature, SpO2
// and CO2. A sensor off or no signal makes SpO2 and its pulse rate
// DATA_INVALID; an artefact sets the ECG artifact bit.
func Groups(v, nibp scenario.Vitals, age time.Duration) []driver.Group {
	hr := v.HeartRate
	if hr == 0 {
		hr = v.PulseRate
	}
	ecgStatus := uint32(on)
	if v.Artefact {
		ecgStatus |= 1 << 8
	}
	spo2, pr, amp := raw(v.SpO2, 1)*100, raw(v.PulseRate, 1), raw(v.PerfusionIndex, 100)
	if v.SensorOff || v.NoSignal {
		spo2, pr, amp = driver.DataInvalid, driver.DataInvalid, driver.DataInvalid
	}
	nibpLabel := uint16(1 << 3) // AUTO
	if age > time.Minute {
		nibpLabel |= 1 << 8 // older than 60 s
	}
	return []driver.Group{
		{Name: "ecg", Status: ecgStatus, Label: 2 << 8, Values: []int16{raw(hr, 1), 5, driver.DataInvalid, driver.DataInvalid, raw(v.RespRate, 1)}},
		{Name: "nibp", Status: on, Label: nibpLabel, Values: []int16{raw(nibp.SysBP, 1) * 100, raw(nibp.DiaBP, 1) * 100, raw(nibp.MeanBP, 1) * 100, raw(nibp.PulseRate, 1)}},
		{Name: "t1", Status: on, Label: 6, Values: []int16{raw(v.TempC, 10) * 10}},
		{Name: "spo2", Status: on, Values: []int16{spo2, pr, amp, driver.DataInvalid}},
		{Name: "co2", Status: on, Label: 1, Values: []int16{raw(v.EtCO2/ambient*1000, 10) * 10, 0, raw(v.RespRate, 1), ambient}},
		{Name: "ecg_extra", Values: []int16{raw(hr, 1), driver.DataNotUpdated, driver.DataNotUpdated}},
	}
}

// raw rounds x to 1/scale of its unit, in that unit's steps (raw(97.4, 1)
// is 97).
func raw(x, scale float64) int16 {
	return int16(max(min(math.Round(x*scale), 32000), -32000))
}
