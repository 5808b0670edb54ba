package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/buffer/tmpfstest"
	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/conformancetest"
	"github.com/bedgate/bedgate/gateway/mllp"
)

// hl7Config is a gateway with an MLLP listener on a free port and three
// beds fed over it: bed1 by PV1-3 with a static patient, bed2 by its
// monitor's OBX-18, bed3 by PV1-3 with nobody associated.
func hl7Config(t *testing.T, broker string, patient string) *config.Config {
	t.Helper()
	cfg := testConfig(t, t.TempDir(), broker, "", 64<<20)
	def, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The settings testConfig leaves to Run's defaults, which Validate
	// checks here.
	cfg.Association, cfg.NEWS2 = def.Association, def.NEWS2
	cfg.Validation = def.Validation
	cfg.MLLP = config.MLLP{Listen: freeAddr(t), MaxMessage: config.DefaultMLLPMaxMessage, Patient: patient}
	cfg.Beds = []config.Bed{
		{Name: "bed1", Driver: config.HL7Driver, Source: "pv1:ICU^^BED1", Device: "bed1", NHSNumber: "9434765919"},
		{Name: "bed2", Driver: config.HL7Driver, Source: "obx18:MON-2", Device: "bed2"},
		{Name: "bed3", Driver: config.HL7Driver, Source: "pv1:ICU^^BED3", Device: "bed3"},
	}
	if err := cfg.Validate(nil); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// oruMsg is one PCD-01 ORU^R01 the tests send, and what it carries.
type oruMsg struct {
	id, pv1, pid, equipment string
	at                      time.Time
	values                  []float64 // NM values: SpO2, pulse rate, resp rate, ... in order
	version, msgType        string
}

var mdcRows = []string{
	"150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|%s|262688^MDC_DIM_PERCENT^MDC",
	"149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.2.1.2|%s|264864^MDC_DIM_BEAT_PER_MIN^MDC",
	"151562^MDC_RESP_RATE^MDC|1.1.2.1|%s|264928^MDC_DIM_RESP_PER_MIN^MDC",
	"150364^MDC_TEMP_BODY^MDC|1.4.1.1|%s|268192^MDC_DIM_DEGC^MDC",
}

func (m oruMsg) text() string {
	version, typ := m.version, m.msgType
	if version == "" {
		version = "2.6"
	}
	if typ == "" {
		typ = "ORU^R01^ORU_R01"
	}
	ts := m.at.UTC().Format("20060102150405-0700")
	var b strings.Builder
	fmt.Fprintf(&b, "MSH|^~\\&|CENTRAL^ACDE48234567ABCD^EUI-64|ICU|BEDGATE|RXX|%s||%s|%s|P|%s|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r", ts, typ, m.id, version)
	if m.pid != "" {
		fmt.Fprintf(&b, "PID|1||%s^^^NHS^NH||Test^Patient\r", m.pid)
	}
	fmt.Fprintf(&b, "PV1|1|I|%s\r", m.pv1)
	fmt.Fprintf(&b, "OBR|1|%s^CENTRAL|%s^CENTRAL|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||%s\r", m.id, m.id, ts)
	fmt.Fprintf(&b, "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||%s||||%s^^%s^EUI-64\r", ts, m.equipment, m.equipment)
	for i, v := range m.values {
		fmt.Fprintf(&b, "OBX|%d|NM|"+mdcRows[i]+"||||||R|||%s\r", i+2, fmt.Sprint(v), ts)
	}
	if len(m.values) == 0 {
		fmt.Fprintf(&b, "OBX|2|ST|184327^MDC_ECG_STAT_RHY^MDC|1.1.4.1|SINUS||||||R|||%s\r", ts)
	}
	return b.String()
}

// epr collects the observation identifiers the broker delivers, forwarded
// and quarantined, with how often each arrived.
type eprTally struct {
	mu          sync.Mutex
	forwarded   map[string]int
	quarantined map[string]string // id → reason
	dupQ        int
	patients    map[string]string // bed → last patient filed against
}

func subscribeEPR(t *testing.T, url string) *eprTally {
	t.Helper()
	e := &eprTally{forwarded: map[string]int{}, quarantined: map[string]string{}, patients: map[string]string{}}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("epr-" + t.Name()).SetCleanSession(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	sub := func(topic string, h pahomqtt.MessageHandler) {
		if tok := c.Subscribe(topic, 1, h); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", topic, tok.Error())
		}
	}
	sub("bedgate/v1/s/w/+/obs", func(_ pahomqtt.Client, m pahomqtt.Message) {
		var b map[string]any
		if err := json.Unmarshal(m.Payload(), &b); err != nil {
			t.Errorf("obs payload: %v", err)
			return
		}
		bed := strings.Split(m.Topic(), "/")[4]
		e.mu.Lock()
		defer e.mu.Unlock()
		e.patients[bed] = patientOf(b)
		entries, _ := b["entry"].([]any)
		for _, en := range entries {
			res, _ := en.(map[string]any)["resource"].(map[string]any)
			ids, _ := res["identifier"].([]any)
			if res["resourceType"] != "Observation" || len(ids) == 0 {
				continue
			}
			v, _ := ids[0].(map[string]any)["value"].(string)
			e.forwarded[strings.TrimPrefix(v, "urn:uuid:")]++
		}
	})
	sub("bedgate/v1/s/w/+/rejected", func(_ pahomqtt.Client, m pahomqtt.Message) {
		var q gateway.QuarantineMessage
		if err := json.Unmarshal(m.Payload(), &q); err != nil {
			t.Errorf("rejected payload: %v", err)
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, r := range q.Rejected {
			if _, dup := e.quarantined[r.Observation.ID]; dup {
				e.dupQ++
			}
			e.quarantined[r.Observation.ID] = r.Reason
		}
	})
	return e
}

// delivered returns how many distinct observations arrived and whether
// any arrived twice.
func (e *eprTally) delivered() (n int, twice bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.forwarded {
		twice = twice || c > 1
	}
	return len(e.forwarded) + len(e.quarantined), twice || e.dupQ > 0
}

// stopWhenDelivered waits until want observations have arrived, stops the
// gateway (cancel, then its Run's result on done), and returns what
// delivered says then.
func (e *eprTally) stopWhenDelivered(t *testing.T, want int, cancel context.CancelFunc, done <-chan error) (n int, twice bool) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d observations on the broker", want), 30*time.Second, func() bool {
		n, _ := e.delivered()
		return n >= want
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	return e.delivered()
}

func (e *eprTally) reasons() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for _, r := range e.quarantined {
		out[r]++
	}
	return out
}

