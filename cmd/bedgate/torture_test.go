//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sys/unix"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/epr"
)

var (
	tortureKills = flag.Int("torture.kills", 5, "how many times TestKillTorture kills the gateway with SIGKILL")
	tortureSeed  = flag.Int64("torture.seed", 1, "seed of TestKillTorture's kill instants")
)

const (
	// rigGatewayID is the gateway id of the durability tests.
	rigGatewayID = "torture-gw"
	// monitorSpeed and monitorPeriod make each simulated monitor send one
	// reading per device second, five a second of real time.
	monitorSpeed  = 5
	monitorPeriod = 200 * time.Millisecond
	// inFlightWindow bounds how long before a gateway's death a reading
	// may have been written and still be lost: bytes in the serial line
	// and the driver, not yet in the outbox.
	inFlightWindow = 1500 * time.Millisecond
	// promptOpen bounds how long after a (re)start the gateway may take to
	// store its first reading from every bed.
	promptOpen = 3 * time.Second
)

// TestKillTorture kills "bedgate run" with SIGKILL at random instants while
// three simulated monitors send readings, restarting it each time on the
// same data directory, and checks what a persistent EPR subscriber got:
// sequence numbers without a gap, duplicates identical, and every reading
// delivered except those in flight at a kill or sent while no gateway had
// the port open. Run hundreds of kills with -torture.kills=N.
func TestKillTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("real-process durability test: skipped in -short mode")
	}
	r := newRig(t)
	rng := rand.New(rand.NewPCG(uint64(*tortureSeed), 0x70727475))
	t.Logf("%d kills, seed %d (-torture.kills, -torture.seed)", *tortureKills, *tortureSeed)

	run := r.startGateway()
	var exclusiveAfterKill int
	for i := range *tortureKills {
		time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(2200*time.Millisecond))))
		r.kill(run)
		if n := r.exclusivePTYs(); n > 0 {
			exclusiveAfterKill++
		}
		time.Sleep(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
		if t.Failed() {
			t.Fatalf("stopping after kill %d", i+1)
		}
		run = r.startGateway()
	}
	if *tortureKills > 0 {
		t.Logf("PTY slave left in exclusive mode (TIOCEXCL) after %d of %d kills: "+
			"a gateway not running as root could not reopen it while the simulator holds it", exclusiveAfterKill, *tortureKills)
	}
	r.waitFlowing(run.started, 10*time.Second)
	r.finish(run)
}

// TestOutage stops the broker for about three seconds while readings flow,
// and in a second case also restarts the gateway (SIGTERM, then a new
// process on the same data directory) during the outage. Everything the
// monitors sent must arrive, with no gap in the sequence numbers.
func TestOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("real-process durability test: skipped in -short mode")
	}
	for _, tc := range []struct {
		name           string
		restartGateway bool
	}{
		{"broker", false},
		{"broker and gateway", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			run := r.startGateway()
			r.waitFlowing(run.started, 10*time.Second)

			r.broker.Stop()
			down := time.Now()
			if tc.restartGateway {
				time.Sleep(time.Second)
				r.terminate(run, 10*time.Second)
				t.Logf("after a clean stop, %d of %d PTY slaves are left in exclusive mode (TIOCEXCL)", r.exclusivePTYs(), len(r.ptys))
				run = r.startGateway()
			}
			time.Sleep(time.Until(down.Add(3 * time.Second)))
			r.broker.Restart()
			up := time.Now()
			resumed := r.waitFlowing(up, 20*time.Second)
			t.Logf("broker down %v; first observation after the restart arrived %v after it",
				up.Sub(down).Round(time.Millisecond), resumed.Sub(up).Round(time.Millisecond))

			rep := r.finish(run)
			// Readings sent while the broker was down waited in the outbox
			// (across the gateway restart, in the second case).
			buffered := 0
			for _, w := range rep.deliveredWritten {
				if !w.Before(down) && w.Before(up) {
					buffered++
				}
			}
			if buffered == 0 {
				t.Error("no reading sent during the outage was delivered")
			}
			t.Logf("%d readings sent during the outage were delivered after it", buffered)
		})
	}
}

