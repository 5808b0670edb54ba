package probe_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/all"
	"github.com/bedgate/bedgate/drivers/probe"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/simulators"
	simall "github.com/bedgate/bedgate/simulators/all"
	"github.com/bedgate/bedgate/simulators/pty"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// simulate runs the simulated device name on rw until the end of the test,
// its clock 20 times faster than real time: a reading every 50 ms.
func simulate(t *testing.T, name string, rw io.ReadWriter, opts simulators.Options) {
	t.Helper()
	opts.Period = 50 * time.Millisecond
	opts.Now = simtest.FastClock(20)
	simtest.Run(t, name, rw, opts)
}

// driver returns the registered driver name.
func driver(t *testing.T, name string) drivers.Driver {
	t.Helper()
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	d, err := reg.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// quiet is the session options of the tests: no log output.
var quiet = drivers.Options{Logger: slog.New(slog.DiscardHandler)}

// babble writes bytes no driver understands to p until the end of the test,
// as a device at the wrong speed does.
func babble(t *testing.T, p *pty.PTY) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			p.Write([]byte{0xf0, 0x0f, 0x80, 0x00, 0xfe, 0x13, 0x11})
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// TestProbeFindsEverySimulatedMonitor runs each simulator the project has
// on a pseudo-terminal and probes it with the driver of the same name.
func TestProbeFindsEverySimulatedMonitor(t *testing.T) {
	reg, err := simall.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range reg.Names() {
		t.Run(name, func(t *testing.T) {
			p := simtest.OpenPTY(t)
			const serial = "0000093112"
			simulate(t, name, p, simulators.Options{Serial: serial})
			drv := driver(t, name)
			const timeout = 2 * time.Second
			res, err := probe.Probe(context.Background(), p.Path(), drv, timeout, quiet)
			if err != nil {
				t.Fatal(err)
			}
			if res.Reading == nil {
				t.Fatalf("no reading: %+v", res)
			}
			wantSerial := serial
			if strings.HasPrefix(name, "nonin") || name == "dri" {
				wantSerial = "" // Nonin's data formats and the DRI carry no serial number
			}
			if res.Driver.Name != name || res.Reading.Device.Serial != wantSerial || len(res.Reading.Values) == 0 {
				t.Errorf("driver %q, device %+v, %d values; want %s, serial %q, values",
					res.Driver.Name, res.Reading.Device, len(res.Reading.Values), name, wantSerial)
			}
			if res.Node != p.Path() || res.Bytes == 0 || res.Stats.Frames == 0 || res.Ended != nil {
				t.Errorf("node %q, %d bytes, stats %+v, ended %v; want %s, bytes, frames, not ended",
					res.Node, res.Bytes, res.Stats, res.Ended, p.Path())
			}
			if res.Took <= 0 || res.Took >= timeout {
				t.Errorf("took %v, want a first reading within %v", res.Took, timeout)
			}
		})
	}
}

func TestProbeHearsNoReading(t *testing.T) {
	errNoSession := errors.New("no session for this device")
	tests := []struct {
		name   string
		device func(t *testing.T, p *pty.PTY)
		drv    func(t *testing.T) drivers.Driver
		bytes  bool  // whether bytes arrived
		ended  error // what Ended must match; nil means the timeout ran out
	}{
		{"silent port", func(*testing.T, *pty.PTY) {}, func(t *testing.T) drivers.Driver { return driver(t, "masimo") }, false, nil},
		{"garbage", babble, func(t *testing.T) drivers.Driver { return driver(t, "masimo") }, true, nil},
		{"device went away", func(t *testing.T, p *pty.PTY) {
			time.AfterFunc(100*time.Millisecond, func() { p.Close() })
		}, func(t *testing.T) drivers.Driver { return driver(t, "masimo") }, false, drivers.ErrLinkLost},
		{"no session", func(*testing.T, *pty.PTY) {}, func(t *testing.T) drivers.Driver {
			d := driver(t, "masimo")
			d.NewSession = func(io.ReadWriter, drivers.Options) (drivers.Session, error) { return nil, errNoSession }
			return d
		}, false, errNoSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := simtest.OpenPTY(t)
			tt.device(t, p)
			const timeout = 400 * time.Millisecond
			res, err := probe.Probe(context.Background(), p.Path(), tt.drv(t), timeout, quiet)
			if err != nil {
				t.Fatal(err)
			}
			if res.Reading != nil {
				t.Fatalf("reading %+v, want none", res.Reading)
			}
			if (res.Bytes > 0) != tt.bytes {
				t.Errorf("%d bytes arrived, want some: %v", res.Bytes, tt.bytes)
			}
			if res.Stats.Readings != 0 || res.Stats.Frames != 0 {
				t.Errorf("stats %+v, want no frames and no readings", res.Stats)
			}
			switch {
			case tt.ended == nil && res.Ended != nil:
				t.Errorf("ended early: %v", res.Ended)
			case tt.ended == nil && res.Took < timeout:
				t.Errorf("took %v, want the whole %v", res.Took, timeout)
			case tt.ended != nil && !errors.Is(res.Ended, tt.ended):
				t.Errorf("ended %v, want %v", res.Ended, tt.ended)
			}
		})
	}
}

