package gateway_test

import (
	"context"
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
// real mosquitto the EPR receives one blood pressure panel for 31 polls,
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

	const polls = 31
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
	waitUntil(t, "31 polls' heart rates at the EPR", 90*time.Second, func() bool { n, _, _, _ := count(); return n >= polls })
	withHR, panels, firstHR, panelAt := count()
	if panels != 1 {
		t.Errorf("%d blood pressure panels for %d polls of one cuff measurement, want 1", panels, withHR)
	}
	if panelAt == "" || panelAt > firstHR {
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
