package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
	"go.bug.st/serial"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/simulators/pty"
)

// The ward benchmark: N Masimo monitors on pseudo-terminals sending R lines
// a second, read by `bedgate run` (parsing, validation, FHIR, a synced
// outbox, paho QoS 1), by the bare pass-through a hospital could build
// itself (read a line, publish it with paho QoS 1: no parsing, no storage)
// or by the durable pass-through (the bare one storing each line in the
// gateway's synced outbox and publishing it from there: what durability
// alone costs, the floor under the gateway's figures), each a process of
// its own publishing to a real mosquitto, one after the other in the same
// run. It reports for each, and as ratios (cpu-ratio and p99-ratio: the
// gateway to the bare; durable-cpu-ratio: the durable to the bare):
//
//   - cpu-ms/1k: the process's CPU time (user and system) per 1000 lines
//     written during the measured window;
//   - p50-ms, p99-ms: from the monitor writing a line to an MQTT subscriber
//     receiving the message made of it;
//   - rss-MB: the process's peak resident memory;
//   - idle-%/bed (1 Hz loads): CPU per bed, as a percentage of one core,
//     while every monitor is silent (over 12 s, so it includes a silence
//     timeout), from when the outbox has closed its storage engine for
//     idleness (buffer.Options.CloseIdleAfter); beside it outbox-idle-%: a
//     process holding nothing but an idle outbox (the buffer's options),
//     for the whole process (not per bed), as a percentage of one core,
//     measured the same way just before the gateway runs.
//
// A monitor's clock advances one second per line, so that at any rate every
// line has a distinct device time (ASCII 1 prints whole seconds); the
// gateway's clock-offset check is widened for it.

const wardIdle = 12 * time.Second // the measured window without data

// window is the measured window under load: long enough for about 2,000
// lines (a process's CPU time is read in 10 ms ticks, and the bare
// pass-through spends about 0.1 ms a line), from 8 s to 30 s.
func (l wardLoad) window() time.Duration {
	return min(max(2000*time.Second/time.Duration(l.beds*l.hz), 8*time.Second), 30*time.Second)
}

// wardLoad is a number of beds and the lines a second each monitor sends.
type wardLoad struct{ beds, hz int }

func (l wardLoad) String() string { return fmt.Sprintf("%dbeds-%dHz", l.beds, l.hz) }

// wardResult is what one process did under one load.
type wardResult struct {
	cpuPer1k  float64 // CPU milliseconds per 1000 lines written
	p50, p99  time.Duration
	rssMB     float64
	idlePct   float64 // per bed, % of one core, at 1 Hz loads
	written   int     // lines written in the window
	delivered int     // of those, how many reached the subscriber
}

func BenchmarkWard(b *testing.B) {
	bedgateBin, _ := binaries(b)
	for _, load := range []wardLoad{{8, 1}, {64, 1}, {8, 20}, {64, 50}} {
		b.Run(load.String(), func(b *testing.B) {
			var gw, bare, durable wardResult
			var floor float64
			for range b.N {
				bare = runWard(b, load, passthroughCommand)
				durable = runWard(b, load, durableCommand)
				if load.hz == 1 {
					floor = idleOutboxCPU(b)
				}
				gw = runWard(b, load, gatewayCommand(bedgateBin))
			}
			if load.hz == 1 {
				b.ReportMetric(floor, "outbox-idle-%")
			}
			report := func(name string, r wardResult) {
				if load.hz == 1 {
					b.ReportMetric(r.idlePct, name+"-idle-%/bed")
				}
				b.ReportMetric(r.cpuPer1k, name+"-cpu-ms/1k")
				b.ReportMetric(float64(r.p50.Microseconds())/1000, name+"-p50-ms")
				b.ReportMetric(float64(r.p99.Microseconds())/1000, name+"-p99-ms")
				b.ReportMetric(r.rssMB, name+"-rss-MB")
			}
			report("gateway", gw)
			report("bare", bare)
			report("durable", durable)
			b.ReportMetric(gw.cpuPer1k/bare.cpuPer1k, "cpu-ratio")
			b.ReportMetric(float64(gw.p99)/float64(bare.p99), "p99-ratio")
			b.ReportMetric(durable.cpuPer1k/bare.cpuPer1k, "durable-cpu-ratio")
			b.Logf("%v: gateway delivered %d of %d lines, bare %d of %d, durable %d of %d", load,
				gw.delivered, gw.written, bare.delivered, bare.written, durable.delivered, durable.written)
		})
	}
}

