package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/conformancetest"
)

// The tests in this file publish admission events late (back-dated, or
// held up by a partition longer than association.max_wait) after readings
// were filed, and check that the gateway corrects every reading filed for
// a subject the published timeline does not put in the bed: each such
// filing struck out (FHIR entered-in-error, HL7 OBX-11 W) and the reading
// filed again for the right subject, readings before the event untouched.

// rawInbox keeps every payload published on a bed's observation topic, in
// arrival order, decoded by format into filedObs.
type rawInbox struct {
	format string
	mu     sync.Mutex
	raw    [][]byte
	obs    []filedObs
}

func newRawInbox(t *testing.T, url, bed, format string) *rawInbox {
	t.Helper()
	in := &rawInbox{format: format}
	handler := func(_ pahomqtt.Client, m pahomqtt.Message) {
		parse := parseFiled
		if format == "hl7v2" {
			parse = parseHL7Filed
		}
		obs, err := parse(m.Payload())
		if err != nil {
			t.Errorf("obs payload: %v", err)
			return
		}
		in.mu.Lock()
		in.raw = append(in.raw, bytes.Clone(m.Payload()))
		in.obs = append(in.obs, obs...)
		in.mu.Unlock()
	}
	topic := "bedgate/v1/s/w/" + bed + "/obs"
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("epr-raw-" + t.Name()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetCleanSession(false).SetOrderMatters(true))
	c.AddRoute(topic, handler)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR inbox: %v", tok.Error())
	}
	if tok := c.Subscribe(topic, 1, handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR inbox subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return in
}

func (in *rawInbox) inbox() *eprInbox {
	in.mu.Lock()
	defer in.mu.Unlock()
	return &eprInbox{obs: append([]filedObs(nil), in.obs...)}
}

// parseHL7Filed reads an ORU^R01 as filedObs: OBX-21 the id, OBX-11 W as
// entered-in-error, PID-3 the NHS number, MSH-7 (the gateway's receive
// time) as issued, and as read unless the row is an episodic measurement
// (episodicCodes), read at OBR-7 (the observation time).
func parseHL7Filed(msg []byte) ([]filedObs, error) {
	var issued, observed time.Time
	var subject string
	var out []filedObs
	for _, seg := range strings.Split(string(msg), "\r") {
		f := strings.Split(seg, "|")
		switch {
		case f[0] == "MSH" && len(f) > 6:
			t, err := time.Parse("20060102150405.000-0700", f[6]) // MSH-7: field 1 is the separator
			if err != nil {
				return nil, err
			}
			issued, observed = t, t
		case f[0] == "OBR" && len(f) > 7:
			t, err := time.Parse("20060102150405.000-0700", f[7])
			if err != nil {
				return nil, fmt.Errorf("OBR-7 %q: %w", f[7], err)
			}
			observed = issued
			if t.Before(issued) {
				observed = t
			}
		case f[0] == "PID" && len(f) > 3:
			for _, rep := range strings.Split(f[3], "~") {
				if c := strings.Split(rep, "^"); len(c) > 4 && c[3] == "NHS" {
					subject = c[0]
				}
			}
		case f[0] == "OBX" && len(f) > 21 && f[21] != "":
			status := "final"
			if f[11] == "W" {
				status = "entered-in-error"
			}
			code, read := strings.Split(f[3], "^")[0], issued
			if episodicCodes[code] {
				read = observed
			}
			out = append(out, filedObs{ID: f[21], Status: status, Issued: issued, Read: read, Subject: subject, Code: code})
		}
	}
	return out, nil
}

// corrections returns the payloads that strike out a filing and, for HL7,
// the refilings that follow them, de-duplicated.
func (in *rawInbox) corrections() [][]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	seen := map[string]bool{}
	var out [][]byte
	for i, p := range in.raw {
		wrong := bytes.Contains(p, []byte(`"entered-in-error"`)) || bytes.Contains(p, []byte("|W|"))
		if in.format == "hl7v2" && !wrong && i > 0 && bytes.Contains(in.raw[i-1], []byte("|W|")) {
			wrong = true // the corrected message after a W
		}
		if wrong && !seen[string(p)] {
			seen[string(p)] = true
			out = append(out, p)
		}
	}
	return out
}

// scenarioCounts is what one correction scenario did with the readings.
type scenarioCounts struct {
	taken, filedP1, corrected, refiled int
}

