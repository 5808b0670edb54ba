package masimo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

var epoch = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// clock returns a device clock that moves on by step at every call.
func clock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := epoch
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := t
		t = t.Add(step)
		return now
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// run connects a simulated device and a driver session over net.Pipe and
// returns the first n readings the driver emitted and the readings the
// device logged.
func run(t *testing.T, opts simulators.Options, n int) (got, meant []drivers.Reading) {
	t.Helper()
	var log bytes.Buffer
	opts.Values = &log
	opts.Logger = quiet()
	dev, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	host, device := net.Pipe()
	sess, err := driver.NewSession(host, driver.Options{Options: drivers.Options{Logger: quiet()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	devDone := make(chan error, 1)
	go func() { devDone <- dev.Run(ctx, device) }()

	sink := drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		// Lines already read may still be emitted after the cancel: keep
		// the first n only.
		if len(got) < n {
			got = append(got, r)
		}
		if len(got) == n {
			cancel()
		}
		return nil
	})
	if err := sess.Run(ctx, sink); !errors.Is(err, context.Canceled) {
		t.Fatalf("session: %v", err)
	}
	host.Close()
	device.Close()
	if err := <-devDone; !errors.Is(err, context.Canceled) && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("device: %v", err)
	}
	if st := sess.Stats(); st.Bad != 0 || st.Skipped != 0 {
		t.Errorf("driver rejected simulator output: %+v", st)
	}
	dec := json.NewDecoder(&log)
	for dec.More() {
		var r drivers.Reading
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("values log: %v", err)
		}
		meant = append(meant, r)
	}
	if len(meant) < n {
		t.Fatalf("%d logged readings, want at least %d", len(meant), n)
	}
	return got, meant[:n]
}

func TestRoundTrip(t *testing.T) {
	for _, name := range scenario.Names() {
		t.Run(name, func(t *testing.T) {
			got, meant := run(t, simulators.Options{Scenario: name, Seed: 7, Period: time.Millisecond, Now: clock(time.Second)}, 300)
			flags := map[drivers.Status]int{}
			for i := range got {
				g, m := got[i], meant[i]
				if g.Device != m.Device || !g.DeviceTime.Equal(m.DeviceTime) || g.DeviceStatus != m.DeviceStatus || !reflect.DeepEqual(g.Values, m.Values) {
					t.Fatalf("reading %d:\n got %+v\nmeant %+v", i, g, m)
				}
				if want := epoch.Add(time.Duration(i) * time.Second); !g.DeviceTime.Equal(want) {
					t.Fatalf("reading %d at %v, want %v", i, g.DeviceTime, want)
				}
				flags[g.Values[0].Status]++ // SpO2
			}
			// Each scenario's character shows in what the driver decodes.
			off := drivers.Unavailable | drivers.SensorOff | drivers.Invalid | drivers.Questionable
			search := drivers.Unavailable | drivers.Questionable
			switch name {
			case "stable", "deteriorating":
				if flags[0] != len(got) {
					t.Errorf("SpO2 statuses %v, want all ok", flags)
				}
			case "artefact":
				if flags[drivers.Questionable] != 5*8 || flags[0] != len(got)-40 {
					t.Errorf("SpO2 statuses %v, want 40 questionable (8 s a minute)", flags)
				}
			case "sensor-off":
				if flags[off] == 0 || flags[search] == 0 || flags[0] == 0 || flags[off]+flags[search]+flags[0] != len(got) {
					t.Errorf("SpO2 statuses %v, want sensor-off, searching and ok", flags)
				}
			}
		})
	}
}

// acceptance is the Radical-7 line shape in the form OpenICE's regular
// expression checks: a 17-character timestamp, then the fields in order.
var acceptance = regexp.MustCompile(`^\d\d/\d\d/\d\d \d\d:\d\d:\d\d SN=\S+ SPO2=\S+% BPM=\S+ PI=\S+% SPCO=\S+% SPMET=\S+% DESAT=\S+ PIDELTA=\S+ PVI=\S+ ALARM=[0-9A-F]+ EXC=[0-9A-F]+\r\n$`)

