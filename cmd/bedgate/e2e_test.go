package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/epr"
)

// buildBinaries builds bedgate and bedsim once per test binary run.
var buildOnce struct {
	sync.Once
	dir string
	err error
}

func binaries(t testing.TB) (bedgate, bedsim string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bedgate-e2e-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.dir = dir
		for _, name := range []string{"bedgate", "bedsim"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "github.com/bedgate/bedgate/cmd/"+name).CombinedOutput()
			if err != nil {
				buildOnce.err = fmt.Errorf("go build %s: %v\n%s", name, err, out)
				return
			}
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return filepath.Join(buildOnce.dir, "bedgate"), filepath.Join(buildOnce.dir, "bedsim")
}

func TestMain(m *testing.M) {
	if broker := os.Getenv(passthroughEnv); broker != "" {
		os.Exit(passthrough(broker, os.Args[1:]))
	}
	if dir := os.Getenv(idleOutboxEnv); dir != "" {
		os.Exit(idleOutbox(dir))
	}
	code := m.Run()
	if buildOnce.dir != "" {
		os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

// received collects what an EPR subscriber receives.
type received struct {
	mu   sync.Mutex
	byID map[string][]epr.Observation
	bed  map[string]string
	errs []string
}

func subscribeEPR(t *testing.T, broker string) *received {
	t.Helper()
	r := &received{byID: map[string][]epr.Observation{}, bed: map[string]string{}}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker).SetClientID("e2e-epr").
		SetCleanSession(true).SetOrderMatters(true))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscriber: connect: %v", tok.Error())
	}
	tok := c.Subscribe("bedgate/v1/+/+/+/obs", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		obs, err := epr.Parse(m.Payload())
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err.Error())
			return
		}
		for _, o := range obs {
			r.byID[o.ID] = append(r.byID[o.ID], o)
			r.bed[o.ID] = epr.BedOf(m.Topic())
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscriber: subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return r
}

func (r *received) absentCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, obs := range r.byID {
		if obs[0].Absent != "" {
			n++
		}
	}
	return n
}

// waitDelivered waits, up to within, until the EPR has received every value
// of meant that the gateway forwards: from each device's first reading that
// arrived on (the serial line drops what a monitor sends before the gateway
// opens its port), less those unmeasured says are not forwarded. id names a
// value's observation. It returns without failing at the deadline: the
// checks that follow say what is missing.
func (r *received) waitDelivered(within time.Duration, meant []drivers.Reading, id func(drivers.Reading, drivers.Value) string, unmeasured func(drivers.Value) bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && r.missing(meant, id, unmeasured) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
}

// missing counts the values waitDelivered waits for that have not arrived,
// or returns 1 when none of a device's values has arrived yet.
func (r *received) missing(meant []drivers.Reading, id func(drivers.Reading, drivers.Value) string, unmeasured func(drivers.Value) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	first := map[string]time.Time{}
	for _, m := range meant {
		for _, v := range m.Values {
			if f, seen := first[m.Device.Serial]; len(r.byID[id(m, v)]) > 0 && (!seen || m.DeviceTime.Before(f)) {
				first[m.Device.Serial] = m.DeviceTime
			}
		}
	}
	n := 0
	for _, m := range meant {
		f, seen := first[m.Device.Serial]
		if !seen {
			return 1
		}
		for _, v := range m.Values {
			if !m.DeviceTime.Before(f) && !unmeasured(v) && len(r.byID[id(m, v)]) == 0 {
				n++
			}
		}
	}
	return n
}

// waitFor waits, up to within, until cond holds, and fails the test
// naming what it waited for, with log's text.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool, log func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v\n%s", what, within, log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// startProcess starts a command whose output goes to a file kept for the
// failure message; it is killed when the test ends.
func startProcess(t *testing.T, name string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(name, args...)
	stderr, _ := startCommand(t, cmd)
	return cmd, stderr.w
}