// nodeClient writes the script that sends messages with node-hl7-client
// and prints the acknowledgements as JSON, or skips the test.
func nodeClient(t *testing.T) (node, script, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the node-hl7-client test needs Node.js")
	}
	// node-hl7-client is an HL7 client nobody on this project wrote,
	// installed by the shared conformance kit's setup.
	modules = conformancetest.NodeModules(t)
	if _, err := os.Stat(filepath.Join(modules, "node-hl7-client", "package.json")); err != nil {
		t.Fatalf("node-hl7-client not installed in %s by the conformance setup: %v", modules, err)
	}
	script = filepath.Join(t.TempDir(), "send.js")
	if err := os.WriteFile(script, []byte(sendJS), 0o644); err != nil {
		t.Fatal(err)
	}
	return node, script, modules
}

// sendJS sends each message of a JSON array over one connection, the next
// only after the previous one's acknowledgement, and prints every
// acknowledgement's MSA-1, MSA-2 and ERR-3.1 as parsed by node-hl7-client.
const sendJS = `
const fs = require('fs');
const { Client, Message } = require('node-hl7-client');
const [port, file] = process.argv.slice(2);
const msgs = JSON.parse(fs.readFileSync(file, 'utf8'));
const out = [];
const get = (m, path) => { try { return m.get(path).toString(); } catch (e) { return ''; } };
const finish = (code) => { process.stdout.write(JSON.stringify(out)); process.exit(code); };
setTimeout(() => { console.error('timed out waiting for acknowledgements'); finish(2); }, 60000);
const client = new Client({ host: '127.0.0.1' });
let i = 0;
const conn = client.createConnection({ port: Number(port) }, async (res) => {
  const m = res.getMessage();
  out.push({ code: get(m, 'MSA.1'), id: get(m, 'MSA.2'), cond: get(m, 'ERR.3.1') });
  next();
});
function next() {
  if (i >= msgs.length) return finish(0);
  const text = msgs[i++];
  conn.sendMessage(new Message({ text })).catch((e) => { console.error(String(e)); finish(3); });
}
conn.once('connect', next);
`

