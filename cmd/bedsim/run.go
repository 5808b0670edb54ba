package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/all"
	"github.com/bedgate/bedgate/simulators/pty"
)

// drainTimeout bounds how long bedsim waits at the end for a gateway to
// read what the devices sent, before it hangs up the terminals. A gateway
// that reads promptly ends the wait at once; 2 s covers one on a loaded
// machine, so that what the values log says was sent was also readable.
const drainTimeout = 2 * time.Second

// stopGrace is how long devices get to return after the run ends before
// their terminals are closed under them.
const stopGrace = 2 * time.Second

// defaultSerial is the serial number of the first device when --serial is
// not given.
const defaultSerial = "9000000001"

// usageError is a bad flag or argument: main exits with status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() + " (see bedsim -h)" }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// config is what the command line asks for.
type config struct {
	device   string
	count    int
	scenario string
	seed     int64
	serial   string
	period   time.Duration
	port     string
	link     string
	record   string
	replay   string
	values   string
	duration time.Duration
	speed    float64
	logLevel slog.Level
	hl7      string // --hl7 HOST:PORT: send ORU^R01 over MLLP instead
	hl7Unit  string
	targets  []string // KIND[:NAME] arguments
}

const usageText = `Usage:
  bedsim [flags] KIND[:NAME] ...
  bedsim [flags] --device KIND [--count N]
  bedsim [flags] --replay FILE

Runs simulated monitors on pseudo-terminals (or a real serial port) and
prints "KIND<TAB>NAME<TAB>PATH" for each device once its terminal exists.
Known kinds: %s.

Flags:
`

func parseArgs(args []string, known []string, stdout io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bedsim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.device, "device", "", "start --count devices of `KIND` (instead of arguments)")
	fs.IntVar(&c.count, "count", 1, "how many devices --device starts")
	fs.StringVar(&c.scenario, "scenario", "", "physiology scenario `name` (default: the simulators' own)")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the first device; device i gets seed+i-1")
	fs.StringVar(&c.serial, "serial", defaultSerial, "serial number of the first device; the next devices count up from it")
	fs.DurationVar(&c.period, "period", 0, "time between readings (default: the protocol's own)")
	fs.StringVar(&c.port, "port", "", "speak on this serial port `path` instead of a pseudo-terminal (one device only)")
	fs.StringVar(&c.link, "link", "", "make `DIR`/NAME a symlink to each device's terminal")
	fs.StringVar(&c.record, "record", "", "write the bytes sent to `FILE` (FILE with .NAME before the extension when several devices)")
	fs.StringVar(&c.replay, "replay", "", "play the capture `FILE` (bedgate capture) back as one device, with its original timing")
	fs.StringVar(&c.values, "values", "", "write one JSON reading per line to `FILE`, all devices together")
	fs.DurationVar(&c.duration, "for", 0, "stop after this `duration` (default: run until interrupted)")
	fs.Float64Var(&c.speed, "speed", 1, "run the devices' clocks this many times faster than real time")
	fs.StringVar(&c.hl7, "hl7", "", "send each device's readings as HL7 v2.6 ORU^R01 (IHE PCD-01) over MLLP to `HOST:PORT`, as a central station does, instead of on terminals")
	fs.StringVar(&c.hl7Unit, "hl7-unit", "WARD", "point of care sent in PV1-3 with --hl7 (PV1-3 is UNIT^^NAME)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")

	// Flags may come before, between or after the devices.
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, usageText, strings.Join(known, ", "))
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				return c, err
			}
			return c, &usageError{err}
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		c.targets = append(c.targets, rest[0])
		rest = rest[1:]
	}

	switch {
	case c.device != "" && len(c.targets) > 0:
		return c, usagef("give devices either as arguments or with --device, not both")
	case c.replay != "" && (c.device != "" || len(c.targets) > 0):
		return c, usagef("--replay plays one capture: give no devices with it")
	case c.replay != "" && c.values != "":
		return c, usagef("--values cannot be used with --replay: a capture holds bytes, not the values meant")
	case c.replay == "" && c.device == "" && len(c.targets) == 0:
		return c, usagef("no devices: name at least one kind (known: %s)", strings.Join(known, ", "))
	case c.count < 1:
		return c, usagef("--count %d: must be at least 1", c.count)
	case c.device == "" && c.count != 1:
		return c, usagef("--count needs --device")
	case c.period < 0:
		return c, usagef("--period %v: must not be negative", c.period)
	case c.duration < 0:
		return c, usagef("--for %v: must not be negative", c.duration)
	case !(c.speed > 0) || c.speed > 1e6:
		return c, usagef("--speed %v: must be above 0 and at most 1e6", c.speed)
	case c.serial == "":
		return c, usagef("--serial must not be empty")
	case c.hl7 != "" && (c.port != "" || c.link != "" || c.replay != "" || c.values != ""):
		return c, usagef("--hl7 sends over the network: no --port, --link, --replay or --values with it")
	case c.port != "" && c.link != "":
		return c, usagef("--link makes links to pseudo-terminals; it cannot be used with --port")
	}
	if c.device != "" {
		for range c.count {
			c.targets = append(c.targets, c.device)
		}
	}
	return c, nil
}