// startCommand starts cmd with its standard error kept; stop kills it and
// waits for it, at the latest when the test or benchmark ends.
func startCommand(tb testing.TB, cmd *exec.Cmd) (stderr *syncWriter, stop func()) {
	tb.Helper()
	stderr = &syncWriter{w: &bytes.Buffer{}}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", cmd.Path, err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	tb.Cleanup(stop)
	return stderr, stop
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func stopProcess(t *testing.T, cmd *exec.Cmd, within time.Duration) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM", filepath.Base(cmd.Path), err)
		}
	case <-time.After(within):
		t.Errorf("%s did not stop within %v of SIGTERM", filepath.Base(cmd.Path), within)
	}
}

// bedsimDevice is one device line bedsim prints: its kind, its name and
// the path of its terminal.
type bedsimDevice struct{ Kind, Name, Path string }

// startBedsim starts bedsim with args (env is added to its environment),
// reads the n device lines it prints first, checks their form, and keeps
// draining its output. bedsim is killed at the end of the test.
func startBedsim(t *testing.T, bin string, env []string, n int, args ...string) (*exec.Cmd, []bedsimDevice) {
	t.Helper()
	sim := exec.Command(bin, args...)
	sim.Env = append(os.Environ(), env...)
	out, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncWriter{w: new(bytes.Buffer)}
	sim.Stderr = stderr
	if err := sim.Start(); err != nil {
		t.Fatalf("start bedsim: %v", err)
	}
	t.Cleanup(func() { sim.Process.Kill(); sim.Wait() })
	lines := bufio.NewScanner(out)
	devices := make([]bedsimDevice, 0, n)
	for range n {
		if !lines.Scan() {
			t.Fatalf("bedsim printed %d of %d device lines: %s", len(devices), n, stderr.text())
		}
		f := strings.Fields(lines.Text())
		if len(f) != 3 || !strings.HasPrefix(f[2], "/dev/") {
			t.Fatalf("bedsim line %q: want \"KIND NAME /dev/...\"", lines.Text())
		}
		devices = append(devices, bedsimDevice{Kind: f[0], Name: f[1], Path: f[2]})
	}
	go func() {
		for lines.Scan() {
		}
	}()
	return sim, devices
}

