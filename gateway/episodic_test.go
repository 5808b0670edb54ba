package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// observations returns the Observation resources of a Bundle, in order.
func observations(b map[string]any) []map[string]any {
	var out []map[string]any
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		if res, _ := e.(map[string]any)["resource"].(map[string]any); res["resourceType"] == "Observation" {
			out = append(out, res)
		}
	}
	return out
}

// observationCodes returns the codes of every coding of every Observation
// in a Bundle, with each Observation's effectiveDateTime.
func observationCodes(b map[string]any) (codes map[string]bool, effective map[string]string) {
	codes, effective = map[string]bool{}, map[string]string{}
	for _, res := range observations(b) {
		code, _ := res["code"].(map[string]any)
		cs, _ := code["coding"].([]any)
		for _, c := range cs {
			if s, ok := c.(map[string]any)["code"].(string); ok {
				codes[s] = true
				effective[s], _ = res["effectiveDateTime"].(string)
			}
		}
	}
	return codes, effective
}

// TestBloodPressureForwardedOncePerMeasurement: the IntelliVue simulator,
// over a real PTY, reports its last cuff measurement (one every 5 min,
// time-stamped by the monitor) in every poll; through the gateway and a
// real mosquitto the EPR receives one blood pressure panel for 12 polls,
// at the cuff's time, while every poll's heart rate is forwarded. The
// repeats are counted on the gateway status, not quarantined.
func TestBloodPressureForwardedOncePerMeasurement(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, _ := subscribeBed(t, broker.URL())
	w := watch(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	p := simtest.OpenPTY(t)
	stop := simtest.Run(t, "intellivue", p, simulators.Options{Scenario: "stable", Now: func() time.Time { return time.Now().UTC() }})
	context.AfterFunc(ctx, stop)
	cfg := testConfig(t, t.TempDir(), broker.URL(), p.Path(), 16<<20)
	cfg.Beds[0].Driver = "intellivue"
	done := runGateway(t, ctx, cfg)

	const polls = 12
	count := func() (withHR, panels int, firstHR, panelAt string) {
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, b := range v.bundles {
			codes, eff := observationCodes(b)
			if codes["8867-4"] {
				withHR++
				if firstHR == "" {
					firstHR = eff["8867-4"]
				}
			}
			if codes["85354-9"] {
				panels++
				panelAt = eff["85354-9"]
			}
		}
		return
	}
	waitUntil(t, "12 polls' heart rates at the EPR", 90*time.Second, func() bool { n, _, _, _ := count(); return n >= polls })
	withHR, panels, firstHR, panelAt := count()
	if panels != 1 {
		t.Errorf("%d blood pressure panels for %d polls of one cuff measurement, want 1", panels, withHR)
	}
	cuff, err1 := time.Parse(time.RFC3339Nano, panelAt)
	poll, err2 := time.Parse(time.RFC3339Nano, firstHR)
	if err1 != nil || err2 != nil || cuff.After(poll) {
		t.Errorf("blood pressure panel at %q, want the cuff's time, at or before the first poll's %q", panelAt, firstHR)
	}
	waitUntil(t, "the repeats counted on the gateway status", 20*time.Second, func() bool {
		st, _ := w.get()
		return st.Repeats >= 3*(polls-1)
	})
	st, _ := w.get()
	if n := st.Rejected["duplicate"] + st.Rejected["stale"]; n != 0 {
		t.Errorf("%d values quarantined as duplicate or stale: repeats are counted, not quarantined", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	t.Logf("%d polls, %d blood pressure panels (at %s), %d repeated values counted", withHR, panels, panelAt, st.Repeats)
}

// TestBloodPressureSameIdentifierAfterRestart: the gateway is stopped and
// started again while the monitor still reports the same cuff measurement;
// the measurement is forwarded again (the restarted gateway cannot know it
// was delivered) under the same identifier, so the EPR's conditional
// create files it once.
func TestBloodPressureSameIdentifierAfterRestart(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, _ := subscribeBed(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := simtest.OpenPTY(t)
	stop := simtest.Run(t, "intellivue", p, simulators.Options{Scenario: "stable", Now: func() time.Time { return time.Now().UTC() }})
	context.AfterFunc(ctx, stop)
	cfg := testConfig(t, t.TempDir(), broker.URL(), p.Path(), 16<<20)
	cfg.Beds[0].Driver = "intellivue"

	// panels returns the identifiers of the blood pressure panels received.
	panels := func() []string {
		v.mu.Lock()
		defer v.mu.Unlock()
		var ids []string
		for _, b := range v.bundles {
			for _, res := range observations(b) {
				code, _ := res["code"].(map[string]any)
				cs, _ := code["coding"].([]any)
				for _, c := range cs {
					if c.(map[string]any)["code"] == "85354-9" {
						ids = append(ids, res["identifier"].([]any)[0].(map[string]any)["value"].(string))
					}
				}
			}
		}
		return ids
	}
	for run := 1; run <= 2; run++ {
		runCtx, stopRun := context.WithCancel(ctx)
		done := runGateway(t, runCtx, cfg)
		waitUntil(t, fmt.Sprintf("the blood pressure panel of run %d", run), 30*time.Second, func() bool { return len(panels()) >= run })
		stopRun()
		if err := <-done; err != nil {
			t.Fatalf("gateway.Run %d: %v", run, err)
		}
	}
	ids := panels()
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Fatalf("blood pressure panels %v: want the same identifier before and after the restart", ids)
	}
	t.Logf("one cuff measurement sent once per gateway run, both as %s", ids[0])
}
