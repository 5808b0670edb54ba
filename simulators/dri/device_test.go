package dri

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/dri"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// decode returns the readings the driver decodes from the records.
func decode(t *testing.T, records [][]byte) []drivers.Reading {
	var wire []byte
	for _, r := range records {
		wire = driver.AppendFrame(wire, r)
	}
	var got []drivers.Reading
	if _, err := driver.Decode(t.Context(), bytes.NewReader(wire), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got = append(got, r)
		return nil
	}), drivers.Options{}); err != nil {
		t.Fatal(err)
	}
	return got
}

func valueOf(r drivers.Reading, code uint32) *drivers.Value {
	for i := range r.Values {
		if r.Values[i].MDC == code {
			return &r.Values[i]
		}
	}
	return nil
}

func TestRecordsCarryTheScenario(t *testing.T) {
	d, err := New(simulators.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	const elapsed = 30 * time.Second
	v := d.engine.At(elapsed)
	got := decode(t, d.records(transmission{display: time.Second, aux: time.Second}, now, elapsed))
	if len(got) != 2 {
		t.Fatalf("%d readings, want the periodic one and the NIBP measurement (taken 30 s ago)", len(got))
	}
	main, nibp := got[0], got[1]
	checks := []struct {
		code uint32
		want float64
		tol  float64
	}{
		{mdc.SpO2, math.Round(v.SpO2), 0},
		{mdc.PulsOximPulse, math.Round(v.PulseRate), 0},
		{mdc.ECGHeartRate, math.Round(v.HeartRate), 0},
		{mdc.TempAxilla, math.Round(v.TempC*10) / 10, 1e-9},
		{mdc.CO2RespRate, math.Round(v.RespRate), 0},
		{mdc.AwayCO2Et, v.EtCO2, 0.4}, // sent as 1/10 % of 760 mmHg
	}
	for _, c := range checks {
		got := valueOf(main, c.code)
		if got == nil || got.Value == nil || math.Abs(*got.Value-c.want) > c.tol || got.Status != 0 {
			t.Errorf("code %d = %+v, want %v", c.code, got, c.want)
		}
	}
	n0 := d.engine.At(0)
	if sys := valueOf(nibp, mdc.NIBPSys); sys == nil || *sys.Value != math.Round(n0.SysBP) || !sys.MeasuredAt.Equal(now.Add(-elapsed)) || !nibp.DeviceTime.Equal(now.Truncate(time.Second)) {
		t.Errorf("NIBP reading %+v, want the measurement at the start, reported now", nibp)
	}
	// Sensor off: SpO2 without a number, flagged.
	off := decode(t, [][]byte{driver.AppendRecord(nil, driver.Record{MainType: driver.MainPhdb, Subrecords: []driver.Subrecord{{Type: driver.PhDispl,
		Data: driver.Phdb{Time: 1, Data: driver.EncodeBasic(Groups(scenario.Vitals{SensorOff: true, HeartRate: 70}, n0, 2*time.Minute))}.Append(nil)}}})})
	if s := valueOf(off[0], mdc.SpO2); s == nil || s.Value != nil || s.Status&drivers.Invalid == 0 || len(off) != 1 {
		t.Errorf("sensor off: %+v (%d readings; the NIBP over 60 s old is not one)", s, len(off))
	}
}

// hostLink is the host's side of a piped link to the device.
type hostLink struct {
	io.Reader
	io.Writer
}

func TestRunAnswersRequestsAndStops(t *testing.T) {
	dr, hw := io.Pipe() // host → device
	hr, dw := io.Pipe() // device → host
	values := &syncWriter{}
	d, err := New(simulators.Options{Period: 20 * time.Millisecond, Values: values})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan error, 1)
	go func() { ended <- d.Run(ctx, hostLink{dr, dw}) }()
	defer func() {
		cancel()
		dr.Close()
		dw.Close()
		<-ended
	}()
	if _, err := hw.Write(driver.PhdbRequest{Type: driver.PhDispl, Interval: 10}.Frame()); err != nil {
		t.Fatal(err)
	}
	// Records arrive at the fixed period, each a frame of the display.
	got := make(chan drivers.Reading, 64)
	go driver.Decode(context.Background(), hr, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got <- r
		return nil
	}), drivers.Options{})
	deadline := time.After(5 * time.Second)
	for n := 0; n < 3; {
		select {
		case r := <-got:
			if valueOf(r, mdc.SpO2) != nil {
				n++
			}
		case <-deadline:
			t.Fatalf("%d periodic readings in 5 s, want 3", n)
		}
	}
	if _, err := hw.Write(driver.PhdbRequest{Type: driver.PhDispl, Interval: driver.IntervalStop}.Frame()); err != nil {
		t.Fatal(err)
	}
	// After the stop, at most the record in flight arrives.
	quiet := time.NewTimer(300 * time.Millisecond)
	late := 0
	for done := false; !done; {
		select {
		case <-got:
			late++
			quiet.Reset(300 * time.Millisecond)
		case <-quiet.C:
			done = true
		}
	}
	if late > 2 {
		t.Errorf("%d readings after the stop request", late)
	}
	var first drivers.Reading
	if err := json.NewDecoder(bytes.NewReader(values.Bytes())).Decode(&first); err != nil || valueOf(first, mdc.SpO2) == nil {
		t.Errorf("values log: %v, first %+v", err, first)
	}
}

// syncWriter is a buffer safe for the device writing and the test reading.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes())
}

func TestNew(t *testing.T) {
	if _, err := New(simulators.Options{Scenario: "sleepy"}); err == nil {
		t.Error("unknown scenario accepted")
	}
	d, err := New(simulators.Options{})
	if err != nil || d.fixed || d.opts.Period != driver.DefaultInterval {
		t.Errorf("New = %+v, %v; want the requested interval to rule", d, err)
	}
}
