//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
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

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/epr"
)

var (
	fleetGateways = flag.Int("fleet.gateways", 8, "gateway processes in TestFleetFailover")
	fleetBeds     = flag.Int("fleet.beds", 8, "simulated beds per gateway in TestFleetFailover")
	fleetPhase    = flag.Duration("fleet.phase", 5*time.Second, "how long readings flow between two node events in TestFleetFailover")
)

const (
	fleetSite = "fleet"
	// fleetPeriod is each simulated monitor's time between readings.
	fleetPeriod = time.Second
	// reorderWindow bounds how long after a node dies a bed's readings may
	// arrive out of sequence order: readings taken after a reconnect go
	// out before the backlog left by the lost connection (gateway/publish).
	reorderWindow = 20 * time.Second
)

// TestFleetFailover runs a trust's fleet on a clustered broker: three
// nats-server processes (a cluster with JetStream, MQTT on each, streams
// replicated 3 times), gateway processes with simulated beds spread over
// the nodes (mqtt.brokers listing all three, each gateway starting on its
// own node), and an EPR subscriber with a persistent session on the third
// node. It kills (SIGKILL) the node most gateways use, restarts it, then
// kills the second node, and checks: every reading delivered, each
// gateway's sequence numbers without a gap, duplicates byte-identical,
// each bed's readings in order (sequence numbers follow device time;
// arrivals out of order only just after a node died), and how long each
// gateway took to fail over (from its status topic, which names the node
// in use). One more gateway runs on a single mosquitto in the same run,
// for the end-to-end latency next to the cluster's.
//
// The default is 8 gateways × 8 beds; -fleet.gateways, -fleet.beds and
// -fleet.phase change it.
func TestFleetFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("real-process cluster test: skipped in -short mode")
	}
	bedgateBin, bedsimBin := binaries(t)
	natsBin := natsServerBinary(t)
	dir := t.TempDir()

	nodes := startCluster(t, natsBin, dir, 3)
	mosq := brokertest.Start(t, "")
	// The EPR subscribes on the node that is never killed (with the others
	// to fail over to, as an EPR would).
	clusterEPR := subscribeFleet(t, []string{nodes[2].url(), nodes[0].url(), nodes[1].url()}, "fleet-epr")
	mosqEPR := subscribeFleet(t, []string{mosq.URL()}, "fleet-epr-mosquitto")

	// Gateway i starts on node order[i]: half the gateways on the first
	// node, the rest spread over the other two.
	var gws []*fleetGateway
	for i := range *fleetGateways {
		first := 0
		if i >= (*fleetGateways+1)/2 {
			first = 1 + i%2
		}
		var brokers []string
		for k := range nodes {
			brokers = append(brokers, nodes[(first+k)%len(nodes)].url())
		}
		gws = append(gws, newFleetGateway(t, dir, fmt.Sprintf("gw%d", i+1), i, brokers))
	}
	mosqGW := newFleetGateway(t, dir, "gw-mosquitto", len(gws), []string{mosq.URL()})
	all := append(slices.Clone(gws), mosqGW)
	for _, g := range all {
		g.run = startRun(t, bedgateBin, g.config)
	}
	start := time.Now()
	for _, g := range all {
		g.startMonitors(t, bedsimBin)
	}
	clusterEPR.waitFlowing(t, gws, start, 30*time.Second)
	mosqEPR.waitFlowing(t, []*fleetGateway{mosqGW}, start, 30*time.Second)
	t.Logf("%d gateways × %d beds flowing through the cluster, 1 × %d through mosquitto, %v after the start",
		len(gws), *fleetBeds, *fleetBeds, time.Since(start).Round(time.Millisecond))

	// The node most gateways use dies, comes back, then another dies.
	var kills []nodeKill
	kill := func(n *natsNode) {
		at := n.kill(t)
		kills = append(kills, nodeKill{node: n, at: at})
		clusterEPR.waitFailedOver(t, gws, n.url(), at, 30*time.Second)
		clusterEPR.waitFlowing(t, gws, at, 30*time.Second)
		t.Logf("%s killed; every gateway it carried reports another node, and every bed delivers again, %v later",
			n.name, time.Since(at).Round(time.Millisecond))
	}
	time.Sleep(*fleetPhase)
	if most := clusterEPR.mostUsed(gws); most != nodes[0].url() {
		t.Fatalf("the gateways' status says %s is the node most use, not %s, the first in their lists", most, nodes[0].url())
	}
	kill(nodes[0])
	time.Sleep(*fleetPhase)
	restarted := time.Now()
	kills[0].back = restarted
	nodes[0].start(t)
	if !nodes[0].waitHealthy(t, 30*time.Second) {
		t.Fatalf("%s exited after its restart:\n%s", nodes[0].name, nodes[0].log.text())
	}
	t.Logf("%s restarted; JetStream current again %v later", nodes[0].name, time.Since(restarted).Round(time.Millisecond))
	time.Sleep(*fleetPhase)
	// n2, not n3: the EPR subscribes through n3. Which gateways n2 carries
	// now depends on where n1's moved: at least those that started on it.
	t.Logf("killing n2, which %d of %d gateways use", clusterEPR.users(gws, nodes[1].url()), len(gws))
	kill(nodes[1])
	time.Sleep(*fleetPhase)

	// Stop the monitors, let everything drain, stop the gateways cleanly.
	simStop := time.Now()
	for _, g := range all {
		stopProcess(t, g.sim, 5*time.Second)
	}
	clusterEPR.waitComplete(gws, 2*time.Second, 45*time.Second)
	mosqEPR.waitComplete([]*fleetGateway{mosqGW}, 2*time.Second, 30*time.Second)
	for _, g := range all {
		g.stop(t)
	}

	var totals fleetTotals
	for _, g := range gws {
		totals.add(clusterEPR.check(t, g, kills, simStop))
	}
	mosqTotals := mosqEPR.check(t, mosqGW, nil, simStop)
	names := map[string]string{}
	for _, n := range nodes {
		names[n.url()] = n.name
	}
	failovers := clusterEPR.failovers(t, gws, kills, names)
	t.Logf("node each gateway's status named, from the start: %s", clusterEPR.timeline(gws, names, start))
	if t.Failed() {
		for _, n := range nodes {
			t.Logf("%s log:\n%s", n.name, n.log.text())
		}
	}

	t.Logf("cluster: %d gateways × %d beds; %d readings sent, %d delivered (%d before a gateway first read its monitor, %d in flight when the monitors stopped), %d messages, %d duplicate copies (all byte-identical: %v), %d arrivals out of a bed's order (all within %v of a node's death)",
		len(gws), *fleetBeds, totals.sent, totals.delivered, totals.beforeFirst, totals.atStop, totals.messages, totals.duplicates, !t.Failed(), totals.reordered, reorderWindow)
	t.Logf("failover (node killed → the gateway's status through another node): %d gateway failovers, median %v, max %v; per gateway: %s",
		len(failovers), median(durations(failovers)).Round(time.Millisecond), slices.Max(durations(failovers)).Round(time.Millisecond), describeFailovers(failovers))
	t.Logf("end to end (gateway read → EPR), same run: cluster p50 %v p99 %v (outside failovers: p50 %v p99 %v); single mosquitto p50 %v p99 %v",
		percentile(totals.latency, 50), percentile(totals.latency, 99),
		percentile(totals.steadyLatency, 50), percentile(totals.steadyLatency, 99),
		percentile(mosqTotals.latency, 50), percentile(mosqTotals.latency, 99))
}