type ackResult struct{ Code, ID, Cond string }

func sendWithNode(t *testing.T, addr string, msgs []string) []ackResult {
	t.Helper()
	node, script, modules := nodeClient(t)
	file := filepath.Join(t.TempDir(), "msgs.json")
	data, _ := json.Marshal(msgs)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, port, file)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node-hl7-client: %v\n%s", err, stderr.String())
	}
	var acks []ackResult
	if err := json.Unmarshal(out, &acks); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	return acks
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	waitUntil(t, "the MLLP listener", 20*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// TestMLLPWithNodeHL7Client: node-hl7-client sends ORU^R01 messages to a
// running gateway; every ACK code is checked as node-hl7-client parses it,
// and every OBX value of every message acknowledged AA reaches mosquitto
// exactly once (forwarded, or quarantined with its reason).
func TestMLLPWithNodeHL7Client(t *testing.T) {
	nodeClient(t) // skip early when absent
	broker := brokertest.Start(t, "")
	e := subscribeEPR(t, broker.URL())
	cfg := hl7Config(t, broker.URL(), config.PatientFromBed)
	ctx, cancel := context.WithCancel(context.Background())
	done := runGateway(t, ctx, cfg)
	waitListening(t, cfg.MLLP.Listen)

	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	cases := []struct {
		msg        oruMsg
		code, cond string
		stored     int // values that must reach the broker
		why        string
	}{
		{oruMsg{id: "N-1", pv1: "ICU^^BED1", pid: "9434765919", equipment: "MON-1", at: at(0), values: []float64{97, 72, 16, 37.1}}, "AA", "", 4, "bed by PV1-3, same patient"},
		{oruMsg{id: "N-2", pv1: "ICU^^BEDX", equipment: "MON-2", at: at(0), values: []float64{95, 80}}, "AA", "", 2, "bed by OBX-18, no PID"},
		{oruMsg{id: "N-1", pv1: "ICU^^BED1", pid: "9434765919", equipment: "MON-1", at: at(0), values: []float64{97, 72, 16, 37.1}}, "AA", "", 0, "resent: acknowledged, not stored"},
		{oruMsg{id: "N-3", pv1: "ICU^^BED9", equipment: "MON-9", at: at(1), values: []float64{99}}, "AE", mllp.CondUnknownKey, 0, "unknown bed"},
		{oruMsg{id: "N-4", pv1: "ICU^^BED1", equipment: "MON-1", at: at(2)}, "AE", mllp.CondRequiredMissing, 0, "no usable OBX"},
		{oruMsg{id: "N-5", pv1: "ICU^^BED1", equipment: "MON-1", at: at(3), values: []float64{96}, version: "2.2"}, "AR", mllp.CondUnsupportedVer, 0, "version 2.2"},
		{oruMsg{id: "N-6", pv1: "ICU^^BED1", equipment: "MON-1", at: at(4), values: []float64{96}, msgType: "ADT^A01^ADT_A01"}, "AR", mllp.CondUnsupportedType, 0, "not ORU"},
		{oruMsg{id: "N-7", pv1: "ICU^^BED1", pid: "4010232137", equipment: "MON-1", at: at(5), values: []float64{96, 70}}, "AA", "", 2, "another patient: quarantined"},
		{oruMsg{id: "N-8", pv1: "ICU^^BED1", pid: "9434765918", equipment: "MON-1", at: at(6), values: []float64{95, 71}}, "AA", "", 2, "invalid NHS number: quarantined"},
		{oruMsg{id: "N-9", pv1: "ICU^^BED1", equipment: "MON-2", at: at(7), values: []float64{94}}, "AE", mllp.CondUnknownKey, 0, "OBX-18 and PV1-3 name two beds"},
		{oruMsg{id: "N-10", pv1: "ICU^^BED3", pid: "4010232137", equipment: "MON-3", at: at(8), values: []float64{93, 88, 20}, version: "2.3"}, "AA", "", 3, "v2.3, empty bed: forwarded unassociated"},
	}
	msgs := make([]string, len(cases))
	want := 0
	for i, c := range cases {
		msgs[i] = c.msg.text()
		want += c.stored
	}
	acks := sendWithNode(t, cfg.MLLP.Listen, msgs)
	if len(acks) != len(cases) {
		t.Fatalf("%d acknowledgements for %d messages: %+v", len(acks), len(cases), acks)
	}
	count := map[string]int{}
	for i, c := range cases {
		a := acks[i]
		count[a.Code]++
		// node-hl7-client reads ERR-3.1 of the 2.5+ layout; for 2.3 and 2.4
		// the condition is in ERR-1, which it does not parse the same way.
		if a.Code != c.code || a.ID != c.msg.id || (c.msg.version != "2.3" && a.Cond != c.cond) {
			t.Errorf("%s (%s): ACK %s %q ERR %q, want %s %q ERR %q", c.msg.id, c.why, a.Code, a.ID, a.Cond, c.code, c.msg.id, c.cond)
		}
	}
	n, twice := e.stopWhenDelivered(t, want, cancel, done)
	if n != want || twice {
		t.Fatalf("delivered %d distinct observations (some twice: %v), want %d exactly once", n, twice, want)
	}
	if r := e.reasons(); r[gateway.ReasonPatientMismatch] != 4 {
		t.Errorf("quarantined %v, want 4 patient-mismatch", r)
	}
	e.mu.Lock()
	if e.patients["bed1"] != "9434765919" || e.patients["bed3"] != "" {
		t.Errorf("patients filed against %v", e.patients)
	}
	e.mu.Unlock()
	t.Logf("node-hl7-client: %d messages sent, AA %d, AE %d, AR %d; %d observations delivered exactly once",
		len(cases), count["AA"], count["AE"], count["AR"], n)
}

// rawClient speaks MLLP over a plain TCP connection, for input no HL7
// library would send.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	rd   *mllp.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, conn: c, rd: mllp.NewReader(bufio.NewReader(c), 0)}
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// ack reads one acknowledgement: MSA-1, MSA-2 and ERR-3.1.
func (c *rawClient) ack(within time.Duration) (ackResult, error) {
	c.conn.SetReadDeadline(time.Now().Add(within))
	raw, err := c.rd.Next()
	if err != nil {
		return ackResult{}, err
	}
	m, err := hl7v2.Parse(raw)
	if err != nil {
		return ackResult{}, err
	}
	msa, _ := m.First("MSA")
	r := ackResult{Code: msa.C(1, 1), ID: msa.C(2, 1)}
	if e, ok := m.First("ERR"); ok {
		r.Cond = e.C(3, 1)
	}
	return r, nil
}

func (c *rawClient) expect(what string, want ackResult) {
	c.t.Helper()
	got, err := c.ack(30 * time.Second)
	if err != nil || got != want {
		c.t.Fatalf("%s: ACK %+v (%v), want %+v", what, got, err, want)
	}
}

// TestMLLPMalformedInput: a running gateway answers each kind of bad
// input correctly, and every value of every message it acknowledged AA
// reaches mosquitto exactly once, also when the sender hung up before the
// ACK and sent the message again.
func TestMLLPMalformedInput(t *testing.T) {
	broker := brokertest.Start(t, "")
	e := subscribeEPR(t, broker.URL())
	cfg := hl7Config(t, broker.URL(), config.PatientFromBed)
	ctx, cancel := context.WithCancel(context.Background())
	done := runGateway(t, ctx, cfg)
	waitListening(t, cfg.MLLP.Listen)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	good := func(id string, s int, values ...float64) []byte {
		return []byte(oruMsg{id: id, pv1: "ICU^^BED1", equipment: "MON-1", at: t0.Add(time.Duration(s) * time.Second), values: values}.text())
	}
	c := dialRaw(t, cfg.MLLP.Listen)
	sent, want := 0, 0
	count := map[string]int{}
	expect := func(what string, r ackResult, stored int) {
		t.Helper()
		c.expect(what, r)
		sent++
		count[r.Code]++
		want += stored
	}

	c.write(mllp.Frame(good("G-1", 0, 97, 70)))
	expect("good", ackResult{"AA", "G-1", ""}, 2)

	c.write(mllp.Frame([]byte("PID|1||9434765919^^^NHS^NH\rOBX|1|NM|150456^^MDC||97\r")))
	expect("no MSH", ackResult{"AR", "", mllp.CondSegmentSequence}, 0)

	c.write(mllp.Frame([]byte(strings.Replace(string(good("G-X", 1, 97)), "MSH|^~\\&|", "MSH^~\\&|", 1))))
	expect("wrong field separator", ackResult{"AR", "", mllp.CondDataType}, 0)

	big := append(good("BIG-1", 2, 97), strings.Repeat("NTE|1||"+strings.Repeat("x", 1000)+"\r", 10<<10)...)
	c.write(mllp.Frame(big))
	expect(fmt.Sprintf("a %d MB message", len(big)>>20), ackResult{"AR", "BIG-1", mllp.CondApplicationError}, 0)

	// Split across TCP reads: the first part gets no answer, the rest does.
	split := mllp.Frame(good("G-2", 3, 96, 71))
	c.write(split[:40])
	if r, err := c.ack(300 * time.Millisecond); err == nil {
		t.Fatalf("answered %+v before the message was complete", r)
	}
	c.write(split[40:100])
	c.write(split[100:])
	expect("split across reads", ackResult{"AA", "G-2", ""}, 2)

	c.write(append(mllp.Frame(good("G-3", 4, 95, 72)), mllp.Frame(good("G-4", 5, 94, 73, 15))...))
	expect("two in one read (first)", ackResult{"AA", "G-3", ""}, 2)
	expect("two in one read (second)", ackResult{"AA", "G-4", ""}, 3)

	// The sender hangs up before the ACK, then sends the message again.
	gone := dialRaw(t, cfg.MLLP.Listen)
	gone.write(mllp.Frame(good("G-5", 6, 93, 74)))
	gone.conn.Close()
	sent++
	c.write(mllp.Frame(good("G-5", 6, 93, 74)))
	expect("resent after hanging up", ackResult{"AA", "G-5", ""}, 2)

	n, twice := e.stopWhenDelivered(t, want, cancel, done)
	if n != want || twice || len(e.reasons()) != 0 {
		t.Fatalf("delivered %d (twice: %v, quarantined %v), want %d exactly once, none quarantined", n, twice, e.reasons(), want)
	}
	t.Logf("raw MLLP: %d messages sent, AA %d, AE %d, AR %d (one sender hung up before its ACK); %d observations delivered exactly once",
		sent, count["AA"], count["AE"], count["AR"], n)
}

// TestMLLPDiskFull: a message the outbox refuses for space is answered AE,
// so that its sender keeps it, never AA; sent again once there is room, it
// is answered AA and its values reach the EPR once.
func TestMLLPDiskFull(t *testing.T) {
	mnt := tmpfstest.Mount(t, "8m")
	broker := brokertest.Start(t, "")
	e := subscribeEPR(t, broker.URL())
	w := watch(t, broker.URL())
	cfg := hl7Config(t, broker.URL(), config.PatientFromBed)
	cfg.Gateway.DataDir = mnt
	ctx, cancel := context.WithCancel(context.Background())
	done := runGateway(t, ctx, cfg)
	waitListening(t, cfg.MLLP.Listen)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	msg := func(id string, s int) []byte {
		return mllp.Frame([]byte(oruMsg{id: id, pv1: "ICU^^BED1", equipment: "MON-1", at: t0.Add(time.Duration(s) * time.Second), values: []float64{97, 70}}.text()))
	}
	c := dialRaw(t, cfg.MLLP.Listen)
	c.write(msg("D-0", 0))
	c.expect("with room", ackResult{"AA", "D-0", ""})
	stored := 1

	// The outbox gives up its reserve file when the disk fills, so the
	// disk may have to be filled more than once before it refuses.
	var refused string
	for i := 1; i <= 4 && refused == ""; i++ {
		tmpfstest.Fill(t, filepath.Join(mnt, fmt.Sprintf("filler-%d", i)))
		id := fmt.Sprintf("D-%d", i)
		c.write(msg(id, i))
		r, err := c.ack(30 * time.Second)
		switch {
		case err != nil:
			t.Fatalf("%s on a full disk: %v", id, err)
		case r == ackResult{"AA", id, ""}:
			stored++
		case r == ackResult{"AE", id, mllp.CondApplicationError}:
			refused = id
		default:
			t.Fatalf("%s on a full disk: ACK %+v", id, r)
		}
	}
	if refused == "" {
		t.Fatal("no message was refused with the disk filled four times")
	}
	fillers, _ := filepath.Glob(filepath.Join(mnt, "filler-*"))
	for _, f := range fillers {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(refused, "D-"))
	c.write(msg(refused, i))
	c.expect("sent again with room", ackResult{"AA", refused, ""})
	stored++
	// The status topic counts the answers.
	waitUntil(t, "the status topic to count the acknowledgements", 20*time.Second, func() bool {
		st, _ := w.get()
		return st.MLLP != nil && st.MLLP.AA == int64(stored) && st.MLLP.AE == 1
	})
	n, twice := e.stopWhenDelivered(t, 2*stored, cancel, done)
	if n != 2*stored || twice {
		t.Fatalf("EPR received %d values (twice: %v), want the %d values of the %d messages acknowledged AA, each once", n, twice, 2*stored, stored)
	}
	t.Logf("%d messages acknowledged AA, %s answered AE on the full disk and AA when sent again; %d values delivered once", stored, refused, n)
}

// TestMLLPBedDeviceStatus: an HL7 bed reports its device link as a serial
// bed does: "listening" until its first accepted message, then
// "connected" with the sender's equipment as its device, and
// "disconnected" when the gateway stops.
func TestMLLPBedDeviceStatus(t *testing.T) {
	broker := brokertest.Start(t, "")
	var mu sync.Mutex
	var states []gateway.DeviceStatus
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("device-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	tok := c.Subscribe("bedgate/v1/s/w/bed2/device", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		var st gateway.DeviceStatus
		if err := json.Unmarshal(m.Payload(), &st); err != nil {
			t.Errorf("device status %q: %v", m.Payload(), err)
			return
		}
		mu.Lock()
		states = append(states, st)
		mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	last := func() (gateway.DeviceStatus, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(states) == 0 {
			return gateway.DeviceStatus{}, false
		}
		return states[len(states)-1], true
	}
	cfg := hl7Config(t, broker.URL(), config.PatientFromBed)
	ctx, cancel := context.WithCancel(context.Background())
	done := runGateway(t, ctx, cfg)
	waitUntil(t, "bed2 listening", 20*time.Second, func() bool {
		st, ok := last()
		return ok && st.State == "listening"
	})
	if st, _ := last(); st.Driver != config.HL7Driver || st.Port != "obx18:MON-2" {
		t.Fatalf("listening status %+v: want driver hl7, port obx18:MON-2", st)
	}
	waitListening(t, cfg.MLLP.Listen)
	raw := dialRaw(t, cfg.MLLP.Listen)
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	raw.write(mllp.Frame([]byte(oruMsg{id: "S-1", pv1: "ICU^^BED2", equipment: "MON-2", at: at, values: []float64{97, 70}}.text())))
	raw.expect("bed2's first message", ackResult{"AA", "S-1", ""})
	waitUntil(t, "bed2 connected", 20*time.Second, func() bool {
		st, ok := last()
		return ok && st.State == "connected"
	})
	if st, _ := last(); st.Device.Serial != "MON-2" || st.Device.Driver != config.HL7Driver {
		t.Fatalf("connected status %+v: want the sender's equipment MON-2 as the device", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	waitUntil(t, "bed2 disconnected", 20*time.Second, func() bool {
		st, ok := last()
		return ok && st.State == "disconnected" && st.Reason == "gateway stopping"
	})
}