// deviceSpec is one device to simulate.
type deviceSpec struct {
	kind   simulators.Kind
	name   string
	serial string
	seed   int64
}

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// plan turns the arguments into devices: a kind, a unique name, a distinct
// serial number and seed each.
func plan(c config, reg *simulators.Registry) ([]deviceSpec, error) {
	if c.replay != "" {
		spec, err := replaySpec(c.replay, c.speed)
		if err != nil {
			return nil, err
		}
		return []deviceSpec{spec}, nil
	}
	if c.port != "" && len(c.targets) > 1 {
		return nil, usagef("--port runs one device, not %d", len(c.targets))
	}
	specs := make([]deviceSpec, 0, len(c.targets))
	seen := make(map[string]bool)
	for i, t := range c.targets {
		kindName, name, named := strings.Cut(t, ":")
		kind, err := reg.Lookup(kindName)
		if err != nil {
			return nil, &usageError{err}
		}
		if !named {
			name = "bed" + strconv.Itoa(i+1)
		}
		if !validName.MatchString(name) || name == "." || name == ".." {
			return nil, usagef("device name %q: use letters, digits, '.', '_' and '-'", name)
		}
		if seen[name] {
			return nil, usagef("device name %q used twice", name)
		}
		seen[name] = true
		specs = append(specs, deviceSpec{kind: kind, name: name, serial: nthSerial(c.serial, i), seed: c.seed + int64(i)})
	}
	return specs, nil
}

// deviceClock returns the devices' clock: now itself at speed 1, else a
// clock that starts at now() and runs speed times faster.
func deviceClock(speed float64, now func() time.Time) func() time.Time {
	if speed == 1 {
		return now
	}
	start := now()
	return func() time.Time {
		return start.Add(time.Duration(float64(now().Sub(start)) * speed))
	}
}

// nthSerial returns the serial number of device i (from 0): first itself,
// then the next numbers at the same width when first is all digits, else
// first-2, first-3, ...
func nthSerial(first string, i int) string {
	if i == 0 {
		return first
	}
	if n, err := strconv.ParseUint(first, 10, 63); err == nil && first[0] != '+' {
		return fmt.Sprintf("%0*d", len(first), n+uint64(i))
	}
	return first + "-" + strconv.Itoa(i+1)
}

// recordPath names device name's capture file: file itself when there is
// one device, else file with ".name" before its extension.
func recordPath(file, name string, several bool) string {
	if !several {
		return file
	}
	ext := filepath.Ext(file)
	if strings.Contains(ext, string(filepath.Separator)) || ext == file {
		ext = ""
	}
	return strings.TrimSuffix(file, ext) + "." + name + ext
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	c, err := parseArgs(args, reg.Names(), stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	specs, err := plan(c, reg)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	if c.hl7 != "" {
		return runHL7(ctx, c, specs, stdout, log)
	}

	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}

	clock := deviceClock(c.speed, time.Now)

	var values *os.File
	if c.values != "" {
		if values, err = os.Create(c.values); err != nil {
			return fmt.Errorf("values: %w", err)
		}
	}
	var valuesMu sync.Mutex
	sims := make([]*simDevice, 0, len(specs))
	closeAll := func() error {
		var errs []error
		for _, s := range sims {
			errs = append(errs, s.close())
		}
		if values != nil {
			errs = append(errs, values.Close())
		}
		return errors.Join(errs...)
	}
	for _, spec := range specs {
		s, err := openDevice(spec, c, len(specs) > 1, log)
		if err != nil {
			closeAll()
			return err
		}
		sims = append(sims, s)
		if values != nil {
			s.values = &lineWriter{mu: &valuesMu, w: values}
		}
		if err := s.build(c, clock, log); err != nil {
			closeAll()
			return err
		}
	}
	for _, s := range sims {
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", s.spec.kind.Name, s.spec.name, s.path)
	}
	log.Info("bedsim: running", "devices", len(sims))

	runErr := serve(ctx, sims)
	if runErr == nil {
		drain(sims)
	}
	return errors.Join(runErr, closeAll())
}