// rig is one durability test's world: a real mosquitto, one bedsim process
// with three Masimo monitors on PTYs, a persistent EPR subscriber, and the
// gateway processes run one after another on one data directory.
type rig struct {
	t               *testing.T
	bedgate, bedsim string
	broker          *brokertest.Broker
	epr             *collector
	dir             string
	config          string
	values          string
	beds            []string          // bed names
	ptys            map[string]string // bed name → PTY slave path
	sim             *exec.Cmd
	simStart        time.Time // when the monitors' clock started, about
	simStop         time.Time // when the monitors were told to stop
	runs            []*gatewayRun
	stops           []stopEvent // kills and clean stops before the last run
}

// gatewayRun is one "bedgate run" process.
type gatewayRun struct {
	cmd     *exec.Cmd
	log     *syncWriter
	started time.Time
	ended   time.Time
	exited  chan struct{}
	err     error // cmd.Wait's result, after exited is closed
}

// stopEvent is an instant a gateway died or was stopped before another
// took over.
type stopEvent struct {
	at   time.Time
	kind string // "SIGKILL" or "SIGTERM"
}

func newRig(t *testing.T) *rig {
	t.Helper()
	bedgateBin, bedsimBin := binaries(t)
	dir := t.TempDir()
	r := &rig{
		t: t, bedgate: bedgateBin, bedsim: bedsimBin,
		broker: brokertest.Start(t, ""),
		dir:    dir,
		config: filepath.Join(dir, "bedgate.yaml"),
		values: filepath.Join(dir, "values.jsonl"),
		beds:   []string{"bed1", "bed2", "bed3"},
		ptys:   map[string]string{},
	}
	r.epr = subscribePersistent(t, r.broker.URL(), "torture-epr")
	r.startMonitors()
	links := filepath.Join(dir, "ports")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "gateway:\n  id: %s\n  site: test\n  ward: w1\n  data_dir: %s\nmqtt:\n  broker: %s\n  plaintext: true\n  keepalive: 2s\n"+
		// Every reading waits association.grace for the admission feed; this
		// test is about delivery, so a short grace keeps restarts quick.
		"association:\n  grace: 1s\nbeds:\n",
		rigGatewayID, filepath.Join(dir, "data"), r.broker.URL())
	for _, b := range r.beds {
		fmt.Fprintf(&cfg, "  - name: %s\n    driver: masimo\n    port: %s\n", b, filepath.Join(links, b))
	}
	if err := os.WriteFile(r.config, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// startMonitors starts one bedsim process with a Masimo monitor per bed.
func (r *rig) startMonitors() {
	t := r.t
	t.Helper()
	args := []string{"--link", filepath.Join(r.dir, "ports"), "--values", r.values, "--seed", "11",
		"--serial", "9100000001", "--speed", strconv.Itoa(monitorSpeed), "--period", monitorPeriod.String()}
	for _, b := range r.beds {
		args = append(args, "masimo:"+b)
	}
	r.simStart = time.Now()
	sim, devices := startBedsim(t, r.bedsim, nil, len(r.beds), args...)
	r.sim = sim
	for _, d := range devices {
		if d.Kind != "masimo" {
			t.Fatalf("bedsim started %+v, want masimo monitors", d)
		}
		r.ptys[d.Name] = d.Path
	}

}

// startGateway starts "bedgate run" on the rig's configuration.
func (r *rig) startGateway() *gatewayRun {
	r.t.Helper()
	g := startRun(r.t, r.bedgate, r.config)
	r.runs = append(r.runs, g)
	return g
}

// startRun starts "bedgate run --config config", killed at the end of the
// test if still running.
func startRun(t *testing.T, bedgate, config string) *gatewayRun {
	t.Helper()
	g := &gatewayRun{log: &syncWriter{w: new(bytes.Buffer)}, exited: make(chan struct{})}
	g.cmd = exec.Command(bedgate, "run", "--config", config)
	g.cmd.Stderr = g.log
	g.started = time.Now()
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start bedgate: %v", err)
	}
	go func() {
		g.err = g.cmd.Wait()
		g.ended = time.Now()
		close(g.exited)
	}()
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		<-g.exited
	})
	return g
}