// natsServerBinary builds nats-server from the module once per test binary
// run, next to bedgate and bedsim.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	binaries(t) // makes the directory
	natsOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildOnce.dir, "nats-server"), "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			natsOnce.err = fmt.Errorf("go build nats-server: %v\n%s", err, out)
		}
	})
	if natsOnce.err != nil {
		t.Fatal(natsOnce.err)
	}
	return filepath.Join(buildOnce.dir, "nats-server")
}

var natsOnce struct {
	sync.Once
	err error
}

// natsNode is one nats-server process of the test cluster.
type natsNode struct {
	name, bin, conf    string
	mqttPort, httpPort int
	cmd                *exec.Cmd
	log                *syncWriter
	exited             chan struct{}
}

func (n *natsNode) url() string { return "tcp://127.0.0.1:" + strconv.Itoa(n.mqttPort) }

// startCluster writes the configuration of a cluster of size nodes
// (JetStream, MQTT with streams replicated on every node, loopback ports)
// and starts it: every node healthy and accepting MQTT clients. A node
// that exits while starting (a port freePort found free taken by another
// test's process before the node bound it) makes the cluster start again
// on new ports, at most three times.
func startCluster(t *testing.T, bin, dir string, size int) []*natsNode {
	t.Helper()
	for attempt := 1; ; attempt++ {
		nodes, exited := tryCluster(t, bin, filepath.Join(dir, fmt.Sprint("try", attempt)), size)
		if exited == nil {
			for _, n := range nodes {
				n.waitMQTT(t, 30*time.Second)
			}
			return nodes
		}
		for _, n := range nodes {
			n.cmd.Process.Kill()
			<-n.exited
		}
		if attempt == 3 {
			t.Fatalf("%s exited while starting, three times:\n%s", exited.name, exited.log.text())
		}
		t.Logf("%s exited while starting; the cluster starts again on new ports", exited.name)
	}
}