// serve runs every device until ctx ends or one of them fails, which stops
// the others. An end of ctx is a clean stop and returns nil.
func serve(ctx context.Context, sims []*simDevice) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(sims))
	var wg sync.WaitGroup
	for i, s := range sims {
		wg.Go(func() {
			err := s.dev.Run(ctx, s.rw())
			if err == nil {
				return // the device has nothing more to send (see simulators.Device)
			}
			if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				return
			}
			errs[i] = fmt.Errorf("%s %s: %w", s.spec.kind.Name, s.spec.name, err)
			cancel()
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		case <-time.After(stopGrace):
			// A device still blocked in a read: hang up under it.
			for _, s := range sims {
				s.conn.Close()
			}
			<-done
		}
	}
	for _, s := range sims {
		if err := s.values.flush(); err != nil {
			errs = append(errs, fmt.Errorf("values: %w", err))
		}
	}
	return errors.Join(errs...)
}

// drain gives an attached gateway a moment to read what was sent.
func drain(sims []*simDevice) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range sims {
		if s.pty != nil {
			wg.Go(func() { s.pty.Drain(ctx) })
		}
	}
	wg.Wait()
}

// simDevice is one running device and what it speaks on.
type simDevice struct {
	spec   deviceSpec
	path   string             // what a gateway opens
	conn   io.ReadWriteCloser // the pseudo-terminal or serial port
	pty    *pty.PTY           // nil with --port
	record *os.File           // nil without --record
	values *lineWriter        // nil without --values
	dev    simulators.Device
}

func openDevice(spec deviceSpec, c config, several bool, log *slog.Logger) (*simDevice, error) {
	s := &simDevice{spec: spec}
	where := spec.kind.Name + " " + spec.name
	if c.port != "" {
		p, err := serialport.Open(c.port, spec.kind.Line, serialport.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		s.conn, s.path = p, c.port
	} else {
		p, err := pty.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		s.conn, s.pty, s.path = p, p, p.Path()
		if c.link != "" {
			if err := p.Link(filepath.Join(c.link, spec.name)); err != nil {
				p.Close()
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	if c.record != "" {
		f, err := os.Create(recordPath(c.record, spec.name, several))
		if err != nil {
			s.conn.Close()
			return nil, fmt.Errorf("%s: record: %w", where, err)
		}
		s.record = f
	}
	return s, nil
}

// build makes the simulated device itself.
func (s *simDevice) build(c config, clock func() time.Time, log *slog.Logger) error {
	opts := simulators.Options{
		Scenario: c.scenario,
		Seed:     s.spec.seed,
		Serial:   s.spec.serial,
		Period:   c.period,
		Now:      clock,
		Logger:   log.With("device", s.spec.name),
	}
	if s.values != nil {
		opts.Values = s.values
	}
	dev, err := s.spec.kind.New(opts)
	if err != nil {
		return fmt.Errorf("%s %s: %w", s.spec.kind.Name, s.spec.name, err)
	}
	s.dev = dev
	return nil
}

// rw is what the device speaks over: the terminal, with every byte written
// also copied to the record file.
func (s *simDevice) rw() io.ReadWriter {
	if s.record == nil {
		return s.conn
	}
	return struct {
		io.Reader
		io.Writer
	}{s.conn, &recorder{s.conn, s.record}}
}

func (s *simDevice) close() error {
	err := s.conn.Close()
	if s.record != nil {
		err = errors.Join(err, s.record.Close())
	}
	return err
}

// recorder writes to a line and copies what was written to a file.
type recorder struct {
	line io.Writer
	file io.Writer
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.line.Write(b)
	if n > 0 {
		if _, werr := r.file.Write(b[:n]); werr != nil && err == nil {
			err = fmt.Errorf("record: %w", werr)
		}
	}
	return n, err
}

// lineWriter passes whole lines to a writer shared with other devices, so
// that lines from different devices never interleave. One device writes to
// each lineWriter.
type lineWriter struct {
	mu      *sync.Mutex
	w       io.Writer
	pending []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.pending = append(l.pending, b...)
	end := bytes.LastIndexByte(l.pending, '\n') + 1
	if end == 0 {
		return len(b), nil
	}
	l.mu.Lock()
	_, err := l.w.Write(l.pending[:end])
	l.mu.Unlock()
	l.pending = l.pending[:copy(l.pending, l.pending[end:])]
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// flush writes an unfinished last line, if any. A nil lineWriter has
// nothing to flush.
func (l *lineWriter) flush() error {
	if l == nil || len(l.pending) == 0 {
		return nil
	}
	_, err := l.Write([]byte{'\n'})
	return err
}