func TestLinesMatchAcceptanceShape(t *testing.T) {
	for _, name := range scenario.Names() {
		var out bytes.Buffer
		dev, err := New(simulators.Options{Scenario: name, Period: time.Millisecond, Now: clock(time.Second), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		w := &limitWriter{w: &out, lines: 200, cancel: cancel}
		if err := dev.Run(ctx, w); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
		sc := bufio.NewScanner(&out)
		sc.Split(scanCRLF)
		n := 0
		for sc.Scan() {
			n++
			if line := sc.Text(); !acceptance.MatchString(line) {
				t.Fatalf("%s: line %q does not match the Radical-7 shape", name, line)
			}
		}
		if n != 200 {
			t.Errorf("%s: %d lines, want 200", name, n)
		}
	}
}

// scanCRLF splits after each LF, keeping the CR/LF.
func scanCRLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// limitWriter cancels after the given number of writes.
type limitWriter struct {
	w      io.Writer
	lines  int
	cancel func()
}

func (l *limitWriter) Read([]byte) (int, error) { return 0, errors.New("not read") }

func (l *limitWriter) Write(p []byte) (int, error) {
	l.lines--
	if l.lines == 0 {
		l.cancel()
	}
	return l.w.Write(p)
}

func TestNoSharedTimestamps(t *testing.T) {
	// A 300 ms device clock step with a fast period: several ticks fall in
	// one device second; only one line per second may be sent.
	got, _ := run(t, simulators.Options{Period: time.Millisecond, Now: clock(300 * time.Millisecond)}, 20)
	for i := 1; i < len(got); i++ {
		if !got[i].DeviceTime.After(got[i-1].DeviceTime) {
			t.Fatalf("readings %d and %d share or reverse device time %v", i-1, i, got[i].DeviceTime)
		}
	}
}

func TestMeantReading(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 900e6, time.UTC)
	v := scenario.Vitals{SpO2: 96.6, PulseRate: 71.4, PerfusionIndex: 3.14159}
	tests := []struct {
		name   string
		set    func(*scenario.Vitals)
		line   string
		status drivers.Status
	}{
		{"measuring", func(*scenario.Vitals) {}, "SPO2=097% BPM=071 PI=03.14% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- PVI=--- ALARM=0000 EXC=000800", 0},
		{"artefact", func(v *scenario.Vitals) { v.Artefact = true }, "SPO2=097% BPM=071 PI=03.14% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- PVI=--- ALARM=0000 EXC=000C10", drivers.Questionable},
		{"sensor off", func(v *scenario.Vitals) { v.SensorOff = true }, "SPO2=---% BPM=--- PI=--.--% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- PVI=--- ALARM=0000 EXC=000828", drivers.Unavailable | drivers.SensorOff | drivers.Invalid | drivers.Questionable},
		{"pulse search", func(v *scenario.Vitals) { v.NoSignal = true }, "SPO2=---% BPM=--- PI=--.--% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- PVI=--- ALARM=0000 EXC=000808", drivers.Unavailable | drivers.Questionable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vv := v
			tt.set(&vv)
			r := MeantReading(at, "AB-12", vv)
			line, err := FormatLine(r)
			if err != nil {
				t.Fatal(err)
			}
			want := "01/01/26 12:00:00 SN=AB-12 " + tt.line + "\r\n"
			if string(line) != want {
				t.Errorf("line\n got %q\nwant %q", line, want)
			}
			if r.Values[0].Status != tt.status {
				t.Errorf("SpO2 status %v, want %v", r.Values[0].Status, tt.status)
			}
			if !r.DeviceTime.Equal(at.Truncate(time.Second)) {
				t.Errorf("DeviceTime %v", r.DeviceTime)
			}
		})
	}
	if r := MeantReading(at, "----------", v); r.Device.Serial != "" {
		t.Errorf("dashed serial kept as %q", r.Device.Serial)
	}
}

func TestNew(t *testing.T) {
	for _, opts := range []simulators.Options{
		{Scenario: "asystole"},
		{Serial: "has space"},
		{Serial: "A=B"},
		{Serial: strings.Repeat("1", 21)},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
	k := Kind()
	if k.Name != "masimo" || k.Line.String() != "9600 8N1" {
		t.Errorf("Kind = %+v", k)
	}
	var reg simulators.Registry
	if err := reg.Register(k); err != nil {
		t.Fatal(err)
	}
	if _, err := k.New(simulators.Options{}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

func TestRunStopsOnWriteError(t *testing.T) {
	dev, err := New(simulators.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("port gone")
	err = dev.Run(context.Background(), struct {
		io.Reader
		io.Writer
	}{strings.NewReader(""), failWriter{boom}})
	if !errors.Is(err, boom) {
		t.Errorf("Run = %v, want %v", err, boom)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