// wardCommand starts the process under test reading ports and publishing
// to broker; obsTopic is the topic filter of what it publishes, outbox the
// directory of its outbox (empty when it has none).
type wardCommand func(b *testing.B, broker string, ports []string) (cmd *exec.Cmd, obsTopic, outbox string)

func gatewayCommand(bin string) wardCommand {
	return func(b *testing.B, broker string, ports []string) (*exec.Cmd, string, string) {
		dir := b.TempDir()
		var beds strings.Builder
		for i, p := range ports {
			fmt.Fprintf(&beds, "  - name: %s\n    driver: masimo\n    port: %s\n", wardBed(i), p)
		}
		cfg := fmt.Sprintf(`gateway:
  id: ward-gw
  site: bench
  ward: w
  data_dir: %s
  device_timezone: UTC
mqtt:
  broker: %s
  plaintext: true
validation:
  max_clock_offset: 24h
beds:
%s`, filepath.Join(dir, "data"), broker, beds.String())
		path := filepath.Join(dir, "bedgate.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			b.Fatal(err)
		}
		return exec.Command(bin, "run", "--config", path), "bedgate/v1/bench/w/+/obs", filepath.Join(dir, "data", "outbox")
	}
}

func passthroughCommand(b *testing.B, broker string, ports []string) (*exec.Cmd, string, string) {
	cmd := exec.Command(os.Args[0], ports...)
	cmd.Env = append(os.Environ(), passthroughEnv+"="+broker)
	return cmd, "pass/+", ""
}

// durableCommand starts the durable pass-through: the bare pass-through
// with the gateway's outbox between the port and the broker.
func durableCommand(b *testing.B, broker string, ports []string) (*exec.Cmd, string, string) {
	dir := filepath.Join(b.TempDir(), "outbox")
	cmd := exec.Command(os.Args[0], ports...)
	cmd.Env = append(os.Environ(), passthroughEnv+"="+broker, durableEnv+"="+dir)
	return cmd, "pass/+", dir
}

// passthroughEnv, when set to a broker URL, makes the test binary the bare
// pass-through of the ward benchmark (see TestMain).
const passthroughEnv = "BEDGATE_WARD_PASSTHROUGH"

// durableEnv, when set with passthroughEnv to a directory, makes the
// pass-through durable: it stores each line in an outbox there (synced)
// and publishes it from the outbox (see passthrough).
const durableEnv = "BEDGATE_WARD_DURABLE"

// idleOutboxEnv, when set to a directory, makes the test binary a process
// that opens an outbox there and does nothing else (see TestMain).
const idleOutboxEnv = "BEDGATE_WARD_IDLE_OUTBOX"

// idleOutbox opens an outbox in dir and waits to be killed.
func idleOutbox(dir string) int {
	out, err := buffer.Open(dir, buffer.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle outbox:", err)
		return 1
	}
	defer out.Close()
	select {}
}

// idleOutboxCPU runs an idle outbox process and returns its CPU, as a
// percentage of one core, as idleCPU measures it.
func idleOutboxCPU(b *testing.B) float64 {
	dir := b.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), idleOutboxEnv+"="+dir)
	stderr, stop := startCommand(b, cmd)
	defer stop()
	pct := idleCPU(b, cmd.Process.Pid, dir)
	if text := stderr.text(); strings.Contains(text, "idle outbox:") {
		b.Fatal(text)
	}
	return pct
}

// idleCPU returns process pid's CPU, as a percentage of one core, over
// wardIdle, once its start-up (opening its ports or its outbox, connecting
// to the broker) is over and its outbox, if it has one (the directory
// outbox), has closed its storage engine for idleness
// (buffer.Options.CloseIdleAfter): the steady state of a gateway without
// data.
func idleCPU(b *testing.B, pid int, outbox string) float64 {
	waitStartedUp(b, pid)
	if outbox != "" {
		waitEngineClosed(b, outbox)
	}
	before := processCPU(b, pid)
	t0 := time.Now()
	time.Sleep(wardIdle)
	return 100 * float64(processCPU(b, pid)-before) / float64(time.Since(t0))
}

