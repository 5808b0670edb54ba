package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/record"
)

// subjects collects, per observation identifier, the NHS numbers it was
// filed against ("" for a Location subject), those it was struck out for
// (entered-in-error), and its issue time.
type subjects struct {
	mu            sync.Mutex
	filed, struck map[string][]string
	issued        map[string]time.Time
}

func subscribeSubjects(t *testing.T, url string) *subjects {
	t.Helper()
	s := &subjects{filed: map[string][]string{}, struck: map[string][]string{}, issued: map[string]time.Time{}}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("held-kill-epr"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe("bedgate/v1/+/+/+/obs", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		var b struct {
			Entry []struct {
				Resource struct {
					ResourceType string                   `json:"resourceType"`
					Status       string                   `json:"status"`
					Issued       string                   `json:"issued"`
					Effective    string                   `json:"effectiveDateTime"`
					Identifier   []struct{ Value string } `json:"identifier"`
					Subject      struct {
						Identifier *struct{ Value string } `json:"identifier"`
					} `json:"subject"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(m.Payload(), &b); err != nil {
			t.Errorf("obs payload: %v", err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range b.Entry {
			r := e.Resource
			if r.ResourceType != "Observation" || len(r.Identifier) == 0 {
				continue
			}
			who := ""
			if r.Subject.Identifier != nil {
				who = r.Subject.Identifier.Value
			}
			id := r.Identifier[0].Value
			if r.Status == "entered-in-error" {
				s.struck[id] = append(s.struck[id], who)
			} else {
				s.filed[id] = append(s.filed[id], who)
			}
			s.issued[id], _ = time.Parse(time.RFC3339Nano, cmp.Or(r.Issued, r.Effective)) // no issued: it equals effective
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR subscribe: %v", tok.Error())
	}
	return s
}

// before counts the observations issued before t, and how many of them
// were ever filed against someone other than nhs.
func (s *subjects) before(t time.Time, nhs string) (n, wrong int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, at := range s.issued {
		if !at.Before(t) {
			continue
		}
		n++
		for _, who := range s.filed[id] {
			if who != nhs {
				wrong++
				break
			}
		}
	}
	return n, wrong
}

// TestKillWhileHeld: with the broker unreachable (a cut TCP proxy) the
// gateway cannot know the admission feed, so it holds every reading, on
// disk. bedgate run is killed with SIGKILL while holding them; the link
// heals and bedgate starts again: the readings held before the kill are
// filed, against the patient of the retained admission.
func TestKillWhileHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bedgateBin, bedsimBin := binaries(t)
	broker := brokertest.Start(t, "")
	proxy := brokertest.NewProxy(t, broker.URL())
	got := subscribeSubjects(t, broker.URL())

	const nhs = "9434765919"
	admit, _ := json.Marshal(assoc.Admission{Event: assoc.Admit, Patient: record.Patient{NHSNumber: nhs}, Time: time.Now().Add(-time.Minute).UTC(), ID: "adt-1"})
	epr := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("held-kill-adt"))
	if tok := epr.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer epr.Disconnect(100)
	if tok := epr.Publish(assoc.AdmissionTopic("test", "w1", "bed1"), 1, true, admit); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	proxy.Cut()

	dir := t.TempDir()
	links := filepath.Join(dir, "ports")
	startBedsim(t, bedsimBin, nil, 1, "--link", links, "--period", "100ms", "--serial", "9000000001", "masimo:bed1")
	cfgPath := filepath.Join(dir, "bedgate.yaml")
	cfg := fmt.Sprintf("gateway:\n  id: kill-gw\n  site: test\n  ward: w1\n  data_dir: %s\nmqtt:\n  broker: %s\n  plaintext: true\nbeds:\n  - name: bed1\n    driver: masimo\n    port: %s\n",
		filepath.Join(dir, "data"), proxy.URL(), filepath.Join(links, "bed1"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw, _ := startProcess(t, bedgateBin, "run", "--config", cfgPath)
	heldFile := filepath.Join(dir, "data", "held", "readings")
	waitFor(t, "20 KiB of readings held on disk", 30*time.Second, func() bool {
		st, err := os.Stat(heldFile)
		return err == nil && st.Size() > 20<<10
	}, func() string { return "" })
	killedAt := time.Now()
	gw.Process.Kill()
	gw.Wait()
	st, _ := os.Stat(heldFile)

	proxy.Heal()
	gw, gwLog := startProcess(t, bedgateBin, "run", "--config", cfgPath)
	waitFor(t, "the readings held at the kill filed", 60*time.Second, func() bool {
		n, _ := got.before(killedAt, nhs)
		return n > 10
	}, gwLog.String)
	stopProcess(t, gw, 10*time.Second)
	n, wrong := got.before(killedAt, nhs)
	if wrong > 0 {
		t.Errorf("%d of %d observations held at the kill were filed against someone other than the admitted patient", wrong, n)
	}
	t.Logf("held on disk at the kill: %d bytes; observations read before the kill and filed after the restart: %d, wrongly filed %d", st.Size(), n, wrong)
}
