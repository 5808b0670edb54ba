package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/conformancetest"
	"github.com/bedgate/bedgate/gateway/embedbroker"
	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/validate"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// eprView collects what an EPR sees on the bed's topics.
type eprView struct {
	mu         sync.Mutex
	bundles    []map[string]any // with Observations
	quarantine []gateway.QuarantineMessage
	// contexts are the bed's context Bundles, which every Observation
	// Bundle's references must resolve to (checked as they arrive).
	contexts epr.Contexts
}

func subscribeBed(t *testing.T, url string) (*eprView, pahomqtt.Client) {
	t.Helper()
	v := &eprView{}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("epr-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	sub := func(topic string, h pahomqtt.MessageHandler) {
		if tok := c.Subscribe(topic, 1, h); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", topic, tok.Error())
		}
	}
	sub("bedgate/v1/s/w/bed1/obs", func(_ pahomqtt.Client, m pahomqtt.Message) {
		var b map[string]any
		msg, err := epr.ParseMessage(m.Payload())
		if err == nil {
			err = json.Unmarshal(m.Payload(), &b)
		}
		if err != nil {
			t.Errorf("obs payload: %v", err)
			return
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		if unresolved := v.contexts.Add(m.Topic(), msg); len(unresolved) > 0 {
			t.Errorf("Bundle %d refers to %q, which no context Bundle published before it created", msg.Seq, unresolved)
		}
		if !msg.IsContext() {
			v.bundles = append(v.bundles, b)
		}
	})
	sub("bedgate/v1/s/w/bed1/rejected", func(_ pahomqtt.Client, m pahomqtt.Message) {
		var q gateway.QuarantineMessage
		if err := json.Unmarshal(m.Payload(), &q); err != nil {
			t.Errorf("rejected payload: %v", err)
			return
		}
		v.mu.Lock()
		v.quarantine = append(v.quarantine, q)
		v.mu.Unlock()
	})
	return v, c
}

// patientOf returns the NHS number an observation Bundle files against, or
// "" for a Bundle whose observations have a Location subject.
func patientOf(b map[string]any) string {
	for _, res := range observations(b) {
		subj, _ := res["subject"].(map[string]any)
		if id, ok := subj["identifier"].(map[string]any); ok && id["system"] == "https://fhir.nhs.uk/Id/nhs-number" {
			v, _ := id["value"].(string)
			return v
		}
		return ""
	}
	return ""
}

// effectiveTimes returns the effective times (Unix milliseconds) of the
// Observations in an observation Bundle.
func effectiveTimes(b map[string]any) map[int64]bool {
	times := map[int64]bool{}
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		res, _ := e.(map[string]any)["resource"].(map[string]any)
		s, _ := res["effectiveDateTime"].(string)
		if at, err := time.Parse(time.RFC3339Nano, s); err == nil && res["resourceType"] == "Observation" {
			times[at.UnixMilli()] = true
		}
	}
	return times
}

func (v *eprView) counts() (bundles, quarantined int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.bundles), len(v.quarantine)
}