// TestEndToEnd runs bedsim (Masimo on a PTY) → bedgate run (its own process)
// → a real mosquitto → an EPR subscriber, and checks that every value the
// simulators meant arrives exactly once with the right code, unit and value.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bedgateBin, bedsimBin := binaries(t)
	broker := brokertest.Start(t, "")
	got := subscribeEPR(t, broker.URL())

	dir := t.TempDir()
	links := filepath.Join(dir, "ports")
	valuesFile := filepath.Join(dir, "values.jsonl")

	// Two simulated monitors on PTYs linked under dir/ports, each its own
	// bedsim process: bed1 stable, bed2 with its sensor coming off.
	var sims []*exec.Cmd
	startSim := func(name, scenario, serial string, extra ...string) {
		args := append([]string{"--link", links, "--values", valuesFile + "." + name, "--seed", "7",
			"--scenario", scenario, "--serial", serial}, extra...)
		sim, devices := startBedsim(t, bedsimBin, nil, 1, append(args, "masimo:"+name)...)
		if d := devices[0]; d.Kind != "masimo" || d.Name != name {
			t.Fatalf("bedsim started %+v, want masimo %s", d, name)
		}
		sims = append(sims, sim)
	}
	startSim("bed1", "stable", "9000000001")
	// bed2's clock runs 30 times faster, four readings a second, so that its
	// sensor comes off (30-70 s into the scenario) within seconds.
	startSim("bed2", "sensor-off", "9000000101", "--speed", "30", "--period", "250ms")

	cfgPath := filepath.Join(dir, "bedgate.yaml")
	cfg := fmt.Sprintf(`gateway:
  id: e2e-gw
  site: test
  ward: w1
  data_dir: %s
mqtt:
  broker: %s
  plaintext: true
association:
  grace: 1s
beds:
  - name: bed1
    driver: masimo
    port: %s
  - name: bed2
    driver: masimo
    port: %s
`, filepath.Join(dir, "data"), broker.URL(), filepath.Join(links, "bed1"), filepath.Join(links, "bed2"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw, gwLog := startProcess(t, bedgateBin, "run", "--config", cfgPath)

	// Let readings flow for a while.
	deadline := time.Now().Add(30 * time.Second)
	for (got.count() < 2*2*6 || got.absentCount() == 0) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	// Stop the monitors first, give the gateway time to forward what it
	// read, then stop the gateway.
	for _, sim := range sims {
		stopProcess(t, sim, 5*time.Second)
	}
	meant := append(readValues(t, valuesFile+".bed1"), readValues(t, valuesFile+".bed2")...)
	obsID := func(m drivers.Reading, v drivers.Value) string {
		return gateway.ObservationID("e2e-gw", "masimo:"+m.Device.Serial, gateway.CodeKey(v.MDC, v.Label), m.DeviceTime)
	}
	// A parameter listed with dashes and no flag that is not a vital sign
	// (SpCO, PVI, ... on a SET-only sensor) is not measured by the device:
	// it must not become an observation.
	notMeasured := func(v drivers.Value) bool {
		return v.Value == nil && v.Status == drivers.Unavailable && v.MDC != mdc.SpO2 && v.MDC != mdc.PulsOximPulse
	}
	got.waitDelivered(10*time.Second, meant, obsID, notMeasured)
	stopProcess(t, gw, 10*time.Second)

	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.errs) > 0 {
		t.Errorf("EPR could not read %d messages, first: %s", len(got.errs), got.errs[0])
	}
	// The serial line drops what a monitor sends before the gateway opens
	// its port, as a real one does: compare from the first reading of each
	// device that arrived.
	first := map[string]time.Time{}
	for _, m := range meant {
		for _, v := range m.Values {
			if _, ok := got.byID[obsID(m, v)]; ok {
				if f, seen := first[m.Device.Serial]; !seen || m.DeviceTime.Before(f) {
					first[m.Device.Serial] = m.DeviceTime
				}
			}
		}
	}
	if len(first) != 2 {
		t.Fatalf("observations arrived from %d devices, want 2\ngateway log:\n%s", len(first), gwLog)
	}
	checked, absent, unmeasured := 0, 0, 0
	for _, m := range meant {
		if m.DeviceTime.Before(first[m.Device.Serial]) {
			continue
		}
		for _, v := range m.Values {
			id := obsID(m, v)
			obs := got.byID[id]
			if notMeasured(v) {
				if len(obs) != 0 {
					t.Errorf("%s %s%s: unmeasured parameter arrived as an observation", m.Device.Serial, v.Ref, v.Label)
				}
				unmeasured++
				continue
			}
			if len(obs) != 1 {
				t.Errorf("%s %s at %s (MDC %d): arrived %d times, want exactly once", m.Device.Serial, v.Ref, m.DeviceTime.Format(time.TimeOnly), v.MDC, len(obs))
				continue
			}
			o := obs[0]
			checked++
			if o.MDC != v.MDC || !o.Time.Equal(m.DeviceTime) {
				t.Errorf("%s: got MDC %d at %s, want %d at %s", id, o.MDC, o.Time, v.MDC, m.DeviceTime)
			}
			switch {
			case v.Value == nil || v.Status&(drivers.Invalid|drivers.SensorOff|drivers.Unavailable) != 0:
				absent++
				if o.Value != nil || o.Absent == "" {
					t.Errorf("%s %s: device sent no valid value (status %s) but the EPR got value %v absent %q", m.Device.Serial, v.Ref, v.Status, o.Value, o.Absent)
				}
			default:
				if o.Value == nil || *o.Value != *v.Value || o.Unit != v.Unit {
					t.Errorf("%s %s: EPR got %v %q, want %v %q", m.Device.Serial, v.Ref, o.Value, o.Unit, *v.Value, v.Unit)
				}
			}
		}
	}
	if absent == 0 {
		t.Error("no absent value was checked: the sensor-off monitor should send some")
	}
	if checked < 2*2*5 {
		t.Errorf("only %d observations checked; want at least 20\ngateway log:\n%s", checked, gwLog)
	}
	t.Logf("checked %d observations (%d absent values; %d unmeasured parameters not forwarded) from %d readings meant; %d distinct ids received", checked, absent, unmeasured, len(meant), len(got.byID))
}

func readValues(t *testing.T, path string) []drivers.Reading {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("values file: %v", err)
	}
	defer f.Close()
	var out []drivers.Reading
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r drivers.Reading
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("values file line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatal("values file is empty")
	}
	return out
}