// waitEngineClosed waits until the outbox in dir exists (its MANIFEST)
// and has closed its storage engine, which keeps its memtable's log (a
// *.mem file) only while open, and fails b if that has not happened within 15 s of
// buffer.DefaultCloseIdleAfter.
func waitEngineClosed(b *testing.B, dir string) {
	deadline := time.Now().Add(buffer.DefaultCloseIdleAfter + 15*time.Second)
	for {
		logs, err := filepath.Glob(filepath.Join(dir, "*.mem"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil && len(logs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the outbox in %s still has its engine open (%v) after %v", dir, logs, buffer.DefaultCloseIdleAfter+15*time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitStartedUp waits until process pid has used at most one clock tick
// (10 ms) of CPU in half a second (2 % of a core: an idle gateway of 64
// beds uses about 1 %), and fails b if that has not happened within 20 s.
func waitStartedUp(b *testing.B, pid int) {
	deadline := time.Now().Add(20 * time.Second)
	last := processCPU(b, pid)
	for {
		time.Sleep(500 * time.Millisecond) // the window CPU is compared over
		now := processCPU(b, pid)
		if now-last <= 10*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("process %d still busy starting after 20 s (%v of CPU in the last half second)", pid, now-last)
		}
		last = now
	}
}

// passthrough reads lines from each port and publishes each with paho at
// QoS 1 on pass/<bed>, as a do-it-yourself flow would: no parsing, no
// storage. With durableEnv set it is the durable pass-through: each line
// is appended to the gateway's outbox (buffer, synced before Append
// returns, group commit) as the gateway stores a reading, and the
// gateway's publisher (publish) sends it from there and removes it on its
// PUBACK; still no parsing, no association, no FHIR, no ledger. Both run
// with the Go runtime's defaults (GOGC 100, no memory limit), as a flow
// built without bedgate would, where `bedgate run` sets its own
// (gateway.LimitMemory). It runs until killed.
func passthrough(broker string, ports []string) int {
	send, err := passthroughSender(broker, os.Getenv(durableEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "passthrough:", err)
		return 1
	}
	for i, path := range ports {
		p, err := serial.Open(path, &serial.Mode{BaudRate: 9600})
		if err != nil {
			fmt.Fprintln(os.Stderr, "passthrough:", err)
			return 1
		}
		topic := "pass/" + wardBed(i)
		go func() {
			sc := bufio.NewScanner(p)
			for sc.Scan() {
				if err := send(topic, sc.Bytes()); err != nil {
					fmt.Fprintln(os.Stderr, "passthrough:", err)
					os.Exit(1)
				}
			}
		}()
	}
	select {}
}

// passthroughSender returns how the pass-through sends a line: published
// at once, or, with an outbox directory, appended to the outbox its
// publisher sends from.
func passthroughSender(broker, outboxDir string) (func(topic string, line []byte) error, error) {
	if outboxDir == "" {
		c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker).SetClientID("ward-passthrough"))
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return nil, fmt.Errorf("connect: %v", tok.Error())
		}
		return func(topic string, line []byte) error {
			c.Publish(topic, 1, false, string(line))
			return nil
		}, nil
	}
	out, err := buffer.Open(outboxDir, buffer.Options{})
	if err != nil {
		return nil, err
	}
	pub, err := publish.New(out, publish.Options{Broker: broker, ClientID: "ward-durable", StatusTopic: "pass-status/durable"})
	if err != nil {
		return nil, err
	}
	go func() {
		if err := pub.Run(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "passthrough: publisher:", err)
			os.Exit(1)
		}
	}()
	return func(topic string, line []byte) error {
		_, err := out.Append(context.Background(), publish.Envelope(topic, line))
		return err
	}, nil
}

func wardBed(i int) string { return fmt.Sprintf("b%02d", i) }

// wardLine is line k of a monitor: its clock reads start plus k seconds.
func wardLine(start time.Time, k int) []byte {
	return fmt.Appendf(nil, "%s SN=0000070123 SPO2=0%02d%% BPM=0%02d PI=04.10%% SPCO=--.-%% SPMET=--.-%% DESAT=-- PIDELTA=+-- PVI=--- ALARM=0000 EXC=000000\r\n",
		start.Add(time.Duration(k)*time.Second).Format("01/02/06 15:04:05"), 90+k%10, 60+k%30)
}

// wardLog keeps when each line was written and when it arrived.
type wardLog struct {
	mu      sync.Mutex
	start   time.Time                // the monitors' clock at line 0
	written map[[2]int]time.Time     // (bed, line) → written
	arrived map[[2]int]time.Duration // (bed, line) → latency
	beds    map[int]bool             // beds heard from
}