// tryCluster starts a cluster in dir and waits until every node is
// healthy; exited is a node that exited meanwhile (nil when none did).
func tryCluster(t *testing.T, bin, dir string, size int) (nodes []*natsNode, exited *natsNode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	nodes = make([]*natsNode, size)
	clusterPorts := make([]int, size)
	for i := range nodes {
		nodes[i] = &natsNode{name: fmt.Sprintf("n%d", i+1), bin: bin, mqttPort: freePort(t), httpPort: freePort(t)}
		clusterPorts[i] = freePort(t)
	}
	var routes []string
	for _, p := range clusterPorts {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	for i, n := range nodes {
		n.conf = filepath.Join(dir, n.name+".conf")
		conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
jetstream { store_dir: %q, max_memory_store: 256MB, max_file_store: 2GB }
cluster { name: fleet, listen: 127.0.0.1:%d, routes: [%s] }
mqtt { listen: 127.0.0.1:%d, stream_replicas: %d, ack_wait: "5s" }
`, n.name, freePort(t), n.httpPort, filepath.Join(dir, n.name), clusterPorts[i], strings.Join(routes, ", "), n.mqttPort, size)
		if err := os.WriteFile(n.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		n.start(t)
	}
	for _, n := range nodes {
		if !n.waitHealthy(t, 30*time.Second) {
			return nodes, n
		}
	}
	return nodes, nil
}

// start starts the node's process (again, after kill).
func (n *natsNode) start(t *testing.T) {
	t.Helper()
	n.log = &syncWriter{w: new(bytes.Buffer)}
	n.cmd = exec.Command(n.bin, "-c", n.conf)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start nats-server %s: %v", n.name, err)
	}
	exited, cmd := make(chan struct{}), n.cmd
	n.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
}

// kill kills the node with SIGKILL and returns when it was sent.
func (n *natsNode) kill(t *testing.T) time.Time {
	t.Helper()
	at := time.Now()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", n.name, err)
	}
	<-n.exited
	return at
}

// waitHealthy waits until the node's /healthz says it is up with JetStream
// current, and reports it; false when the node's process exited first.
func (n *natsNode) waitHealthy(t *testing.T, within time.Duration) bool {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", n.httpPort)
	gone := false
	waitFor(t, n.name+" healthy", within, func() bool {
		select {
		case <-n.exited:
			gone = true
			return true
		default:
		}
		// A deadline on each request: whatever holds the port may accept
		// and never answer.
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, n.log.text)
	return !gone
}

// waitMQTT waits until the node accepts an MQTT client (the first one
// makes the cluster create its MQTT streams).
func (n *natsNode) waitMQTT(t *testing.T, within time.Duration) {
	t.Helper()
	waitFor(t, n.name+" accepting MQTT clients", within, func() bool {
		c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(n.url()).SetClientID("probe-" + n.name).
			SetCleanSession(true).SetProtocolVersion(4).SetConnectTimeout(5 * time.Second))
		tok := c.Connect()
		ok := tok.WaitTimeout(6*time.Second) && tok.Error() == nil
		if ok {
			c.Disconnect(50)
		}
		return ok
	}, n.log.text)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fleetGateway is one gateway process (its ward is its id) with its own
// bedsim process of Masimo monitors.
type fleetGateway struct {
	id, dir, config, values string
	brokers                 []string
	beds                    []string
	serial                  string
	sim                     *exec.Cmd
	run                     *gatewayRun
}

func newFleetGateway(t *testing.T, dir, id string, i int, brokers []string) *fleetGateway {
	t.Helper()
	g := &fleetGateway{id: id, dir: filepath.Join(dir, id), brokers: brokers, serial: fmt.Sprintf("9%03d000001", i+1)}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	g.config, g.values = filepath.Join(g.dir, "bedgate.yaml"), filepath.Join(g.dir, "values.jsonl")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "gateway:\n  id: %s\n  site: %s\n  ward: %s\n  data_dir: %s\nmqtt:\n  brokers: [%s]\n  plaintext: true\n  keepalive: 2s\n"+
		// Every reading waits association.grace for the admission feed;
		// a short one keeps the end-to-end figures about the brokers.
		"association:\n  grace: 1s\nbeds:\n",
		id, fleetSite, id, filepath.Join(g.dir, "data"), strings.Join(brokers, ", "))
	for b := range *fleetBeds {
		g.beds = append(g.beds, fmt.Sprintf("bed%d", b+1))
		fmt.Fprintf(&cfg, "  - name: bed%d\n    driver: masimo\n    port: %s\n", b+1, filepath.Join(g.dir, "ports", g.beds[b]))
	}
	if err := os.WriteFile(g.config, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// startMonitors starts the gateway's bedsim process.
func (g *fleetGateway) startMonitors(t *testing.T, bedsim string) {
	t.Helper()
	args := []string{"--link", filepath.Join(g.dir, "ports"), "--values", g.values, "--seed", "7",
		"--serial", g.serial, "--period", fleetPeriod.String()}
	for _, b := range g.beds {
		args = append(args, "masimo:"+b)
	}
	g.sim, _ = startBedsim(t, bedsim, nil, len(g.beds), args...)
}

// stop stops the gateway with SIGTERM and checks it left nothing in its
// outbox.
func (g *fleetGateway) stop(t *testing.T) {
	t.Helper()
	g.run.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.run.exited:
		if g.run.err != nil {
			t.Errorf("%s exited with %v after SIGTERM\n%s", g.id, g.run.err, g.run.log.text())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not stop within 15s of SIGTERM", g.id)
		return
	}
	if n, ok := stoppedOutboxEntries(g.run.log.text()); !ok || n != 0 {
		t.Errorf("%s stopped with %d entries in its outbox (logged: %v)\n%s", g.id, n, ok, g.run.log.text())
	}
}

// fleetMessage is one message the EPR received on an observation topic.
type fleetMessage struct {
	gw, bed string
	seq     uint64
	payload string
	read    time.Time // Bundle.timestamp: when the gateway read it
	at      time.Time // when the EPR received it
	obs     []epr.Observation
}

// fleetStatus is one gateway status message.
type fleetStatus struct {
	gw, state, broker string
	time              time.Time // the gateway's, when it built the status
}

// fleetEPR is an EPR subscriber with a persistent session on the fleet's
// observation and gateway status topics.
type fleetEPR struct {
	mu       sync.Mutex
	msgs     []fleetMessage
	statuses []fleetStatus
	errs     []string
	last     time.Time
}

func subscribeFleet(t *testing.T, brokers []string, clientID string) *fleetEPR {
	t.Helper()
	e := &fleetEPR{}
	handle := func(_ pahomqtt.Client, m pahomqtt.Message) {
		now := time.Now()
		levels := strings.Split(m.Topic(), "/") // bedgate/v1/<site>/<ward>/<bed>/obs, bedgate/v1/<site>/gateway/<id>/status
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(levels) != 6 {
			e.errs = append(e.errs, "unexpected topic "+m.Topic())
			return
		}
		if levels[5] == "status" {
			var st gateway.GatewayStatus
			if err := json.Unmarshal(m.Payload(), &st); err != nil {
				e.errs = append(e.errs, "status: "+err.Error())
				return
			}
			e.statuses = append(e.statuses, fleetStatus{gw: levels[4], state: st.State, broker: st.Broker, time: st.Time})
			return
		}
		// A bed's context Bundles (no Observations) take sequence numbers
		// too.
		msg, err := epr.ParseMessage(m.Payload())
		var b struct {
			Timestamp time.Time `json:"timestamp"`
		}
		if err == nil {
			err = json.Unmarshal(m.Payload(), &b)
		}
		if err != nil || msg.Seq == 0 || len(msg.Observations) == 0 && !msg.IsContext() {
			e.errs = append(e.errs, fmt.Sprintf("%s: %d observations, %v", m.Topic(), len(msg.Observations), err))
			return
		}
		e.msgs = append(e.msgs, fleetMessage{gw: levels[3], bed: levels[4], seq: msg.Seq, payload: string(m.Payload()), read: b.Timestamp, at: now, obs: msg.Observations})
		e.last = now
	}
	opts := pahomqtt.NewClientOptions().SetClientID(clientID).
		SetCleanSession(false).SetOrderMatters(true).SetProtocolVersion(4).
		SetAutoReconnect(true).SetMaxReconnectInterval(250 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(250 * time.Millisecond).
		SetDefaultPublishHandler(handle)
	for _, b := range brokers {
		opts.AddBroker(b)
	}
	client := pahomqtt.NewClient(opts)
	if tok := client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscriber: connect: %v", tok.Error())
	}
	filters := map[string]byte{"bedgate/v1/" + fleetSite + "/+/+/obs": 1, "bedgate/v1/" + fleetSite + "/gateway/+/status": 1}
	if tok := client.SubscribeMultiple(filters, handle); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscriber: subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { client.Disconnect(100) })
	return e
}

// waitFlowing waits until every bed of gws has delivered a reading the
// gateway read after since.
func (e *fleetEPR) waitFlowing(t *testing.T, gws []*fleetGateway, since time.Time, within time.Duration) {
	t.Helper()
	want := 0
	for _, g := range gws {
		want += len(g.beds)
	}
	waitFor(t, "every bed delivering", within, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		beds := map[string]bool{}
		for _, m := range e.msgs {
			if m.read.After(since) {
				beds[m.gw+"/"+m.bed] = true
			}
		}
		return len(beds) >= want
	}, func() string { return fmt.Sprintf("beds of %d gateways", len(gws)) })
}

// brokerAt returns the node gw's status named last among statuses built
// before at (by the gateway's clock).
func (e *fleetEPR) brokerAt(gw string, at time.Time) string {
	var latest fleetStatus
	for _, s := range e.statuses {
		if s.gw == gw && s.state == "online" && s.time.Before(at) && !s.time.Before(latest.time) {
			latest = s
		}
	}
	return latest.broker
}

// mostUsed returns the node most of gws are connected to now.
// users returns how many gateways' status names node now.
func (e *fleetEPR) users(gws []*fleetGateway, node string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, g := range gws {
		if e.brokerAt(g.id, time.Now()) == node {
			n++
		}
	}
	return n
}

func (e *fleetEPR) mostUsed(gws []*fleetGateway) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := map[string]int{}
	for _, g := range gws {
		n[e.brokerAt(g.id, time.Now())]++
	}
	most := ""
	for b, c := range n {
		if most == "" || c > n[most] {
			most = b
		}
	}
	return most
}

// waitFailedOver waits until every gateway that used node before at has
// reported another node since.
func (e *fleetEPR) waitFailedOver(t *testing.T, gws []*fleetGateway, node string, at time.Time, within time.Duration) {
	t.Helper()
	waitFor(t, "every gateway of "+node+" on another node", within, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, g := range gws {
			if e.brokerAt(g.id, at) == node && e.firstElsewhere(g.id, node, at).IsZero() {
				return false
			}
		}
		return true
	}, func() string { return "" })
}

// firstElsewhere returns when gw first reported a node other than node
// after at, or zero.
func (e *fleetEPR) firstElsewhere(gw, node string, at time.Time) time.Time {
	var first time.Time
	for _, s := range e.statuses {
		if s.gw == gw && s.state == "online" && s.broker != "" && s.broker != node && s.time.After(at) && (first.IsZero() || s.time.Before(first)) {
			first = s.time
		}
	}
	return first
}

// waitComplete waits until every gateway's sequence numbers have arrived
// without a gap up to the highest and nothing has arrived for quiet, or
// until within has passed (check then reports what is missing). A message
// the broker was delivering to the EPR when a node died is delivered again
// after the broker's ack wait (5 s in these nodes' config), not at once.
func (e *fleetEPR) waitComplete(gws []*fleetGateway, quiet, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		last, gapless := e.last, e.gapless(gws)
		e.mu.Unlock()
		if gapless && time.Since(last) >= quiet {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gapless reports whether every gateway's sequence numbers arrived from 1
// to the highest without a gap. e.mu is held.
func (e *fleetEPR) gapless(gws []*fleetGateway) bool {
	seen := map[string]map[uint64]bool{}
	top := map[string]uint64{}
	for _, m := range e.msgs {
		if seen[m.gw] == nil {
			seen[m.gw] = map[uint64]bool{}
		}
		seen[m.gw][m.seq] = true
		top[m.gw] = max(top[m.gw], m.seq)
	}
	for _, g := range gws {
		if len(seen[g.id]) != int(top[g.id]) {
			return false
		}
	}
	return true
}

// nodeKill is a node's death (and when it was started again, if it was).
type nodeKill struct {
	node     *natsNode
	at, back time.Time
}

type failover struct {
	gw, from, to string
	took         time.Duration
}

// failovers returns, for each kill, how long each gateway on the node
// killed took to report another node, and checks that none named the dead
// node after its death.
func (e *fleetEPR) failovers(t *testing.T, gws []*fleetGateway, kills []nodeKill, names map[string]string) []failover {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []failover
	for _, k := range kills {
		for _, g := range gws {
			for _, s := range e.statuses {
				// A status built while the node was dead (allowing a second
				// for a payload built just before) must not name it.
				dead := s.time.After(k.at.Add(time.Second)) && (k.back.IsZero() || s.time.Before(k.back))
				if s.gw == g.id && s.broker == k.node.url() && dead {
					t.Errorf("%s reported %s %v after it was killed", g.id, k.node.name, s.time.Sub(k.at))
				}
			}
			if e.brokerAt(g.id, k.at) != k.node.url() {
				continue
			}
			first := e.firstElsewhere(g.id, k.node.url(), k.at)
			if first.IsZero() {
				t.Errorf("%s never reported another node after %s died", g.id, k.node.name)
				continue
			}
			to := ""
			for _, s := range e.statuses {
				if s.gw == g.id && s.time.Equal(first) {
					to = s.broker
				}
			}
			out = append(out, failover{gw: g.id, from: k.node.name, to: names[to], took: first.Sub(k.at)})
		}
	}
	if len(out) == 0 {
		t.Fatal("no gateway failed over")
	}
	return out
}

// fleetTotals adds up what check found.
type fleetTotals struct {
	sent, delivered, beforeFirst, atStop, messages, duplicates, reordered int
	latency, steadyLatency                                                []time.Duration
}

func (a *fleetTotals) add(b fleetTotals) {
	a.sent += b.sent
	a.delivered += b.delivered
	a.beforeFirst += b.beforeFirst
	a.atStop += b.atStop
	a.messages += b.messages
	a.duplicates += b.duplicates
	a.reordered += b.reordered
	a.latency = append(a.latency, b.latency...)
	a.steadyLatency = append(a.steadyLatency, b.steadyLatency...)
}

// check checks what the EPR received from g against what g's monitors
// sent.
func (e *fleetEPR) check(t *testing.T, g *fleetGateway, kills []nodeKill, simStop time.Time) fleetTotals {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) > 0 {
		t.Errorf("EPR: %d unreadable messages, first: %s", len(e.errs), e.errs[0])
	}
	var tot fleetTotals
	first := map[uint64]fleetMessage{} // seq → first copy
	byID := map[string][]delivery{}
	lastSeq := map[string]uint64{} // bed → highest seq arrived
	nearKill := func(at time.Time, window time.Duration) bool {
		return slices.ContainsFunc(kills, func(k nodeKill) bool { return !at.Before(k.at) && at.Sub(k.at) <= window })
	}
	for _, m := range e.msgs {
		if m.gw != g.id {
			continue
		}
		tot.messages++
		if f, dup := first[m.seq]; dup {
			tot.duplicates++
			if f.payload != m.payload {
				t.Errorf("%s seq %d delivered twice with different bytes:\n%s\n%s", g.id, m.seq, f.payload, m.payload)
			}
			continue
		}
		first[m.seq] = m
		for _, o := range m.obs {
			byID[o.ID] = append(byID[o.ID], delivery{obs: o, bed: m.bed, at: m.at})
		}
		if m.seq < lastSeq[m.bed] {
			tot.reordered++
			if !nearKill(m.at, reorderWindow) {
				t.Errorf("%s %s: seq %d arrived after seq %d, not just after a node died", g.id, m.bed, m.seq, lastSeq[m.bed])
			}
		}
		lastSeq[m.bed] = max(lastSeq[m.bed], m.seq)
		lat := m.at.Sub(m.read)
		tot.latency = append(tot.latency, lat)
		if !nearKill(m.read.Add(time.Second), 11*time.Second) { // read 1 s before to 10 s after a death
			tot.steadyLatency = append(tot.steadyLatency, lat)
		}
	}
	// Sequence numbers: contiguous from 1; each bed's follow its device time.
	var maxSeq uint64
	for s := range first {
		maxSeq = max(maxSeq, s)
	}
	missing := 0
	for s := uint64(1); s <= maxSeq; s++ {
		if _, ok := first[s]; !ok {
			missing++
		}
	}
	if missing > 0 || maxSeq == 0 {
		t.Errorf("%s: sequence numbers 1..%d: %d missing", g.id, maxSeq, missing)
	}
	lastTime := map[string]time.Time{}
	for s := uint64(1); s <= maxSeq; s++ {
		m, ok := first[s]
		if !ok || len(m.obs) == 0 { // missing, or a context Bundle
			continue
		}
		if d := m.obs[0].Time; !d.After(lastTime[m.bed]) {
			t.Errorf("%s %s: seq %d has device time %v, not after the bed's previous %v", g.id, m.bed, s, d, lastTime[m.bed])
		} else {
			lastTime[m.bed] = d
		}
	}

	// Every reading the monitors sent is delivered, but for those sent
	// before the gateway first read the monitor, or in flight when the
	// monitors stopped.
	meant := readValues(t, g.values)
	firstDelivered := map[string]time.Time{} // serial → device time of its first delivered reading
	delivered := func(m drivers.Reading) (n, of int) {
		ids := forwardedIDs(g.id, m)
		for _, id := range ids {
			if len(byID[id]) > 0 {
				n++
			}
		}
		return n, len(ids)
	}
	for _, m := range meant {
		if n, of := delivered(m); n == of && n > 0 {
			if f, ok := firstDelivered[m.Device.Serial]; !ok || m.DeviceTime.Before(f) {
				firstDelivered[m.Device.Serial] = m.DeviceTime
			}
		}
	}
	lost := 0
	for _, m := range meant {
		tot.sent++
		n, of := delivered(m)
		switch {
		case of == 0:
			t.Errorf("%s: reading of %s at %s has no forwarded value", g.id, m.Device.Serial, m.DeviceTime.Format(time.TimeOnly))
		case n == of:
			tot.delivered++
			checkDelivered(t, g.id, m, byID)
		case n > 0:
			t.Errorf("%s: reading of %s at %s: %d of its %d observations arrived", g.id, m.Device.Serial, m.DeviceTime.Format(time.TimeOnly), n, of)
		case m.DeviceTime.Before(firstDelivered[m.Device.Serial]):
			tot.beforeFirst++
		case simStop.Sub(m.DeviceTime) < inFlightWindow:
			tot.atStop++
		default:
			lost++
			if lost <= 5 {
				t.Errorf("%s: reading of %s at %s (device time) never delivered", g.id, m.Device.Serial, m.DeviceTime.Format(time.TimeOnly+".000"))
			}
		}
	}
	if lost > 5 {
		t.Errorf("%s: ... %d readings lost in all", g.id, lost)
	}
	for _, b := range g.beds {
		if lastSeq[b] == 0 {
			t.Errorf("%s: nothing arrived from %s", g.id, b)
		}
	}
	return tot
}

// timeline lists, per gateway, each change of the node its status named
// (by the gateway's clock, from start).
func (e *fleetEPR) timeline(gws []*fleetGateway, names map[string]string, start time.Time) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var parts []string
	for _, g := range gws {
		var ss []fleetStatus
		for _, s := range e.statuses {
			if s.gw == g.id && s.state == "online" {
				ss = append(ss, s)
			}
		}
		slices.SortFunc(ss, func(a, b fleetStatus) int { return a.time.Compare(b.time) })
		line, prev := g.id+":", ""
		for _, s := range ss {
			if s.broker != prev {
				line += fmt.Sprintf(" %s@%.1fs", names[s.broker], s.time.Sub(start).Seconds())
			}
			prev = s.broker
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, "; ")
}

func durations(fs []failover) []time.Duration {
	d := make([]time.Duration, len(fs))
	for i, f := range fs {
		d[i] = f.took
	}
	return d
}

func describeFailovers(fs []failover) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s %s→%s %v", f.gw, f.from, f.to, f.took.Round(time.Millisecond))
	}
	return strings.Join(parts, ", ")
}

func median(d []time.Duration) time.Duration { return percentile(d, 50) }

// percentile returns the p-th percentile (nearest rank) of d, rounded to
// 0.1 ms.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := max(0, (len(s)*p+99)/100-1)
	return s[i].Round(100 * time.Microsecond)
}
