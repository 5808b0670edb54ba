package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/drivers/probe"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// simulate runs the simulated device of kind on rw until the returned stop
// is called (and at the end of the test). Its clock runs 20 times faster, a
// reading every 50 ms of real time.
func simulate(t *testing.T, kind string, rw io.ReadWriter, opts simulators.Options) (stop func()) {
	t.Helper()
	opts.Period = 50 * time.Millisecond
	opts.Now = simtest.FastClock(20)
	return simtest.Run(t, kind, rw, opts)
}

// TestProbeOneDriver checks what probe prints when a device answers (what
// each simulated monitor answers is tested in drivers/probe).
func TestProbeOneDriver(t *testing.T) {
	p := simtest.OpenPTY(t)
	const serial = "0000093112"
	simulate(t, "masimo", p, simulators.Options{Scenario: "stable", Serial: serial})
	// Flags after the port work too.
	out, _, err := invoke(t, nil, "probe", p.Path(), "--driver", "masimo", "--timeout", "3s")
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	if strings.Count(out, "trying ") != 1 || !strings.Contains(out, "SPO2 ") || !strings.Contains(out, "BPM ") {
		t.Errorf("probe --driver masimo output should try masimo once and show SpO2 and pulse rate:\n%s", out)
	}
	for _, want := range []string{
		p.Path() + ": trying masimo at " + masimo.Line().String() + " ... answered",
		"  port:    " + p.Path(),
		"  driver:  masimo:",
		"  line:    " + masimo.Line().String(),
		"serial " + serial,
		"  heard:   first reading after ",
		"  values:  ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("probe output does not contain %q:\n%s", want, out)
		}
	}
}

func TestProbeSilentPort(t *testing.T) {
	p := simtest.OpenPTY(t)
	out, _, err := invoke(t, nil, "probe", p.Path(), "--timeout", "300ms")
	if !errors.Is(err, probe.ErrNothingAnswered) || errors.Is(err, errUsage) {
		t.Fatalf("probe on a silent port = %v, want nothing answered (exit 1)", err)
	}
	if !strings.Contains(err.Error(), "nothing answered") || !strings.Contains(err.Error(), p.Path()) {
		t.Errorf("error %q should say nothing answered on %s", err, p.Path())
	}
	if !strings.Contains(out, "... silent") {
		t.Errorf("output should say each driver heard silence:\n%s", out)
	}
}

func TestProbeGarbage(t *testing.T) {
	p := simtest.OpenPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // a device at the wrong speed: bytes, but no lines
		for ctx.Err() == nil {
			p.Write([]byte{0xf0, 0x0f, 0x80, 0x00, 0xfe, 0x13, 0x11})
			time.Sleep(10 * time.Millisecond)
		}
	}()
	out, _, err := invoke(t, nil, "probe", p.Path(), "--driver", "masimo", "--timeout", "400ms")
	if !errors.Is(err, probe.ErrNothingAnswered) {
		t.Fatalf("probe on garbage = %v, want nothing answered", err)
	}
	if !strings.Contains(out, "no reading (") {
		t.Errorf("output should report what was heard but not understood:\n%s", out)
	}
}

func TestProbeBusyPort(t *testing.T) {
	p := simtest.OpenPTY(t)
	held, err := serialport.Open(p.Path(), defaultLine, serialport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, _, err = invoke(t, nil, "probe", p.Path(), "--timeout", "300ms")
	if !errors.Is(err, serialport.ErrBusy) {
		t.Fatalf("probe on a port in use = %v, want ErrBusy", err)
	}
	for _, want := range []string{"port busy", "another process has the port open", "held by pid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestProbeErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  []string
	}{
		{"no port", []string{"probe"}, true, []string{"exactly one PORT"}},
		{"two ports", []string{"probe", "/dev/a", "/dev/b"}, true, []string{"exactly one PORT"}},
		{"unknown driver", []string{"probe", "/dev/ttyUSB0", "--driver", "acme"}, true, []string{`unknown driver "acme"`}},
		{"negative timeout", []string{"probe", "/dev/ttyUSB0", "--timeout", "-1s"}, true, []string{"--timeout"}},
		{"missing node", []string{"probe", "/dev/serial/by-path/not-plugged-in"}, false, []string{"no such device", "is the device plugged in?", "bedgate ports"}},
		{"not a serial port", []string{"probe", "/dev/null"}, false, []string{"not a serial port"}},
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
