package gateway_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/simulators"
	simintellivue "github.com/bedgate/bedgate/simulators/intellivue"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// The tests in this file check every reading the EPR receives against the
// admission timeline the test published: no reading may be filed against a
// patient who was not in the bed at its time.

// stay is one entry of the timeline a test publishes: from At, NHS is in the
// bed ("" for nobody).
type stay struct {
	At  time.Time
	NHS string
}

// eprFeed is the EPR's side of a test: it publishes admission events and
// nurse entries, and keeps the timeline it published.
type eprFeed struct {
	t      *testing.T
	client pahomqtt.Client
	bed    string

	mu       sync.Mutex
	timeline []stay
}

func newEPRFeed(t *testing.T, url, bed string) *eprFeed {
	t.Helper()
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("epr-feed-" + t.Name()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR feed: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return &eprFeed{t: t, client: c, bed: bed}
}

// event publishes one admission event, retained, and records its effect on
// the timeline.
func (f *eprFeed) event(kind assoc.Event, nhs string, at time.Time, id string) {
	f.t.Helper()
	// The EPR's times in milliseconds, as the Observations' issued times:
	// a reading and an event in one millisecond compare alike on both sides.
	at = at.Truncate(time.Millisecond)
	a := assoc.Admission{Event: kind, Patient: record.Patient{NHSNumber: nhs}, Time: at.UTC(), ID: id}
	payload, err := json.Marshal(a)
	if err != nil {
		f.t.Fatal(err)
	}
	f.publish(assoc.AdmissionTopic("s", "w", f.bed), payload)
	f.mu.Lock()
	defer f.mu.Unlock()
	in := nhs
	if !kind.Opens() {
		in = ""
	}
	f.timeline = append(f.timeline, stay{At: at, NHS: in})
	sort.SliceStable(f.timeline, func(i, j int) bool { return f.timeline[i].At.Before(f.timeline[j].At) })
}

func (f *eprFeed) publish(topic string, payload []byte) {
	f.t.Helper()
	if tok := f.client.Publish(topic, 1, true, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		f.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// nurse publishes a nurse entry for nhs, retained.
func (f *eprFeed) nurse(nhs, acvpu, breathing string, at time.Time, id string) {
	f.t.Helper()
	f.publish("bedgate/v1/s/w/"+f.bed+"/nurse", []byte(fmt.Sprintf(`{"nhs_number":%q,"acvpu":%q,"air_or_oxygen":%q,"time":%q,"id":%q}`,
		nhs, acvpu, breathing, at.UTC().Format(time.RFC3339Nano), id)))
}

// patientAt is who the published timeline puts in the bed at t.
func (f *eprFeed) patientAt(t time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	who := ""
	for _, s := range f.timeline {
		if s.At.After(t) {
			break
		}
		who = s.NHS
	}
	return who
}

// episodicCodes are the codes of the episodic measurements the tests'
// monitors send (the IntelliVue's cuff pressure: the LOINC panel and
// components, the MDC codes in HL7 OBX-3), which the gateway binds to a
// patient at the time the device measured them.
var episodicCodes = map[string]bool{
	"85354-9": true, "8480-6": true, "8462-4": true, "8478-0": true,
	"150020": true, "150021": true, "150022": true, "150023": true,
}

// filedObs is one Observation as the EPR received it.
type filedObs struct {
	ID     string // identifier value
	Status string
	Issued time.Time // the gateway's receive time of the reading
	// Read is the time the gateway binds the reading to a patient at
	// (assoc.ReadingTime): Issued, or for an episodic measurement (a cuff
	// pressure: episodicCodes) the device's time of the measurement.
	Read    time.Time
	Subject string // NHS number, or "" for a Location subject
	Code    string // first coding's code
	Note    string // the notes' text, joined
	// DerivedFrom are the identifier values of the Observations a NEWS2
	// score names as its inputs.
	DerivedFrom []string
}

// eprInbox collects the Observations published on a bed's topic.
type eprInbox struct {
	mu  sync.Mutex
	obs []filedObs
}

func newEPRInbox(t *testing.T, url, bed string) *eprInbox {
	t.Helper()
	in := &eprInbox{}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("epr-inbox-" + t.Name()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetCleanSession(false).SetOrderMatters(true))
	handler := func(_ pahomqtt.Client, m pahomqtt.Message) {
		obs, err := parseFiled(m.Payload())
		if err != nil {
			t.Errorf("obs payload: %v", err)
			return
		}
		in.mu.Lock()
		in.obs = append(in.obs, obs...)
		in.mu.Unlock()
	}
	c.AddRoute("bedgate/v1/s/w/"+bed+"/obs", handler)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR inbox: %v", tok.Error())
	}
	if tok := c.Subscribe("bedgate/v1/s/w/"+bed+"/obs", 1, handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR inbox subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return in
}

func parseFiled(payload []byte) ([]filedObs, error) {
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Status       string `json:"status"`
				Issued       string `json:"issued"`
				Effective    string `json:"effectiveDateTime"`
				Identifier   []struct {
					Value string `json:"value"`
				} `json:"identifier"`
				Code struct {
					Coding []struct {
						Code string `json:"code"`
					} `json:"coding"`
				} `json:"code"`
				Note []struct {
					Text string `json:"text"`
				} `json:"note"`
				DerivedFrom []struct {
					Identifier struct {
						Value string `json:"value"`
					} `json:"identifier"`
				} `json:"derivedFrom"`
				Subject struct {
					Identifier *struct {
						System string `json:"system"`
						Value  string `json:"value"`
					} `json:"identifier"`
				} `json:"subject"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(payload, &b); err != nil {
		return nil, err
	}
	var out []filedObs
	for _, e := range b.Entry {
		r := e.Resource
		if r.ResourceType != "Observation" {
			continue
		}
		o := filedObs{Status: r.Status}
		if len(r.Identifier) > 0 {
			o.ID = r.Identifier[0].Value
		}
		if len(r.Code.Coding) > 0 {
			o.Code = r.Code.Coding[0].Code
		}
		if r.Subject.Identifier != nil && r.Subject.Identifier.System == "https://fhir.nhs.uk/Id/nhs-number" {
			o.Subject = r.Subject.Identifier.Value
		}
		for _, n := range r.Note {
			o.Note += n.Text + "\n"
		}
		for _, d := range r.DerivedFrom {
			o.DerivedFrom = append(o.DerivedFrom, d.Identifier.Value)
		}
		issued := cmp.Or(r.Issued, r.Effective) // issued is left out when it equals effective
		t, err := time.Parse(time.RFC3339Nano, issued)
		if err != nil {
			return nil, fmt.Errorf("observation %s: issued %q: %w", o.ID, issued, err)
		}
		o.Issued, o.Read = t, t
		if episodicCodes[o.Code] {
			eff, err := time.Parse(time.RFC3339Nano, r.Effective)
			if err != nil {
				return nil, fmt.Errorf("observation %s: effectiveDateTime %q: %w", o.ID, r.Effective, err)
			}
			if eff.Before(t) {
				o.Read = eff
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func (in *eprInbox) snapshot() []filedObs {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]filedObs(nil), in.obs...)
}

// count returns how many Observations were filed against nhs ("" for none).
func (in *eprInbox) count(nhs string) int {
	n := 0
	for _, o := range in.snapshot() {
		if o.Subject == nhs && o.Status != "entered-in-error" {
			n++
		}
	}
	return n
}

// scores returns the NEWS2 scores filed against nhs.
func (in *eprInbox) scores(nhs string) []filedObs {
	var out []filedObs
	for _, o := range in.snapshot() {
		if o.Code == news2ScoreCode && o.Subject == nhs && o.Status != "entered-in-error" {
			out = append(out, o)
		}
	}
	return out
}

// news2ScoreCode is the SNOMED CT code of a NEWS2 total score.
const news2ScoreCode = "1104051000000101"

// tally is what a scenario did, for its log line.
type tally struct {
	filed, unassociated, corrected int
}

// checkSubjects fails the test for every Observation filed against a patient
// the timeline does not put in the bed at its time and not struck out
// (entered-in-error) later, and returns the scenario's counts.
func checkSubjects(t *testing.T, f *eprFeed, in *eprInbox) tally {
	t.Helper()
	n, wrong := subjects(f, in.snapshot())
	for _, w := range wrong {
		t.Error(w)
	}
	return n
}

// stopFiledRight waits until every filing the inbox holds is right
// (waitFiledRight), then stops the gateway: cancel ends its context, done
// gives its Run's error.
func stopFiledRight(t *testing.T, f *eprFeed, in *eprInbox, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	waitFiledRight(t, f, in)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
}

// waitFiledRight waits, before a test stops its gateway, until no
// Observation the inbox holds is filed against a patient the timeline does
// not put in the bed at its time and not struck out: a correction is
// published after the readings it corrects, and may be on its way. At the
// deadline it returns, and checkSubjects reports what is still wrong.
func waitFiledRight(t *testing.T, f *eprFeed, in *eprInbox) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, wrong := subjects(f, in.snapshot())
		if len(wrong) == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// subjects counts the Observations all and describes each filed against a
// patient the timeline does not put in the bed at its time and not struck
// out.
func subjects(f *eprFeed, all []filedObs) (n tally, wrong []string) {
	struck := map[string]map[string]bool{} // id → subjects struck out
	for _, o := range all {
		if o.Status == "entered-in-error" {
			if struck[o.ID] == nil {
				struck[o.ID] = map[string]bool{}
			}
			struck[o.ID][o.Subject] = true
		}
	}
	for _, o := range all {
		switch {
		case o.Status == "entered-in-error":
			n.corrected++
			continue
		case o.Subject == "":
			n.unassociated++
		default:
			n.filed++
		}
		if o.Subject == "" || struck[o.ID][o.Subject] {
			continue
		}
		if want := f.patientAt(o.Read); o.Subject != want {
			wrong = append(wrong, fmt.Sprintf("observation %s (code %s) read at %s filed against %s; the bed then held %q",
				o.ID, o.Code, o.Read.Format(time.RFC3339Nano), o.Subject, want))
		}
	}
	return n, wrong
}

const (
	nhsP1 = "9434765919"
	nhsP2 = "9990000018"
)

// TestFloodOfAdmissionEvents: an EPR re-sending with fresh ids puts 2,000
// admission events of P1 on one bed, then admits P2. P2's admission takes
// effect (the register prunes its history instead of refusing new events),
// and every reading is filed against the patient in the bed at its time.
func TestFloodOfAdmissionEvents(t *testing.T) {
	broker := brokertest.Start(t, "")
	feed := newEPRFeed(t, broker.URL(), "bed1")
	inbox := newEPRInbox(t, broker.URL(), "bed1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	done := runGateway(t, ctx, testConfig(t, t.TempDir(), broker.URL(), port, 16<<20))

	start := time.Now().Add(-time.Hour)
	for i := 0; i < 2000; i++ {
		feed.event(assoc.Admit, nhsP1, start.Add(time.Duration(i)*time.Second), fmt.Sprintf("resend-%d", i))
	}
	waitUntil(t, "readings filed against P1", 30*time.Second, func() bool { return inbox.count(nhsP1) > 3 })
	// Stamped ahead: the admission arrives before its time, so no reading
	// is decided before the gateway knows of it (the watermark's job).
	feed.event(assoc.Admit, nhsP2, time.Now().Add(2*time.Second), "p2")
	waitUntil(t, "readings filed against P2 after 2,000 events", 30*time.Second, func() bool { return inbox.count(nhsP2) > 3 })
	stopFiledRight(t, feed, inbox, cancel, done)
	n := checkSubjects(t, feed, inbox)
	t.Logf("filed %d, unassociated %d, corrected %d", n.filed, n.unassociated, n.corrected)
}

// startIntelliVue runs a simulated IntelliVue (stable patient, real clock)
// on a PTY until ctx ends, and returns the PTY's path. Its cuff measures
// the blood pressure every 10 s, so that a patient admitted during a test
// soon has a pressure of their own for NEWS2 (the one measured before is
// not theirs).
func startIntelliVue(t *testing.T, ctx context.Context) string {
	t.Helper()
	p := simtest.OpenPTY(t)
	dev, err := simintellivue.NewDevice(simulators.Options{Scenario: "stable", Now: func() time.Time { return time.Now().UTC() }},
		simintellivue.Config{NBPInterval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop := simtest.RunDevice(t, dev, p)
	context.AfterFunc(ctx, stop)
	return p.Path()
}

// TestNurseEntryOfPreviousPatient: a retained nurse entry for P1 (ACVPU V,
// on oxygen) is never applied to P2: not after P2's admission, not when the
// gateway restarts and the broker re-delivers it. P2's score uses P2's own
// entry only. At start-up, with P1's admission and entry retained, P1 gets
// a NEWS2 score (the entry is not dropped when the patient appears).
func TestNurseEntryOfPreviousPatient(t *testing.T) {
	broker := brokertest.Start(t, "")
	feed := newEPRFeed(t, broker.URL(), "bed1")
	inbox := newEPRInbox(t, broker.URL(), "bed1")
	feed.event(assoc.Admit, nhsP1, time.Now().Add(-10*time.Minute), "adt-p1")
	feed.nurse(nhsP1, "V", "oxygen", time.Now().Add(-time.Minute), "p1-round")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startIntelliVue(t, ctx)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
	cfg.Beds[0].Driver = "intellivue"
	runCtx, stopRun := context.WithCancel(ctx)
	done := runGateway(t, runCtx, cfg)
	waitUntil(t, "P1's NEWS2 score at start-up", 30*time.Second, func() bool { return len(inbox.scores(nhsP1)) > 0 })

	at := time.Now().Add(2 * time.Second)
	feed.event(assoc.Discharge, nhsP1, at, "adt-p1-out")
	feed.event(assoc.Admit, nhsP2, at, "adt-p2")
	waitUntil(t, "readings filed against P2", 30*time.Second, func() bool { return inbox.count(nhsP2) > 3 })
	// A restart: the broker re-delivers the retained entry of P1.
	stopRun()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	filedBefore := inbox.count(nhsP2)
	done = runGateway(t, ctx, cfg)
	waitUntil(t, "P2's readings after the restart", 30*time.Second, func() bool { return inbox.count(nhsP2) > filedBefore+10 })
	if s := inbox.scores(nhsP2); len(s) > 0 {
		t.Fatalf("P2 scored before any entry of P2's: %q", s[0].Note)
	}
	feed.nurse(nhsP2, "A", "air", time.Now(), "p2-round")
	waitUntil(t, "P2's NEWS2 score", 30*time.Second, func() bool { return len(inbox.scores(nhsP2)) > 0 })
	stopFiledRight(t, feed, inbox, cancel, done)
	for _, s := range inbox.scores(nhsP2) {
		if strings.Contains(s.Note, "p1-round") || !strings.Contains(s.Note, "p2-round") {
			t.Errorf("P2's score does not rest on P2's own entry: %q", s.Note)
		}
	}
	for _, s := range inbox.scores(nhsP1) {
		if !strings.Contains(s.Note, "p1-round") {
			t.Errorf("P1's score does not rest on P1's entry: %q", s.Note)
		}
	}
	n := checkSubjects(t, feed, inbox)
	t.Logf("filed %d, unassociated %d, corrected %d; NEWS2 scores P1 %d, P2 %d", n.filed, n.unassociated, n.corrected,
		len(inbox.scores(nhsP1)), len(inbox.scores(nhsP2)))
}

// readingsIn counts the distinct readings (issue times) of the inbox in
// [from, to), and how many of them were filed against a patient.
func (in *eprInbox) readingsIn(from, to time.Time) (taken, filed int) {
	seen := map[time.Time]bool{}
	for _, o := range in.snapshot() {
		if o.Code == news2ScoreCode || o.Status == "entered-in-error" || o.Issued.Before(from) || !o.Issued.Before(to) || seen[o.Issued] {
			continue
		}
		seen[o.Issued] = true
		taken++
		if o.Subject != "" {
			filed++
		}
	}
	return taken, filed
}

// TestPartition: a TCP proxy between gateway and broker is cut; during the
// cut the EPR discharges P1 and, later, admits P2; the link heals. The
// readings taken during the cut are held until the feed is known complete
// up to their time (the broker kept the gateway's session and queued the
// events), then filed against whoever was in the bed when each was read:
// P1 before the discharge, nobody between, P2 after the admission.
func TestPartition(t *testing.T) {
	broker := brokertest.Start(t, "")
	proxy := brokertest.NewProxy(t, broker.URL())
	feed := newEPRFeed(t, broker.URL(), "bed1")
	inbox := newEPRInbox(t, broker.URL(), "bed1")
	feed.event(assoc.Admit, nhsP1, time.Now().Add(-time.Minute), "adt-p1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	done := runGateway(t, ctx, testConfig(t, t.TempDir(), proxy.URL(), port, 16<<20))
	waitUntil(t, "readings filed against P1", 30*time.Second, func() bool { return inbox.count(nhsP1) > 5 })

	cutAt, discharged, admitted, healed := cutAndReadmit(t, proxy, feed, 2*time.Second)
	waitUntil(t, "P2's readings after the heal", 60*time.Second, func() bool {
		taken, _ := inbox.readingsIn(healed, time.Now())
		return taken > 5
	})
	stopFiledRight(t, feed, inbox, cancel, done)
	n := checkSubjects(t, feed, inbox)
	taken, filed := inbox.readingsIn(cutAt, healed)
	if taken == 0 {
		t.Fatal("no reading taken during the cut reached the EPR")
	}
	if p1, _ := inbox.readingsIn(cutAt, discharged); p1 == 0 {
		t.Error("no reading between the cut and the discharge")
	}
	if none, filed := inbox.readingsIn(discharged.Add(100*time.Millisecond), admitted); none == 0 || filed != 0 {
		t.Errorf("between the discharge and the admission: %d readings, %d filed against a patient; want some, none filed", none, filed)
	}
	t.Logf("readings taken during the %v cut %d (all held), filed against a patient %d; over the test: filed %d, unassociated %d, corrected %d observations",
		healed.Sub(cutAt).Round(time.Second), taken, filed, n.filed, n.unassociated, n.corrected)
}

// TestFeedSilentBeforeItsBarrier: on the admission feed's first
// connection nothing reaches the gateway after the broker's first SUBACK:
// neither the retained admission of P1 nor the answer to the barrier
// subscription that says the retained admissions are in; its reconnects
// are refused until the test heals the link. The publisher's connection
// stays up. The feed was never known complete: past the barrier's 30 s
// and the grace, the readings are still held and nothing is published;
// once the feed connects, they are filed against P1, none without a
// patient. (Before, the feed was marked up when the barrier timed out, and
// the readings were filed without P1.)
func TestFeedSilentBeforeItsBarrier(t *testing.T) {
	broker := brokertest.Start(t, "")
	proxy := brokertest.NewProxy(t, broker.URL())
	feed := newEPRFeed(t, broker.URL(), "bed1")
	inbox := newEPRInbox(t, broker.URL(), "bed1")
	status := watch(t, broker.URL())
	feed.event(assoc.Admit, nhsP1, time.Now().Add(-time.Minute), "adt-p1")
	proxy.SilenceAfterSuback(gatewayFeedSuffix)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := time.Now()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	done := runGateway(t, ctx, testConfig(t, t.TempDir(), proxy.URL(), port, 16<<20))
	const barrierTimeout = 30 * time.Second // the gateway's wait for the barrier's SUBACK
	waitUntil(t, "readings held past the barrier's timeout and the grace", 90*time.Second, func() bool {
		st, _ := status.get()
		return time.Since(started) > barrierTimeout+assoc.DefaultGrace+3*time.Second && st.Held > 50
	})
	if _, published := status.get(); published != 0 {
		t.Fatalf("%d messages on the bed's observation topic while the admission feed was never complete", published)
	}
	healed := time.Now()
	proxy.Heal()
	waitUntil(t, "the held readings filed against P1", 60*time.Second, func() bool {
		taken, filed := inbox.readingsIn(started, healed)
		return taken > 50 && filed == taken
	})
	stopFiledRight(t, feed, inbox, cancel, done)
	n := checkSubjects(t, feed, inbox)
	if n.unassociated > 0 {
		t.Errorf("%d observations filed without a patient although P1's retained admission covers them", n.unassociated)
	}
}

// gatewayFeedSuffix ends the client id of the gateway's admission feed
// connection (its mqtt.client_id plus "-feed").
const gatewayFeedSuffix = "-feed"

// cutAndReadmit cuts the link through proxy; a second into the cut the EPR
// discharges P1, a second later it admits P2, and after p2For of P2 the
// link heals. It returns when each happened (the events' times as the EPR
// sent them).
func cutAndReadmit(t *testing.T, proxy *brokertest.Proxy, feed *eprFeed, p2For time.Duration) (cutAt, discharged, admitted, healed time.Time) {
	t.Helper()
	cutAt = time.Now()
	proxy.Cut()
	waitUntil(t, "a second of the cut", 5*time.Second, func() bool { return time.Since(cutAt) > time.Second })
	discharged = time.Now().Truncate(time.Millisecond)
	feed.event(assoc.Discharge, nhsP1, discharged, "adt-p1-out")
	waitUntil(t, "a second without a patient", 5*time.Second, func() bool { return time.Since(discharged) > time.Second })
	admitted = time.Now().Truncate(time.Millisecond)
	feed.event(assoc.Admit, nhsP2, admitted, "adt-p2")
	waitUntil(t, "P2 in the bed during the cut", p2For+5*time.Second, func() bool { return time.Since(admitted) > p2For })
	healed = time.Now()
	proxy.Heal()
	return cutAt, discharged, admitted, healed
}

// TestStartWithRetainedAdmission: a retained admission of P1 is on the
// broker when the gateway starts, with the broker reachable and with it
// unreachable at start (held until it is): every reading is filed against
// P1, none without a patient.
func TestStartWithRetainedAdmission(t *testing.T) {
	for _, brokerDown := range []bool{false, true} {
		t.Run(fmt.Sprintf("broker down at start %v", brokerDown), func(t *testing.T) {
			broker := brokertest.Start(t, "")
			proxy := brokertest.NewProxy(t, broker.URL())
			feed := newEPRFeed(t, broker.URL(), "bed1")
			inbox := newEPRInbox(t, broker.URL(), "bed1")
			feed.event(assoc.Admit, nhsP1, time.Now().Add(-time.Minute), "adt-p1")
			if brokerDown {
				proxy.Cut()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := time.Now()
			port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
			cfg := testConfig(t, t.TempDir(), proxy.URL(), port, 16<<20)
			cfg.MQTT.ClientID = "gw-start"
			done := runGateway(t, ctx, cfg)
			if brokerDown {
				waitUntil(t, "three seconds of readings with the broker down", 10*time.Second, func() bool { return time.Since(started) > 3*time.Second })
				proxy.Heal()
			}
			waitUntil(t, "readings filed against P1", 60*time.Second, func() bool { return inbox.count(nhsP1) > 60 })
			stopFiledRight(t, feed, inbox, cancel, done)
			n := checkSubjects(t, feed, inbox)
			if n.unassociated > 0 {
				t.Errorf("%d observations filed without a patient although a retained admission covers them", n.unassociated)
			}
			taken, filed := inbox.readingsIn(started, time.Now())
			t.Logf("readings taken %d, filed against P1 %d; observations filed %d, unassociated %d, corrected %d", taken, filed, n.filed, n.unassociated, n.corrected)
		})
	}
}

// TestRegisterPersists: the register survives a restart. The gateway learns
// of P1's admission, stops; the broker then loses the retained message (it
// is cleared); after the restart the readings are still filed against P1.
func TestRegisterPersists(t *testing.T) {
	broker := brokertest.Start(t, "")
	feed := newEPRFeed(t, broker.URL(), "bed1")
	inbox := newEPRInbox(t, broker.URL(), "bed1")
	feed.event(assoc.Admit, nhsP1, time.Now().Add(-time.Minute), "adt-p1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
	runCtx, stop := context.WithCancel(ctx)
	done := runGateway(t, runCtx, cfg)
	waitUntil(t, "readings filed against P1", 30*time.Second, func() bool { return inbox.count(nhsP1) > 5 })
	stop()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	feed.publish(assoc.AdmissionTopic("s", "w", "bed1"), nil) // the broker forgets
	before := inbox.count(nhsP1)
	done = runGateway(t, ctx, cfg)
	waitUntil(t, "readings filed against P1 after the restart", 30*time.Second, func() bool { return inbox.count(nhsP1) > before+30 })
	stopFiledRight(t, feed, inbox, cancel, done)
	n := checkSubjects(t, feed, inbox)
	if n.unassociated > 0 {
		t.Errorf("%d observations without a patient: the register did not persist", n.unassociated)
	}
	t.Logf("observations filed %d, unassociated %d, corrected %d", n.filed, n.unassociated, n.corrected)
}