func TestProbeOpenErrors(t *testing.T) {
	p := simtest.OpenPTY(t)
	drv := driver(t, "masimo")
	held, err := serialport.Open(p.Path(), drv.Line, serialport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	odd := drv
	odd.Line.StopBits = 3
	tests := []struct {
		name, path string
		drv        drivers.Driver
		want       error
	}{
		{"busy", p.Path(), drv, serialport.ErrBusy},
		{"missing", "/dev/serial/by-path/not-plugged-in", drv, serialport.ErrNoDevice},
		{"not a serial port", "/dev/null", drv, serialport.ErrNotSerial},
		{"settings refused", p.Path(), odd, serialport.ErrInvalidSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := probe.Probe(context.Background(), tt.path, tt.drv, time.Second, quiet)
			if !errors.Is(err, tt.want) {
				t.Errorf("Probe = %v, want %v", err, tt.want)
			}
			if res.Driver.Name != tt.drv.Name || res.Reading != nil || res.Bytes != 0 {
				t.Errorf("result %+v, want only the driver", res)
			}
		})
	}
}

// try records what All reported through its options.
type try struct {
	driver   string
	answered bool
	err      error
}

func TestAll(t *testing.T) {
	masimo := driver(t, "masimo")
	intellivue := driver(t, "intellivue")
	odd := masimo
	odd.Name, odd.Line.StopBits = "odd", 3
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		device  func(t *testing.T, p *pty.PTY)
		drvs    []drivers.Driver
		want    string // driver that answers, or ""
		wantErr error
		errSays []string
		tries   []try
	}{
		{"second answers", context.Background(), func(t *testing.T, p *pty.PTY) { simulate(t, "masimo", p, simulators.Options{}) },
			[]drivers.Driver{odd, masimo, intellivue}, "masimo", nil, nil,
			[]try{{"odd", false, serialport.ErrInvalidSettings}, {"masimo", true, nil}}},
		{"nothing answers", context.Background(), func(*testing.T, *pty.PTY) {},
			[]drivers.Driver{masimo, odd}, "", probe.ErrNothingAnswered,
			[]string{"probe: ", ": nothing answered (tried masimo at " + masimo.Line.String() + " for 300ms, odd (settings refused)); check the cable"},
			[]try{{"masimo", false, nil}, {"odd", false, serialport.ErrInvalidSettings}}},
		{"no drivers", context.Background(), func(*testing.T, *pty.PTY) {}, nil, "", probe.ErrNothingAnswered, nil, nil},
		{"interrupted", cancelled, func(*testing.T, *pty.PTY) {},
			[]drivers.Driver{masimo, intellivue}, "", context.Canceled, nil,
			[]try{{"masimo", false, context.Canceled}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := simtest.OpenPTY(t)
			tt.device(t, p)
			var trying []string
			var tries []try
			res, err := probe.All(tt.ctx, p.Path(), tt.drvs, 300*time.Millisecond, probe.Options{
				Session: quiet,
				Trying:  func(d drivers.Driver) { trying = append(trying, d.Name) },
				Tried: func(r probe.Result, err error) {
					tries = append(tries, try{r.Driver.Name, r.Reading != nil, err})
				},
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("All = %v, want %v", err, tt.wantErr)
			}
			for _, s := range tt.errSays {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if tt.wantErr != nil && strings.Contains(err.Error(), p.Path()) != errors.Is(err, probe.ErrNothingAnswered) {
				t.Errorf("error %q: names the port %v, want only when nothing answered", err, strings.Contains(err.Error(), p.Path()))
			}
			if res.Driver.Name != tt.want || (res.Reading != nil) != (tt.want != "") {
				t.Errorf("answered by %q (reading %v), want %q", res.Driver.Name, res.Reading != nil, tt.want)
			}
			if len(tries) != len(tt.tries) || len(trying) != len(tt.tries) {
				t.Fatalf("tried %q, reported %+v; want %+v", trying, tries, tt.tries)
			}
			for i, w := range tt.tries {
				g := tries[i]
				if trying[i] != w.driver || g.driver != w.driver || g.answered != w.answered || !errors.Is(g.err, w.err) || (g.err == nil) != (w.err == nil) {
					t.Errorf("try %d: trying %q, reported %+v; want %+v", i, trying[i], g, w)
				}
			}
		})
	}
}

// TestAllStopsAtAnOpenError checks that a port that cannot be opened ends
// the search with the open error, which serialport.Explain can enrich.
func TestAllStopsAtAnOpenError(t *testing.T) {
	masimo, intellivue := driver(t, "masimo"), driver(t, "intellivue")
	var tries int
	_, err := probe.All(context.Background(), "/dev/serial/by-path/not-plugged-in", []drivers.Driver{masimo, intellivue}, time.Second,
		probe.Options{Session: quiet, Tried: func(probe.Result, error) { tries++ }})
	var oe *serialport.OpenError
	if !errors.Is(err, serialport.ErrNoDevice) || !errors.As(err, &oe) || errors.Is(err, probe.ErrNothingAnswered) {
		t.Errorf("All = %v, want the *OpenError matching ErrNoDevice", err)
	}
	if tries != 1 {
		t.Errorf("%d tries reported, want 1", tries)
	}
}