// check applies checkSubjects and checks the corrections: every
// observation filed against P1 at or after p1Gone struck out and filed
// again against whoever the timeline puts in the bed (unless nobody is and
// quarantined says the bed's policy quarantines), none read before
// untouched struck out.
func (in *rawInbox) check(t *testing.T, feed *eprFeed, untouched, p1Gone time.Time, quarantined bool) scenarioCounts {
	t.Helper()
	ib := in.inbox()
	checkSubjects(t, feed, ib)
	var c scenarioCounts
	struck := map[string]bool{}
	readings := map[time.Time]bool{}
	live := map[string]map[string]bool{} // issued+code → subjects filed and not struck
	for _, o := range ib.snapshot() {
		readings[o.Issued] = true
		if o.Status == "entered-in-error" {
			struck[o.ID+"/"+o.Subject] = true
			if o.Read.Before(untouched) {
				t.Errorf("observation %s read at %s, before %s, was struck out", o.ID, o.Read.Format(time.RFC3339Nano), untouched.Format(time.RFC3339Nano))
			}
		}
	}
	corrected := map[time.Time]bool{}
	for _, o := range ib.snapshot() {
		if o.Status == "entered-in-error" || struck[o.ID+"/"+o.Subject] {
			if o.Status != "entered-in-error" {
				corrected[o.Issued] = true
			}
			continue
		}
		key := o.Read.String() + "/" + o.Code
		if live[key] == nil {
			live[key] = map[string]bool{}
		}
		live[key][o.Subject] = true
	}
	for _, o := range ib.snapshot() {
		if o.Status == "entered-in-error" || o.Subject != nhsP1 || o.Read.Before(p1Gone) {
			continue
		}
		c.filedP1++
		if !struck[o.ID+"/"+o.Subject] {
			t.Errorf("observation %s read at %s, after the event, filed against P1 and not struck out", o.ID, o.Read.Format(time.RFC3339Nano))
		}
		want := feed.patientAt(o.Read)
		refiled := o.Code == news2ScoreCode || (want == "" && quarantined) // a score is not computed again
		if !refiled && !live[o.Read.String()+"/"+o.Code][want] {
			t.Errorf("observation %s read at %s: no refiling for %q", o.ID, o.Read.Format(time.RFC3339Nano), want)
		}
	}
	c.taken, c.corrected = len(readings), len(corrected)
	for _, subjects := range live {
		if subjects[nhsP2] {
			c.refiled++
		}
	}
	return c
}

// validateCorrections runs the conformance validator of the format over
// the correction payloads: 0 problems.
func (in *rawInbox) validateCorrections(t *testing.T) int {
	t.Helper()
	payloads := in.corrections()
	if len(payloads) == 0 {
		t.Fatal("no correction message was published")
	}
	path := filepath.Join(t.TempDir(), "corrections.jsonl")
	validator, sep := conformancetest.FHIR, []byte("\n")
	if in.format == "hl7v2" {
		path, validator, sep = strings.TrimSuffix(path, ".jsonl")+".hl7", conformancetest.HL7, []byte("\r\n")
	}
	if err := os.WriteFile(path, bytes.Join(payloads, sep), 0o644); err != nil {
		t.Fatal(err)
	}
	out, problems := conformancetest.Validate(t, validator, path)
	if problems != 0 {
		t.Errorf("%s found %d problems in the %d correction messages:\n%s", validator, problems, len(payloads), out)
	}
	return len(payloads)
}