// TestImplausibleValuesGoToQuarantine: with the SpO2 range narrowed in the
// configuration to 50–90 %, the stable patient's SpO2 (above 90) is
// implausible: it never reaches the observation topic, and each value is on
// the quarantine topic with its reason, while the other vitals go on.
func TestImplausibleValuesGoToQuarantine(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, _ := subscribeBed(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startScenarioMonitor(t, ctx, "stable", 20*time.Millisecond)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
	ninety := 90.0
	cfg.Validation.Ranges = map[string]validate.RangeConfig{"spo2": {Max: &ninety, SoftMax: &ninety}}
	done := runGateway(t, ctx, cfg)
	// The quarantine record of a reading is stored before the Bundle of its
	// other values: wait for both, so the test proves the other vitals of a
	// reading with a quarantined value go on.
	waitUntil(t, "a quarantined value and the Bundle of the rest of its reading", 20*time.Second, func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		if len(v.quarantine) == 0 {
			return false
		}
		for _, b := range v.bundles {
			if effectiveTimes(b)[v.quarantine[0].DeviceTime.UnixMilli()] {
				return true
			}
		}
		return false
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, q := range v.quarantine {
		for _, r := range q.Rejected {
			if r.Reason != "implausible-high" || r.Observation.MDC != 150456 {
				t.Errorf("quarantined %d for %q, want SpO2 (150456) for implausible-high", r.Observation.MDC, r.Reason)
			}
			if r.Reason == "" || r.Text == "" {
				t.Errorf("quarantined value without a reason: %+v", r)
			}
			if r.Observation.Value == nil {
				t.Errorf("quarantined value without its value: %+v", r)
			}
		}
	}
	rejectedIDs := map[string]bool{}
	for _, q := range v.quarantine {
		for _, r := range q.Rejected {
			rejectedIDs[r.Observation.ID] = true
		}
	}
	for _, b := range v.bundles {
		for _, e := range b["entry"].([]any) {
			res := e.(map[string]any)["resource"].(map[string]any)
			if ids, ok := res["identifier"].([]any); ok && res["resourceType"] == "Observation" {
				val := ids[0].(map[string]any)["value"].(string)
				if rejectedIDs[val[len("urn:uuid:"):]] {
					t.Errorf("observation %s is both quarantined and forwarded", val)
				}
			}
		}
	}
}

// TestAdmissionAssociatesReadings: readings are forwarded against the bed
// location until the EPR admits a patient (retained admission message), and
// against that patient from then on.
func TestAdmissionAssociatesReadings(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, epr := subscribeBed(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	done := runGateway(t, ctx, testConfig(t, t.TempDir(), broker.URL(), port, 16<<20))
	waitUntil(t, "unassociated readings", 20*time.Second, func() bool { b, _ := v.counts(); return b > 3 })

	admit := assoc.Admission{Event: assoc.Admit, Time: time.Now().UTC(), ID: "adt-1"}
	admit.Patient.NHSNumber = "9434765919"
	payload, err := json.Marshal(admit)
	if err != nil {
		t.Fatal(err)
	}
	tok := epr.Publish(assoc.AdmissionTopic("s", "w", "bed1"), 1, true, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish admission: %v", tok.Error())
	}
	waitUntil(t, "readings filed against the admitted patient", 20*time.Second, func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return len(v.bundles) > 0 && patientOf(v.bundles[len(v.bundles)-1]) == "9434765919"
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if patientOf(v.bundles[0]) != "" {
		t.Errorf("the first reading, before the admission, was filed against %q", patientOf(v.bundles[0]))
	}
	// Once a reading is filed against the patient, every later one is.
	seen := false
	for i, b := range v.bundles {
		p := patientOf(b)
		if p == "9434765919" {
			seen = true
		} else if seen {
			t.Errorf("bundle %d after the admission has patient %q", i, p)
		}
	}
}

// TestHoldPolicyWaitsForAdmission: with association.policy hold, readings
// from an empty bed are held, then filed against the patient whose
// admission covers their time.
func TestHoldPolicyWaitsForAdmission(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, epr := subscribeBed(t, broker.URL())
	w := watch(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admitted := time.Now().UTC()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
	cfg.Association = config.Association{Policy: "hold", HoldFor: time.Minute, AfterHold: "quarantine"}
	cfg.Validation = config.Validation{MaxClockOffset: validate.DefaultMaxClockOffset}
	done := runGateway(t, ctx, cfg)

	// The status topic (every 5 s) counts the held readings: once it does,
	// readings have been read, and none may have been published.
	waitUntil(t, "held readings on the status topic", 20*time.Second, func() bool { st, _ := w.get(); return st.Held >= 3 })
	if b, q := v.counts(); b != 0 || q != 0 {
		t.Fatalf("with the hold policy and no admission, %d bundles and %d quarantine messages were published", b, q)
	}
	admit := assoc.Admission{Event: assoc.Admit, Time: admitted, ID: "adt-2"}
	admit.Patient.NHSNumber = "9434765919"
	payload, _ := json.Marshal(admit)
	if tok := epr.Publish(assoc.AdmissionTopic("s", "w", "bed1"), 1, true, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish admission: %v", tok.Error())
	}
	waitUntil(t, "the held readings", 20*time.Second, func() bool { b, _ := v.counts(); return b > 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for i, b := range v.bundles {
		if p := patientOf(b); p != "9434765919" {
			t.Errorf("bundle %d: patient %q, want every held reading filed against the admitted patient", i, p)
		}
	}
}

// TestNEWS2FromMonitorAndNurseEntry: an IntelliVue monitor supplies
// respiration, SpO2, blood pressure, pulse and temperature; a nurse entry
// supplies consciousness and air or oxygen; the gateway publishes an
// advisory NEWS2 score Observation for the bed.
func TestNEWS2FromMonitorAndNurseEntry(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, epr := subscribeBed(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The patient is admitted before the monitor's first cuff measurement,
	// which is theirs; a pressure measured before an admission is not.
	admit, _ := json.Marshal(assoc.Admission{Event: assoc.Admit, Patient: record.Patient{NHSNumber: "9434765919"}, Time: time.Now().UTC().Add(-time.Minute), ID: "adt-n"})
	if tok := epr.Publish(assoc.AdmissionTopic("s", "w", "bed1"), 1, true, admit); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish admission: %v", tok.Error())
	}
	p := simtest.OpenPTY(t)
	stop := simtest.Run(t, "intellivue", p, simulators.Options{Scenario: "stable", Now: func() time.Time { return time.Now().UTC() }})
	context.AfterFunc(ctx, stop)

	cfg := testConfig(t, t.TempDir(), broker.URL(), p.Path(), 16<<20)
	cfg.Beds[0].Driver = "intellivue"
	done := runGateway(t, ctx, cfg)
	waitUntil(t, "monitor readings", 20*time.Second, func() bool { b, _ := v.counts(); return b >= 2 })
	entry := fmt.Sprintf(`{"nhs_number":"9434765919","acvpu":"A","air_or_oxygen":"air","time":%q,"id":"obs-round-1"}`, time.Now().UTC().Format(time.RFC3339Nano))
	if tok := epr.Publish("bedgate/v1/s/w/bed1/nurse", 1, true, entry); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish nurse entry: %v", tok.Error())
	}
	var score map[string]any
	waitUntil(t, "a NEWS2 score", 20*time.Second, func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, b := range v.bundles {
			for _, e := range b["entry"].([]any) {
				res := e.(map[string]any)["resource"].(map[string]any)
				if res["resourceType"] != "Observation" {
					continue
				}
				for _, c := range res["code"].(map[string]any)["coding"].([]any) {
					if c.(map[string]any)["code"] == "1104051000000101" {
						score = res
						return true
					}
				}
			}
		}
		return false
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	total := score["valueQuantity"].(map[string]any)["value"].(float64)
	components := score["component"].([]any)
	sum := 0.0
	for _, c := range components {
		sum += c.(map[string]any)["valueQuantity"].(map[string]any)["value"].(float64)
	}
	if len(components) != 7 || sum != total {
		t.Errorf("NEWS2 total %v with %d components summing to %v: want 7 summing to the total", total, len(components), sum)
	}
	v.mu.Lock()
	published := slices.Clone(v.bundles)
	v.mu.Unlock()
	checkDerivedFrom(t, score, published)
}

// checkDerivedFrom checks that every derivedFrom of a NEWS2 score names,
// by identifier, an Observation of a Bundle the EPR received (the blood
// pressure too, which is published as a panel), and that those Bundles
// pass the FHIR conformance validator.
func checkDerivedFrom(t *testing.T, score map[string]any, published []map[string]any) {
	t.Helper()
	ids := map[string]bool{}
	for _, b := range published {
		for _, res := range observations(b) {
			for _, id := range res["identifier"].([]any) {
				id := id.(map[string]any)
				ids[fmt.Sprint(id["system"], "|", id["value"])] = true
			}
		}
	}
	derived, _ := score["derivedFrom"].([]any)
	params := map[string]bool{}
	for _, d := range derived {
		d := d.(map[string]any)
		id := d["identifier"].(map[string]any)
		if key := fmt.Sprint(id["system"], "|", id["value"]); !ids[key] {
			t.Errorf("NEWS2 derivedFrom %s (%v) names no Observation the EPR received", key, d["display"])
		}
		params[fmt.Sprint(d["display"])] = true
	}
	for _, p := range []string{"resp-rate", "spo2-scale1", "systolic-bp", "pulse", "temperature"} {
		if !params[p] {
			t.Errorf("NEWS2 derivedFrom names no %s observation: %v", p, derived)
		}
	}
	var buf bytes.Buffer
	for _, b := range published {
		line, _ := json.Marshal(b)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "published.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, problems := conformancetest.Validate(t, conformancetest.FHIR, path); problems != 0 {
		t.Errorf("validate-fhir: %d problems in the published Bundles:\n%s", problems, out)
	}
}

// TestRefusedSubscriptionIsReported: a broker that refuses the admission
// topics in the SUBACK (an embedded nats-server with a subscribe
// permission denied; mosquitto 2.0 grants such subscriptions and filters
// silently, so it cannot show this): the gateway keeps forwarding (after
// association.max_wait, without a patient), and its status says which
// subscription was refused.
func TestRefusedSubscriptionIsReported(t *testing.T) {
	b, err := embedbroker.Start(embedbroker.Options{DenySubscribe: []string{"bedgate/v1/s/w/+/admission"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := watch(t, b.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startMonitor(t, ctx, 50*time.Millisecond)
	cfg := testConfig(t, t.TempDir(), b.URL(), port, 16<<20)
	// Without the admission feed readings wait association.max_wait, then
	// go on without a patient ("admission feed unavailable").
	cfg.Association.MaxWait = 2 * time.Second
	done := runGateway(t, ctx, cfg)
	waitUntil(t, "a status naming the refused subscription", 20*time.Second, func() bool {
		st, n := w.get()
		return n > 0 && strings.Contains(st.SubscriptionError, "admission")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
}