// alive reports an error when a gateway exited before the test stopped it.
func (r *rig) alive(g *gatewayRun) bool {
	select {
	case <-g.exited:
		r.t.Errorf("gateway run %d (started %v into the test) exited on its own: %v\n%s",
			slices.Index(r.runs, g)+1, g.started.Sub(r.simStart).Round(time.Millisecond), g.err, g.log.text())
		return false
	default:
		return true
	}
}

// kill kills g with SIGKILL and waits until it is gone.
func (r *rig) kill(g *gatewayRun) {
	if !r.alive(g) {
		return
	}
	at := time.Now()
	g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.exited
	r.stops = append(r.stops, stopEvent{at: at, kind: "SIGKILL"})
}

// terminate stops g with SIGTERM and expects a clean exit within d.
func (r *rig) terminate(g *gatewayRun, d time.Duration) {
	r.t.Helper()
	if !r.alive(g) {
		return
	}
	at := time.Now()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
		if g.err != nil {
			r.t.Errorf("gateway exited with %v after SIGTERM\n%s", g.err, g.log.text())
		}
	case <-time.After(d):
		r.t.Errorf("gateway did not stop within %v of SIGTERM\n%s", d, g.log.text())
		g.cmd.Process.Kill()
		<-g.exited
	}
	r.stops = append(r.stops, stopEvent{at: at, kind: "SIGTERM"})
}

// exclusivePTYs counts the monitors' PTY slaves left in exclusive mode
// (TIOCEXCL). As root we can still open them to ask.
func (r *rig) exclusivePTYs() int {
	n := 0
	for _, path := range r.ptys {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			r.t.Logf("open %s to query exclusive mode: %v", path, err)
			continue
		}
		if v, err := unix.IoctlGetInt(fd, unix.TIOCGEXCL); err == nil && v != 0 {
			n++
		}
		unix.Close(fd)
	}
	return n
}