func (w *wardLog) arrive(bed int, deviceTime time.Time, at time.Time) {
	k := int(deviceTime.Sub(w.start) / time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.beds[bed] = true
	key := [2]int{bed, k}
	if t, ok := w.written[key]; ok {
		if _, dup := w.arrived[key]; !dup {
			w.arrived[key] = at.Sub(t)
		}
	}
}

func runWard(b *testing.B, load wardLoad, command wardCommand) wardResult {
	b.Helper()
	broker := brokertest.Start(b, "")
	var ports []string
	var ptys []*pty.PTY
	for range load.beds {
		p, err := pty.Open()
		if err != nil {
			b.Skipf("no pseudo-terminals here: %v", err)
		}
		b.Cleanup(func() { p.Close() })
		ptys = append(ptys, p)
		ports = append(ports, p.Path())
	}
	log := &wardLog{start: time.Now().UTC().Truncate(time.Second), written: map[[2]int]time.Time{},
		arrived: map[[2]int]time.Duration{}, beds: map[int]bool{}}
	cmd, topic, outbox := command(b, broker.URL(), ports)
	sub := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("ward-epr"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	tok := sub.Subscribe(topic, 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		at := time.Now()
		name := m.Topic()[strings.LastIndexByte(m.Topic(), '/')+1:]
		if strings.HasPrefix(m.Topic(), "bedgate/") {
			name = epr.BedOf(m.Topic())
		}
		bed, err := strconv.Atoi(strings.TrimPrefix(name, "b"))
		if err != nil {
			return
		}
		var deviceTime time.Time
		if strings.HasPrefix(m.Topic(), "pass/") {
			deviceTime, err = time.Parse("01/02/06 15:04:05", string(m.Payload()[:min(17, len(m.Payload()))]))
		} else {
			var obs []epr.Observation
			if obs, err = epr.Parse(m.Payload()); err == nil && len(obs) > 0 {
				deviceTime = obs[0].Time
			}
		}
		if err == nil && !deviceTime.IsZero() {
			log.arrive(bed, deviceTime, at)
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("subscribe: %v", tok.Error())
	}

	stderr, kill := startCommand(b, cmd)
	defer kill()
	var res wardResult
	if load.hz == 1 {
		// Silent monitors: a silence timeout's worth (wardIdle).
		res.idlePct = idleCPU(b, cmd.Process.Pid, outbox) / float64(load.beds)
	}

	// Load: every monitor writes a line each 1/hz s.
	stop := make(chan struct{})
	var windowFrom, windowTo int // the lines of the measured window
	var writer sync.WaitGroup
	next := 0
	writer.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(load.hz))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			k := next
			for i, p := range ptys {
				line := wardLine(log.start, k)
				log.mu.Lock()
				log.written[[2]int{i, k}] = time.Now()
				log.mu.Unlock()
				p.Write(line)
			}
			log.mu.Lock()
			next++
			log.mu.Unlock()
		}
	})
	lines := func() int {
		log.mu.Lock()
		defer log.mu.Unlock()
		return next
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		log.mu.Lock()
		heard := len(log.beds)
		log.mu.Unlock()
		if heard == load.beds {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			b.Fatalf("%v: %d of %d beds delivered within 30 s\n%s", load, heard, load.beds, stderr.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
	windowFrom = lines()
	before := processCPU(b, cmd.Process.Pid)
	time.Sleep(load.window())
	cpu := processCPU(b, cmd.Process.Pid) - before
	windowTo = lines()
	close(stop)
	writer.Wait()
	res.written = (windowTo - windowFrom) * load.beds
	res.cpuPer1k = float64(cpu.Milliseconds()) / (float64(res.written) / 1000)
	res.rssMB = float64(peakRSS(b, cmd.Process.Pid)) / (1 << 20)

	// Wait for the window's lines to arrive (or 20 s), then collect their
	// latencies.
	window := func() []time.Duration {
		log.mu.Lock()
		defer log.mu.Unlock()
		var ds []time.Duration
		for i := range load.beds {
			for k := windowFrom; k < windowTo; k++ {
				if d, ok := log.arrived[[2]int{i, k}]; ok {
					ds = append(ds, d)
				}
			}
		}
		return ds
	}
	for deadline := time.Now().Add(20 * time.Second); len(window()) < res.written && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	ds := window()
	res.delivered = len(ds)
	if len(ds) == 0 {
		b.Fatalf("%v: nothing written in the window arrived\n%s", load, stderr.text())
	}
	slices.Sort(ds)
	res.p50 = ds[len(ds)/2]
	res.p99 = ds[len(ds)*99/100]
	return res
}

// processCPU returns the user and system CPU time process pid has used.
func processCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: the state
	// is the 1st, utime and stime the 12th and 13th, in clock ticks (100 a
	// second on Linux). A process that has exited (a zombie until it is
	// reaped) would read as one using no CPU.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if f[0] == "Z" || f[0] == "X" {
		b.Fatalf("process %d under measurement has exited", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// peakRSS returns process pid's peak resident set size in bytes (VmHWM).
func peakRSS(b *testing.B, pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
