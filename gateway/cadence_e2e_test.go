package gateway_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/simtest"
)

// chartedReading is one reading as the EPR received it: its device time
// and codes (LOINC or MDC, the first coding of each Observation).
type chartedReading struct {
	at    time.Time
	codes []string
}

// chartInbox collects the readings published on each bed's obs topic.
type chartInbox struct {
	mu    sync.Mutex
	byBed map[string][]chartedReading
}

func newChartInbox(t *testing.T, url string) *chartInbox {
	t.Helper()
	in := &chartInbox{byBed: map[string][]chartedReading{}}
	handler := func(_ pahomqtt.Client, m pahomqtt.Message) {
		var b struct {
			Entry []struct {
				Resource struct {
					ResourceType      string `json:"resourceType"`
					EffectiveDateTime string `json:"effectiveDateTime"`
					Code              struct {
						Coding []struct {
							Code string `json:"code"`
						} `json:"coding"`
					} `json:"code"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(m.Payload(), &b); err != nil {
			t.Errorf("obs payload: %v", err)
			return
		}
		var r chartedReading
		for _, e := range b.Entry {
			if e.Resource.ResourceType != "Observation" || e.Resource.EffectiveDateTime == "" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, e.Resource.EffectiveDateTime)
			if err != nil {
				t.Errorf("effectiveDateTime %q: %v", e.Resource.EffectiveDateTime, err)
				return
			}
			r.at = at
			for _, c := range e.Resource.Code.Coding {
				r.codes = append(r.codes, c.Code)
			}
		}
		bed := strings.Split(m.Topic(), "/")[4]
		in.mu.Lock()
		in.byBed[bed] = append(in.byBed[bed], r)
		in.mu.Unlock()
	}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(url).SetClientID("chart-inbox-" + t.Name()).SetOrderMatters(true))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR inbox: %v", tok.Error())
	}
	if tok := c.Subscribe("bedgate/v1/s/w/+/obs", 1, handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("EPR inbox subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return in
}

func (in *chartInbox) readings(bed string) []chartedReading {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.byBed[bed])
}

// TestForwardCadence runs three simulated monitors on PTYs through the
// gateway to a real mosquitto with a one-minute charting cadence (device
// clocks 20 to 200 times real time, so a device minute passes in 0.3 to
// 3 s): a stable Masimo oximeter gets exactly the first reading of each
// device minute charted; a Masimo whose sensor comes off gets every
// flagged reading charted as well; a GE DRI monitor gets every NIBP
// measurement charted. The readings left out are counted as not charted.
func TestForwardCadence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs simulated monitors for several seconds")
	}
	broker := brokertest.Start(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type monitor struct {
		bed, kind, scenario string
		period              time.Duration
		speed               float64
		values              *plugValues
		port                string
	}
	monitors := []*monitor{
		{bed: "stable", kind: "masimo", scenario: "stable", period: 100 * time.Millisecond, speed: 20},
		{bed: "sensoroff", kind: "masimo", scenario: "sensor-off-fast", period: 100 * time.Millisecond, speed: 20},
		{bed: "nibp", kind: "dri", scenario: "stable", period: 50 * time.Millisecond, speed: 200},
	}
	cfg := testConfig(t, t.TempDir(), broker.URL(), "", 64<<20)
	cfg.Gateway.ForwardEvery = time.Minute
	cfg.Association = config.Association{Policy: "forward", AfterHold: "forward", Grace: time.Second, MaxWait: time.Minute, HoldFor: time.Minute}
	cfg.Beds = nil
	for i, m := range monitors {
		p := simtest.OpenPTY(t)
		m.values, m.port = &plugValues{}, p.Path()
		stop := simtest.Run(t, m.kind, p, simulators.Options{Scenario: m.scenario, Serial: "C000" + string(rune('1'+i)),
			Period: m.period, Now: simtest.FastClock(m.speed), Values: m.values})
		context.AfterFunc(ctx, stop)
		cfg.Beds = append(cfg.Beds, config.Bed{Name: m.bed, Driver: m.kind, Port: m.port, Device: m.bed})
	}
	in := newChartInbox(t, broker.URL())
	w := watch(t, broker.URL())
	done := runGateway(t, ctx, cfg)

	// Until each bed has had several charting intervals delivered and the
	// status topic (every 5 s) counts readings not charted.
	var st gateway.GatewayStatus
	waitUntil(t, "five device minutes charted on every bed, readings counted not charted", 60*time.Second, func() bool {
		for _, m := range monitors {
			if minutes(in.readings(m.bed)) < 5 {
				return false
			}
		}
		st, _ = w.get()
		return st.NotCharted > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway: %v", err)
	}

	// The stable oximeter: one reading per device minute, the first the
	// device sent in it (device times in whole seconds, as Masimo sends
	// them).
	sent := monitors[0].values.readings(t)
	firstOf := map[int64]time.Time{}
	for _, r := range sent {
		at := r.DeviceTime.Truncate(time.Second)
		slot := at.Unix() / 60
		if f, ok := firstOf[slot]; !ok || at.Before(f) {
			firstOf[slot] = at
		}
	}
	got := in.readings("stable")
	perMinute := map[int64]int{}
	for i, r := range got {
		slot := r.at.Unix() / 60
		perMinute[slot]++
		// The first minute's may be a later reading: the gateway may have
		// opened the port after the device's first.
		if want := firstOf[slot]; i > 0 && !r.at.Equal(want) {
			t.Errorf("stable bed: charted the reading of %v, want the first of its minute, %v", r.at, want)
		}
	}
	for slot, n := range perMinute {
		if n != 1 {
			t.Errorf("stable bed: %d readings charted in the minute from %v, want 1", n, time.Unix(slot*60, 0).UTC())
		}
	}
	if len(got) >= len(sent)/5 {
		t.Errorf("stable bed: %d of %d readings charted; a one-minute cadence at 2 s a reading charts about one in 30", len(got), len(sent))
	}

	// The sensor coming off: every reading the device flagged is charted.
	charted := map[time.Time]bool{}
	var firstCharted, lastCharted time.Time
	for i, r := range in.readings("sensoroff") {
		charted[r.at] = true
		if i == 0 {
			firstCharted = r.at
		}
		lastCharted = r.at
	}
	flagged := 0
	for _, r := range monitors[1].values.readings(t) {
		at := r.DeviceTime.Truncate(time.Second)
		if at.Before(firstCharted) || at.After(lastCharted) || !hasFlag(r) {
			continue // sent before the gateway read the port, or after it stopped
		}
		flagged++
		if !charted[at] {
			t.Errorf("sensor-off bed: the flagged reading of %v was not charted", at)
		}
	}
	if flagged == 0 {
		t.Error("sensor-off bed: the device sent no flagged reading: the test proves nothing")
	}

	// The DRI monitor: every NIBP measurement (one every 2 device minutes)
	// is charted, with no gap between the first and the last.
	var nibp []time.Time
	for _, r := range in.readings("nibp") {
		if slices.Contains(r.codes, "150021") || slices.Contains(r.codes, "8480-6") || slices.Contains(r.codes, "85354-9") {
			nibp = append(nibp, r.at)
		}
	}
	slices.SortFunc(nibp, time.Time.Compare)
	nibp = slices.Compact(nibp)
	if len(nibp) < 2 {
		t.Fatalf("NIBP bed: %d NIBP measurements charted, want at least 2", len(nibp))
	}
	for i := 1; i < len(nibp); i++ {
		// The simulator stamps each measurement from its fast clock: a
		// step is 2 min give or take its jitter; a missing one is 4 min.
		if step := nibp[i].Sub(nibp[i-1]); step > 2*time.Minute+30*time.Second {
			t.Errorf("NIBP bed: measurements at %v then %v: one missing (the monitor measures every 2 min)", nibp[i-1], nibp[i])
		}
	}

	t.Logf("stable: %d of %d readings charted; sensor-off: %d charted, %d flagged; NIBP: %d measurements; not charted: %d",
		len(got), len(sent), len(charted), flagged, len(nibp), st.NotCharted)
}

// minutes counts the device minutes among readings.
func minutes(rs []chartedReading) int {
	seen := map[int64]bool{}
	for _, r := range rs {
		seen[r.at.Unix()/60] = true
	}
	return len(seen)
}

// hasFlag reports whether the device flagged a value of r (a value merely
// unavailable is no flag).
func hasFlag(r drivers.Reading) bool {
	for _, v := range r.Values {
		if v.Status&^drivers.Unavailable != 0 {
			return true
		}
	}
	return false
}
