package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/record"
)

// tally counts, from t on, the Observations filed against nhs and of those
// how many are not struck out (entered-in-error) for it, and the
// Observations struck out that were issued before t.
func (s *subjects) tally(t time.Time, nhs string) (filed, standing, struckBefore int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, at := range s.issued {
		if at.Before(t) {
			struckBefore += len(s.struck[id])
			continue
		}
		for _, who := range s.filed[id] {
			if who == nhs {
				filed++
				if !slices.Contains(s.struck[id], nhs) {
					standing++
				}
			}
		}
	}
	return filed, standing, struckBefore
}

// TestKillThenLateAdmission: bedgate run files readings against P1 and is
// killed (SIGKILL); while it is down the EPR back-dates P1's discharge and
// P2's admission to a time T0 before the kill. After the restart every
// reading from T0 on that was filed against P1 is struck out (the ledger of
// filings survived the kill) and none before T0.
func TestKillThenLateAdmission(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bedgateBin, bedsimBin := binaries(t)
	broker := brokertest.Start(t, "")
	got := subscribeSubjects(t, broker.URL())
	const p1, p2 = "9434765919", "9990000018"
	epr := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("correction-kill-adt"))
	if tok := epr.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer epr.Disconnect(100)
	event := func(kind assoc.Event, nhs string, at time.Time, id string) {
		t.Helper()
		b, _ := json.Marshal(assoc.Admission{Event: kind, Patient: record.Patient{NHSNumber: nhs}, Time: at.UTC(), ID: id})
		if tok := epr.Publish(assoc.AdmissionTopic("test", "w1", "bed1"), 1, true, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	event(assoc.Admit, p1, time.Now().Add(-time.Minute), "adt-p1")

	dir := t.TempDir()
	links := filepath.Join(dir, "ports")
	startBedsim(t, bedsimBin, nil, 1, "--link", links, "--period", "100ms", "--serial", "9000000002", "masimo:bed1")
	cfgPath := filepath.Join(dir, "bedgate.yaml")
	cfg := fmt.Sprintf("gateway:\n  id: corr-gw\n  site: test\n  ward: w1\n  data_dir: %s\nmqtt:\n  broker: %s\n  plaintext: true\nassociation:\n  grace: 1s\nbeds:\n  - name: bed1\n    driver: masimo\n    port: %s\n",
		filepath.Join(dir, "data"), broker.URL(), filepath.Join(links, "bed1"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw, gwLog := startProcess(t, bedgateBin, "run", "--config", cfgPath)
	waitFor(t, "readings filed against P1", 30*time.Second, func() bool { n, _, _ := got.tally(time.Time{}, p1); return n > 10 }, gwLog.String)
	t0 := time.Now().Truncate(time.Millisecond)
	waitFor(t, "three seconds of readings after T0 filed against P1", 30*time.Second, func() bool {
		n, _, _ := got.tally(t0.Add(3*time.Second), p1)
		return n > 0
	}, gwLog.String)
	gw.Process.Kill()
	gw.Wait()
	filed, _, _ := got.tally(t0, p1)

	event(assoc.Discharge, p1, t0, "adt-p1-out")
	event(assoc.Admit, p2, t0, "adt-p2")
	gw, gwLog = startProcess(t, bedgateBin, "run", "--config", cfgPath)
	waitFor(t, "every observation filed against P1 from T0 on struck out", 60*time.Second, func() bool {
		_, standing, _ := got.tally(t0, p1)
		return standing == 0
	}, gwLog.String)
	stopProcess(t, gw, 10*time.Second)
	filedAfter, standing, struckBefore := got.tally(t0, p1)
	if struckBefore > 0 || standing > 0 {
		t.Errorf("%d observations before T0 struck out, %d from T0 on left against P1; want none", struckBefore, standing)
	}
	refiled, _, _ := got.tally(t0, p2)
	t.Logf("observations filed against P1 from T0 on before the kill %d (%d counting re-deliveries after the restart), all struck out; observations filed against P2 from T0 on %d",
		filed, filedAfter, refiled)
}