// waitFlowing waits until every bed has delivered a reading written after
// since, and returns when the last of those first readings arrived.
func (r *rig) waitFlowing(since time.Time, within time.Duration) time.Time {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		last, ok := r.epr.firstArrivals(r.beds, func(o epr.Observation) bool {
			return !r.written(o.Time).Before(since)
		})
		if ok {
			return last
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("not every bed delivered a reading sent after %v within %v\ngateway log:\n%s",
				since.Sub(r.simStart).Round(time.Millisecond), within, r.runs[len(r.runs)-1].log.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// written returns about when the monitors wrote a reading stamped with
// device time d: their clock started at simStart and runs monitorSpeed
// times faster than real time. A reading is written within 1/monitorSpeed
// seconds after the instant returned.
func (r *rig) written(d time.Time) time.Time {
	return r.simStart.Add(d.Sub(r.simStart) / monitorSpeed)
}

// report is what finish found, for test-specific checks.
type report struct {
	// deliveredWritten is when each delivered reading was written.
	deliveredWritten []time.Time
}

// finish stops the monitors, lets the last gateway drain, stops it with
// SIGTERM and checks everything the subscriber received against what the
// monitors logged.
func (r *rig) finish(last *gatewayRun) report {
	t := r.t
	t.Helper()
	r.simStop = time.Now()
	stopProcess(t, r.sim, 5*time.Second)
	r.epr.waitQuiet(1500*time.Millisecond, 15*time.Second)
	before := len(r.stops)
	r.terminate(last, 10*time.Second)
	r.stops = r.stops[:before] // the final stop comes after the drain
	if n, ok := stoppedOutboxEntries(last.log.text()); !ok {
		t.Errorf("the last gateway logged no \"gateway stopped\" line\n%s", last.log.text())
	} else if n != 0 {
		t.Errorf("the last gateway stopped with %d entries still in its outbox after draining", n)
	}
	r.checkPrompt()

	meant := readValues(t, r.values)
	got := r.epr
	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.errs) > 0 {
		t.Errorf("EPR rejected %d messages, first: %s", len(got.errs), got.errs[0])
	}

	// (a) Sequence numbers: contiguous from 1.
	var maxSeq uint64
	for s := range got.seqs {
		maxSeq = max(maxSeq, s)
	}
	var gaps []uint64
	for s := uint64(1); s <= maxSeq; s++ {
		if _, ok := got.seqs[s]; !ok {
			gaps = append(gaps, s)
		}
	}
	if len(gaps) > 0 {
		t.Errorf("sequence numbers 1..%d: %d missing, first %v", maxSeq, len(gaps), gaps[:min(len(gaps), 10)])
	}
	if maxSeq == 0 {
		t.Fatal("no observation received")
	}

	// (b) Duplicates: same identifier, same content. A re-delivery from
	// the outbox repeats the sequence number too; a reading being moved
	// from the association hold (gateway/holdfile) to the outbox when the
	// gateway was killed is stored again at the next start, under a new
	// sequence number (README, Delivery guarantees): counted apart.
	dupIDs, dupMsgs, restored := 0, 0, map[uint64]bool{}
	for id, ds := range got.byID {
		if len(ds) < 2 {
			continue
		}
		dupIDs++
		dupMsgs += len(ds) - 1
		for _, d := range ds[1:] {
			if !sameObservation(d.obs, ds[0].obs) || d.bed != ds[0].bed {
				t.Errorf("observation %s delivered twice with different content:\n  %+v on %s\n  %+v on %s", id, ds[0].obs, ds[0].bed, d.obs, d.bed)
			}
			if d.obs.Seq != ds[0].obs.Seq {
				restored[d.obs.Seq] = true
			}
		}
	}
	if len(restored) > len(r.stops)*len(r.beds) {
		t.Errorf("%d messages repeat readings under a new sequence number; at most one a bed per kill is expected (a reading leaving the hold at the kill)", len(restored))
	}

	// (c) Every reading logged is delivered, but for those lost at a stop.
	var rep report
	delivered := map[string][]time.Time{} // serial → when its delivered readings were written
	known := map[string]bool{}
	type pending struct {
		serial  string
		written time.Time
	}
	var missing []pending
	for _, m := range meant {
		ids := forwardedIDs(rigGatewayID, m)
		n := 0
		for _, id := range ids {
			known[id] = true
			if len(got.byID[id]) > 0 {
				n++
			}
		}
		w := r.written(m.DeviceTime)
		switch {
		case len(ids) == 0:
			t.Errorf("reading of %s at %s has no forwarded value", m.Device.Serial, m.DeviceTime.Format(time.TimeOnly))
		case n == len(ids):
			delivered[m.Device.Serial] = append(delivered[m.Device.Serial], w)
			rep.deliveredWritten = append(rep.deliveredWritten, w)
			checkDelivered(t, rigGatewayID, m, got.byID)
		case n == 0:
			missing = append(missing, pending{m.Device.Serial, w})
		default:
			t.Errorf("reading of %s at %s: %d of its %d observations arrived; a reading travels in one message", m.Device.Serial, m.DeviceTime.Format(time.TimeOnly), n, len(ids))
		}
	}
	unknown := 0
	for id := range got.byID {
		if !known[id] {
			unknown++
		}
	}
	if unknown > 0 {
		t.Errorf("%d observations received that no monitor sent", unknown)
	}
	if len(delivered) != len(r.beds) {
		t.Fatalf("readings arrived from %d monitors, want %d", len(delivered), len(r.beds))
	}
	for _, ws := range delivered {
		slices.SortFunc(ws, func(a, b time.Time) int { return a.Compare(b) })
	}

	// How long after each stop the next delivered reading of each monitor
	// was sent: the time nobody read its line.
	var maxDown time.Duration
	for _, s := range r.stops {
		for _, ws := range delivered {
			if next := nextWritten(ws, s.at); next < len(ws) {
				maxDown = max(maxDown, ws[next].Sub(s.at))
			}
		}
	}
	beforeFirst, whileDown, inFlight, unexplained := 0, 0, 0, 0
	var maxGap time.Duration
	lostAt := make([]int, len(r.stops))
	for _, m := range missing {
		ws := delivered[m.serial]
		if m.written.Before(ws[0]) && (len(r.stops) == 0 || m.written.Before(r.stops[0].at)) {
			beforeFirst++ // sent before the first gateway read this port
			continue
		}
		// Sent between a stop and the next reading any gateway delivered
		// from this monitor: nobody was reading the line.
		down := slices.ContainsFunc(r.stops, func(s stopEvent) bool {
			next := nextWritten(ws, s.at)
			return !m.written.Before(s.at) && (next == len(ws) || m.written.Before(ws[next]))
		})
		if down {
			whileDown++
			continue
		}
		// Otherwise it must have been in flight at the next stop.
		i := slices.IndexFunc(r.stops, func(s stopEvent) bool { return s.at.After(m.written) })
		if i >= 0 && r.stops[i].at.Sub(m.written) <= inFlightWindow {
			inFlight++
			lostAt[i]++
			maxGap = max(maxGap, r.stops[i].at.Sub(m.written))
			continue
		}
		unexplained++
		if unexplained <= 10 {
			where := "after the last stop"
			if i >= 0 {
				where = fmt.Sprintf("%v before %s #%d", r.stops[i].at.Sub(m.written).Round(time.Millisecond), r.stops[i].kind, i+1)
			}
			t.Errorf("reading of %s sent %v into the test was never delivered (%s)", m.serial, m.written.Sub(r.simStart).Round(time.Millisecond), where)
		}
	}
	if unexplained > 10 {
		t.Errorf("... %d readings lost in all that no stop explains", unexplained)
	}
	for i, s := range r.stops {
		if lostAt[i] > 0 && s.kind == "SIGTERM" {
			t.Logf("%d readings lost at a clean stop (SIGTERM #%d)", lostAt[i], i+1)
		}
	}
	t.Logf("%d readings sent, %d delivered, %d messages, seqs 1..%d without gap: %v; %d observations delivered more than once (%d extra copies, all identical: %v; %d messages stored again from the hold)",
		len(meant), len(rep.deliveredWritten), got.messages, maxSeq, len(gaps) == 0, dupIDs, dupMsgs, !t.Failed(), len(restored))
	t.Logf("lost: %d in flight at a stop (max %v before it; bound %v), %d sent while no gateway read the line (longest gap %v), %d before the first gateway, %d unexplained",
		inFlight, maxGap.Round(time.Millisecond), inFlightWindow, whileDown, maxDown.Round(time.Millisecond), beforeFirst, unexplained)
	return rep
}

// nextWritten returns the index of the first time in sorted ws not before at.
func nextWritten(ws []time.Time, at time.Time) int {
	i, _ := slices.BinarySearchFunc(ws, at, func(a, b time.Time) int { return a.Compare(b) })
	return i
}

// checkPrompt checks that each gateway run that lived long enough stored a
// reading from every bed within promptOpen of its start, using the device
// status the gateway publishes ("connected", with its time), and reports
// the port and outbox problems the runs logged.
func (r *rig) checkPrompt() {
	t := r.t
	t.Helper()
	var slowest time.Duration
	measured := 0
	for i, g := range r.runs {
		for _, line := range strings.Split(g.log.text(), "\n") {
			var rec struct {
				Time time.Time `json:"time"`
				Msg  string    `json:"msg"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil || !rec.Time.Before(r.simStop) {
				continue // the monitors' ports vanish when they stop
			}
			if strings.Contains(rec.Msg, "cannot open port") || strings.Contains(line, "outbox") && strings.Contains(line, `"level":"ERROR"`) {
				t.Logf("gateway run %d: %s", i+1, line)
			}
		}
		for _, bed := range r.beds {
			at, ok := r.epr.connectedSince(bed, g.started, g.ended)
			switch {
			case ok:
				measured++
				slowest = max(slowest, at.Sub(g.started))
				if at.Sub(g.started) > promptOpen {
					t.Errorf("gateway run %d: first reading from %s stored %v after the start; want under %v\n%s", i+1, bed, at.Sub(g.started).Round(time.Millisecond), promptOpen, g.log.text())
				}
			case g.ended.Sub(g.started) > promptOpen+time.Second:
				t.Errorf("gateway run %d lived %v but never reported %s connected\n%s", i+1, g.ended.Sub(g.started).Round(time.Millisecond), bed, g.log.text())
			}
		}
	}
	t.Logf("%d gateway runs; slowest first stored reading after a (re)start: %v (%d bed-runs measured)", len(r.runs), slowest.Round(time.Millisecond), measured)
}

// stoppedOutboxEntries reads outbox_entries from the gateway's "gateway
// stopped" log line.
func stoppedOutboxEntries(log string) (int, bool) {
	for _, line := range strings.Split(log, "\n") {
		var rec struct {
			Msg     string `json:"msg"`
			Entries *int   `json:"outbox_entries"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gateway stopped" && rec.Entries != nil {
			return *rec.Entries, true
		}
	}
	return 0, false
}

// forwardedIDs returns the identifiers of the observations gateway gw
// makes of reading m: every value but the parameters the device does not
// measure (dashes without a flag, other than SpO2 and pulse rate).
func forwardedIDs(gw string, m drivers.Reading) []string {
	var ids []string
	for _, v := range m.Values {
		if v.Value == nil && v.Status == drivers.Unavailable && v.MDC != mdc.SpO2 && v.MDC != mdc.PulsOximPulse {
			continue
		}
		ids = append(ids, gateway.ObservationID(gw, "masimo:"+m.Device.Serial, gateway.CodeKey(v.MDC, v.Label), m.DeviceTime))
	}
	return ids
}

// checkDelivered compares the first copy of each of m's observations with
// the value the monitor meant.
func checkDelivered(t *testing.T, gw string, m drivers.Reading, byID map[string][]delivery) {
	t.Helper()
	for _, v := range m.Values {
		ds := byID[gateway.ObservationID(gw, "masimo:"+m.Device.Serial, gateway.CodeKey(v.MDC, v.Label), m.DeviceTime)]
		if len(ds) == 0 {
			continue
		}
		o := ds[0].obs
		valid := v.Value != nil && v.Status&(drivers.Invalid|drivers.SensorOff|drivers.Unavailable) == 0
		switch {
		case o.MDC != v.MDC || !o.Time.Equal(m.DeviceTime):
			t.Errorf("%s: got MDC %d at %s, want %d at %s", o.ID, o.MDC, o.Time, v.MDC, m.DeviceTime)
		case valid && (o.Value == nil || *o.Value != *v.Value || o.Unit != v.Unit):
			t.Errorf("%s %s: EPR got %v %q, want %v %q", m.Device.Serial, v.Ref, o.Value, o.Unit, *v.Value, v.Unit)
		case !valid && (o.Value != nil || o.Absent == ""):
			t.Errorf("%s %s: device sent no valid value but the EPR got value %v absent %q", m.Device.Serial, v.Ref, o.Value, o.Absent)
		}
	}
}

func sameObservation(a, b epr.Observation) bool {
	sameValue := (a.Value == nil) == (b.Value == nil) && (a.Value == nil || *a.Value == *b.Value)
	return sameValue && a.ID == b.ID && a.MDC == b.MDC && a.Ref == b.Ref &&
		a.Display == b.Display && a.Unit == b.Unit && a.Absent == b.Absent && a.Time.Equal(b.Time) && a.Flagged == b.Flagged
}

// delivery is one observation as the subscriber received it.
type delivery struct {
	obs epr.Observation
	bed string
	at  time.Time
}

// deviceState is one device status message received.
type deviceState struct {
	bed   string
	state string
	since time.Time
}

// collector is an EPR subscriber with a persistent session.
type collector struct {
	mu       sync.Mutex
	byID     map[string][]delivery
	seqs     map[uint64]string // seq → the observation ids of its message
	contexts epr.Contexts      // what the context Bundles created, per topic
	messages int
	states   []deviceState
	errs     []string
	lastMsg  time.Time
}

// subscribePersistent subscribes to every observation and device topic
// with QoS 1 on a persistent session (clean session off, fixed client id),
// so that nothing published while it is disconnected is lost.
func subscribePersistent(t *testing.T, broker, clientID string) *collector {
	t.Helper()
	c := &collector{byID: map[string][]delivery{}, seqs: map[uint64]string{}}
	handle := func(_ pahomqtt.Client, m pahomqtt.Message) {
		now := time.Now()
		c.mu.Lock()
		defer c.mu.Unlock()
		if strings.HasSuffix(m.Topic(), "/device") {
			var st gateway.DeviceStatus
			if err := json.Unmarshal(m.Payload(), &st); err != nil {
				c.errs = append(c.errs, "device status: "+err.Error())
				return
			}
			c.states = append(c.states, deviceState{bed: epr.BedOf(strings.TrimSuffix(m.Topic(), "/device") + "/obs"), state: st.State, since: st.Since})
			return
		}
		msg, err := epr.ParseMessage(m.Payload())
		switch {
		case err != nil:
			c.errs = append(c.errs, err.Error())
			return
		case msg.Seq == 0 || len(msg.Observations) == 0 && !msg.IsContext():
			c.errs = append(c.errs, "message without observations or sequence number on "+m.Topic())
			return
		}
		// Every reference must resolve to a context published before it
		// on the topic, across kills and restarts.
		if unresolved := c.contexts.Add(m.Topic(), msg); len(unresolved) > 0 {
			c.errs = append(c.errs, fmt.Sprintf("message %d on %s refers to %q, which no context Bundle published before it created", msg.Seq, m.Topic(), unresolved))
		}
		c.messages++
		c.lastMsg = now
		obs := msg.Observations
		content := "context " + strings.Join(msg.Creates, " ")
		if !msg.IsContext() {
			ids := make([]string, len(obs))
			for i, o := range obs {
				ids[i] = o.ID
			}
			content = strings.Join(ids, " ")
		}
		if prev, seen := c.seqs[msg.Seq]; seen && prev != content {
			c.errs = append(c.errs, fmt.Sprintf("sequence number %d reused: first for [%s], now for [%s]", msg.Seq, prev, content))
		}
		c.seqs[msg.Seq] = content
		for _, o := range obs {
			c.byID[o.ID] = append(c.byID[o.ID], delivery{obs: o, bed: epr.BedOf(m.Topic()), at: now})
		}
	}
	filters := map[string]byte{"bedgate/v1/+/+/+/obs": 1, "bedgate/v1/+/+/+/device": 1}
	opts := pahomqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).
		SetCleanSession(false).SetOrderMatters(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(250 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(250 * time.Millisecond).
		SetDefaultPublishHandler(handle)
	client := pahomqtt.NewClient(opts)
	if tok := client.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscriber: connect: %v", tok.Error())
	}
	if tok := client.SubscribeMultiple(filters, handle); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscriber: subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { client.Disconnect(100) })
	return c
}

// firstArrivals reports whether every bed has delivered a reading that
// matches, and when the last of the beds' first such readings arrived.
func (c *collector) firstArrivals(beds []string, match func(epr.Observation) bool) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := map[string]time.Time{}
	for _, ds := range c.byID {
		d := ds[0]
		if !match(d.obs) {
			continue
		}
		if f, ok := first[d.bed]; !ok || d.at.Before(f) {
			first[d.bed] = d.at
		}
	}
	var last time.Time
	for _, b := range beds {
		f, ok := first[b]
		if !ok {
			return time.Time{}, false
		}
		if f.After(last) {
			last = f
		}
	}
	return last, true
}

// connectedSince returns the earliest "connected" state of bed reported
// with a time within [from, to).
func (c *collector) connectedSince(bed string, from, to time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, s := range c.states {
		if s.bed != bed || s.state != "connected" || s.since.Before(from) || !s.since.Before(to) {
			continue
		}
		if first.IsZero() || s.since.Before(first) {
			first = s.since
		}
	}
	return first, !first.IsZero()
}

// waitQuiet waits until no message has arrived for quiet, at most within.
func (c *collector) waitQuiet(quiet, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		last := c.lastMsg
		c.mu.Unlock()
		if time.Since(last) >= quiet {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