// TestCorrectionOfBackDatedEvents: readings are filed against P1; the EPR
// then publishes a discharge of P1 and an admission of P2 back-dated to a
// time T0 some seconds before, after readings from T0 on were filed. Each
// reading from T0 on gets its P1 filing struck out and a filing for P2;
// none before T0 is touched. With a restart of the gateway between the
// filing and the late events (the ledger of filings persists), and in both
// formats.
func TestCorrectionOfBackDatedEvents(t *testing.T) {
	for _, tc := range []struct {
		format  string
		restart bool
		// quarantine: the bed's policy quarantines readings with nobody in
		// the bed, and the EPR discharges P1 without admitting P2.
		quarantine bool
	}{{"fhir", false, false}, {"hl7v2", false, false}, {"fhir", true, false}, {"hl7v2", true, false}, {"fhir", false, true}, {"hl7v2", false, true}} {
		name := tc.format
		if tc.restart {
			name += " restart between filing and event"
		}
		if tc.quarantine {
			name += " discharge only, quarantine policy"
		}
		t.Run(name, func(t *testing.T) {
			broker := brokertest.Start(t, "")
			feed := newEPRFeed(t, broker.URL(), "bed1")
			in := newRawInbox(t, broker.URL(), "bed1", tc.format)
			feed.event(assoc.Admit, nhsP1, time.Now().Add(-time.Minute), "adt-p1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
			cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
			cfg.Gateway.Format = tc.format
			cfg.Association.Grace = time.Second
			if tc.quarantine {
				cfg.Association.Policy = "quarantine"
			}
			quarantined := countNoPatient(t, broker.URL(), "bed1")
			runCtx, stop := context.WithCancel(ctx)
			done := runGateway(t, runCtx, cfg)
			waitUntil(t, "readings filed against P1", 30*time.Second, func() bool { return in.inbox().count(nhsP1) > 5 })
			t0 := time.Now().Truncate(time.Millisecond) // as the EPR feed sends it
			waitUntil(t, "two seconds of readings after T0 filed against P1", 30*time.Second, func() bool {
				taken, _ := in.inbox().readingsIn(t0.Add(2*time.Second), time.Now())
				return taken > 0
			})
			if tc.restart {
				stop()
				if err := <-done; err != nil {
					t.Fatalf("gateway.Run: %v", err)
				}
				runCtx, stop = context.WithCancel(ctx)
				done = runGateway(t, runCtx, cfg)
				restarted := time.Now()
				waitUntil(t, "readings after the restart", 30*time.Second, func() bool {
					taken, _ := in.inbox().readingsIn(restarted, time.Now())
					return taken > 5
				})
			}
			feed.event(assoc.Discharge, nhsP1, t0, "adt-p1-out")
			if !tc.quarantine {
				feed.event(assoc.Admit, nhsP2, t0, "adt-p2")
			}
			published := time.Now()
			waitUntil(t, "every reading filed against P1 from T0 on struck out", 30*time.Second, func() bool {
				ib := in.inbox()
				struck := map[string]bool{}
				for _, o := range ib.snapshot() {
					if o.Status == "entered-in-error" {
						struck[o.ID] = true
					}
				}
				for _, o := range ib.snapshot() {
					if o.Subject == nhsP1 && o.Status != "entered-in-error" && !o.Read.Before(t0) && !struck[o.ID] {
						return false
					}
				}
				if tc.quarantine {
					return quarantined() > 0
				}
				taken, _ := ib.readingsIn(published.Add(2*time.Second), time.Now())
				return taken > 0
			})
			stop()
			if err := <-done; err != nil {
				t.Fatalf("gateway.Run: %v", err)
			}
			c := in.check(t, feed, t0, t0, tc.quarantine)
			if c.corrected == 0 {
				t.Fatal("no reading was corrected")
			}
			messages := in.validateCorrections(t)
			if tc.quarantine && quarantined() < c.corrected {
				t.Errorf("%d readings quarantined for want of a patient, %d corrected", quarantined(), c.corrected)
			}
			t.Logf("readings taken %d (each held the 1 s grace), filed against P1 from T0 on %d observations, corrected %d readings (%d correction messages), observations filed against P2 (refiled or not) %d, quarantined readings %d",
				c.taken, c.filedP1, c.corrected, messages, c.refiled, quarantined())
		})
	}
}

// TestCorrectionAfterPartition: a TCP proxy between gateway and broker is
// cut for longer than association.max_wait; meanwhile the EPR discharges P1
// and admits P2. Readings during the cut wait max_wait, then are filed
// without a patient ("admission feed unavailable"). When the link heals
// the broker delivers the queued events (the gateway's persistent session):
// each of those readings is struck out and filed again for the patient who
// was then in the bed, P1 before the discharge, P2 after the admission,
// and nothing for the readings while the bed was empty (forward policy:
// they stay filed without a patient).
func TestCorrectionAfterPartition(t *testing.T) {
	for _, format := range []string{"fhir", "hl7v2"} {
		t.Run(format, func(t *testing.T) {
			broker := brokertest.Start(t, "")
			proxy := brokertest.NewProxy(t, broker.URL())
			feed := newEPRFeed(t, broker.URL(), "bed1")
			in := newRawInbox(t, broker.URL(), "bed1", format)
			feed.event(assoc.Admit, nhsP1, time.Now().Add(-time.Minute), "adt-p1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
			cfg := testConfig(t, t.TempDir(), proxy.URL(), port, 16<<20)
			cfg.Gateway.Format = format
			cfg.Association.Grace = time.Second
			cfg.Association.MaxWait = 2 * time.Second
			done := runGateway(t, ctx, cfg)
			waitUntil(t, "readings filed against P1", 30*time.Second, func() bool { return in.inbox().count(nhsP1) > 5 })

			cutAt, discharged, _, healed := cutAndReadmit(t, proxy, feed, 3*time.Second)
			waitUntil(t, "readings of the cut refiled against P2", 60*time.Second, func() bool {
				p2 := 0
				for _, o := range in.inbox().snapshot() {
					if o.Subject == nhsP2 && o.Status != "entered-in-error" && o.Read.Before(healed.Add(-2*time.Second)) {
						p2++
					}
				}
				return p2 > 0
			})
			// Let the corrections finish (they are stored in one pass).
			waitUntil(t, "readings after the heal", 30*time.Second, func() bool {
				taken, _ := in.inbox().readingsIn(healed.Add(3*time.Second), time.Now())
				return taken > 5
			})
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("gateway.Run: %v", err)
			}
			// Readings within the grace before the cut were not decided
			// before the link broke: they too waited, and are corrected.
			c := in.check(t, feed, cutAt.Add(-cfg.Association.Grace), discharged, false)
			taken, _ := in.inbox().readingsIn(cutAt, healed)
			unassociated := 0
			for _, o := range in.inbox().snapshot() {
				if o.Subject == "" && o.Status != "entered-in-error" && !o.Read.Before(cutAt) && o.Read.Before(healed) {
					unassociated++
				}
			}
			if c.corrected == 0 || unassociated == 0 {
				t.Fatalf("corrected %d readings, %d observations of the cut filed without a patient; want both", c.corrected, unassociated)
			}
			messages := in.validateCorrections(t)
			t.Logf("readings taken during the %v cut %d (all held, then filed without a patient after max_wait), corrected %d readings (%d correction messages); over the test %d readings, observations filed against P2 (refiled or not) %d",
				healed.Sub(cutAt).Round(time.Second), taken, c.corrected, messages, c.taken, c.refiled)
		})
	}
}

// TestCorrectionStrikesOutNEWS2Scores: P1 is in the bed with a nurse entry
// and gets a NEWS2 score; the EPR then back-dates P1's discharge and P2's
// admission to a second before that score. The readings from then on are
// corrected, and the score, computed from them, is struck out
// (entered-in-error) with nothing filed in its place; no score is left on
// P1's record from after the event.
func TestCorrectionStrikesOutNEWS2Scores(t *testing.T) {
	broker := brokertest.Start(t, "")
	feed := newEPRFeed(t, broker.URL(), "bed1")
	in := newRawInbox(t, broker.URL(), "bed1", "fhir")
	feed.event(assoc.Admit, nhsP1, time.Now().Add(-10*time.Minute), "adt-p1")
	feed.nurse(nhsP1, "A", "air", time.Now().Add(-time.Minute), "p1-round")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startIntelliVue(t, ctx)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
	cfg.Beds[0].Driver = "intellivue"
	cfg.Association.Grace = time.Second
	done := runGateway(t, ctx, cfg)
	waitUntil(t, "P1's NEWS2 score", 30*time.Second, func() bool { return len(in.inbox().scores(nhsP1)) > 0 })
	score := in.inbox().scores(nhsP1)[0]
	t0 := score.Issued.Add(-time.Second)
	feed.event(assoc.Discharge, nhsP1, t0, "adt-p1-out")
	feed.event(assoc.Admit, nhsP2, t0, "adt-p2")
	waitUntil(t, "P1's score struck out", 30*time.Second, func() bool {
		for _, o := range in.inbox().snapshot() {
			if o.ID == score.ID && o.Status == "entered-in-error" {
				return true
			}
		}
		return false
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	c := in.check(t, feed, t0, t0, false)
	scores, struck := 0, 0
	for _, o := range in.inbox().snapshot() {
		if o.Code == news2ScoreCode {
			scores++
			if o.Status == "entered-in-error" {
				struck++
				if !strings.Contains(o.Note, "computed from readings") {
					t.Errorf("struck-out score %s: note %q", o.ID, o.Note)
				}
			}
		}
	}
	in.validateCorrections(t)
	t.Logf("readings taken %d, corrected %d; NEWS2 score messages %d, struck out %d", c.taken, c.corrected, scores, struck)
}

// countNoPatient counts the quarantine messages of a bed whose values were
// quarantined for want of a patient.
func countNoPatient(t *testing.T, url, bed string) func() int {
	t.Helper()
	var mu sync.Mutex
	n := 0
	topic := "bedgate/v1/s/w/" + bed + "/rejected"
	handler := func(_ pahomqtt.Client, m pahomqtt.Message) {
		var q gateway.QuarantineMessage
		if err := json.Unmarshal(m.Payload(), &q); err != nil {
			t.Errorf("quarantine payload: %v", err)
			return
		}
		if len(q.Rejected) > 0 && q.Rejected[0].Reason == "no-patient" {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("epr-rejected-" + t.Name()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("quarantine watcher: %v", tok.Error())
	}
	if tok := c.Subscribe(topic, 1, handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("quarantine watcher subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}
