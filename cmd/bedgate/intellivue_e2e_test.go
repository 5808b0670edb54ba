package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// TestIntelliVueEndToEnd runs bedsim (an IntelliVue monitor on a PTY, which
// answers the gateway's association and polls) → bedgate run → a real
// mosquitto → an EPR subscriber, and checks that every value the monitor
// logged from the first one that arrived on arrives exactly once, with its
// MDC code, unit and value, or as an absent value. A value the monitor
// time-stamps (the NBP, reported in every poll until the next cuff
// measurement) arrives once per measurement, at the measurement's time.
func TestIntelliVueEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bedgateBin, bedsimBin := binaries(t)
	broker := brokertest.Start(t, "")
	got := subscribeEPR(t, broker.URL())

	dir := t.TempDir()
	links := filepath.Join(dir, "ports")
	valuesFile := filepath.Join(dir, "values.jsonl")
	recordFile := filepath.Join(dir, "monitor.raw")

	// The monitor's clock runs 30 times faster (the gateway still polls
	// once a second), so that its SpO2 sensor comes off within seconds.
	// The device clock's zone is the gateway's device_timezone.
	sim, devices := startBedsim(t, bedsimBin, []string{"TZ=UTC"}, 1, "--link", links, "--values", valuesFile,
		"--record", recordFile, "--seed", "11", "--scenario", "sensor-off", "--speed", "30", "--serial", "9000000201",
		"intellivue:bed1")
	if d := devices[0]; d.Kind != "intellivue" || d.Name != "bed1" {
		t.Fatalf("bedsim started %+v, want intellivue bed1", d)
	}

	cfgPath := filepath.Join(dir, "bedgate.yaml")
	cfg := fmt.Sprintf(`gateway:
  id: e2e-gw
  site: test
  ward: w1
  data_dir: %s
  device_timezone: UTC
mqtt:
  broker: %s
  plaintext: true
association:
  grace: 1s
beds:
  - name: bed1
    driver: intellivue
    port: %s
`, filepath.Join(dir, "data"), broker.URL(), filepath.Join(links, "bed1"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw, gwLog := startProcess(t, bedgateBin, "run", "--config", cfgPath)

	// Six polls' worth of observations (24 values each), some of them absent.
	deadline := time.Now().Add(12 * time.Second)
	for (got.count() < 6*20 || got.absentCount() == 0) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	stopProcess(t, sim, 5*time.Second)
	meant := readValues(t, valuesFile)
	// at is when a value was taken: the reading's time, or the
	// measurement's own.
	at := func(m drivers.Reading, v drivers.Value) time.Time {
		if !v.MeasuredAt.IsZero() {
			return v.MeasuredAt
		}
		return m.DeviceTime
	}
	key := func(m drivers.Reading, v drivers.Value) string {
		return gateway.ObservationID("e2e-gw", "intellivue:"+m.Device.Serial, gateway.CodeKey(v.MDC, v.Label), at(m, v))
	}
	// The gateway's rule (gateway/observe.go): a value without a number
	// flagged only unavailable, of a parameter that is not a vital sign, is
	// a parameter the device does not measure.
	notMeasured := func(v drivers.Value) bool {
		vital, known := terminology.Lookup(v.MDC)
		return v.Value == nil && v.Status == drivers.Unavailable && (!known || !vital.IsVitalSign())
	}
	got.waitDelivered(10*time.Second, meant, key, notMeasured)
	stopProcess(t, gw, 10*time.Second)

	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.errs) > 0 {
		t.Errorf("EPR could not read %d messages, first: %s", len(got.errs), got.errs[0])
	}
	var first time.Time
	for _, m := range meant {
		for _, v := range m.Values {
			if _, ok := got.byID[key(m, v)]; ok && (first.IsZero() || m.DeviceTime.Before(first)) {
				first = m.DeviceTime
			}
		}
	}
	if first.IsZero() {
		t.Fatalf("no logged value arrived\nbedsim log:\n%s\ngateway log:\n%s", sim.Stderr.(*syncWriter).text(), gwLog)
	}
	checked, absent, unmeasured, readings := 0, 0, 0, 0
	for _, m := range meant {
		if m.DeviceTime.Before(first) {
			continue
		}
		readings++
		if m.Device.Serial != "9000000201" || m.Device.Driver != "intellivue" {
			t.Errorf("logged device %+v, want intellivue 9000000201", m.Device)
		}
		for _, v := range m.Values {
			obs := got.byID[key(m, v)]
			if notMeasured(v) {
				if len(obs) != 0 {
					t.Errorf("%s %s: unmeasured parameter arrived as an observation", v.Ref, v.Label)
				}
				unmeasured++
				continue
			}
			if len(obs) != 1 {
				t.Errorf("%s %q at %s (MDC %d): arrived %d times, want exactly once", v.Ref, v.Label, at(m, v).Format(time.RFC3339Nano), v.MDC, len(obs))
				continue
			}
			o := obs[0]
			checked++
			// The device time has sub-millisecond ticks; the EPR's time is
			// to the millisecond.
			if lag := at(m, v).Sub(o.Time); o.MDC != v.MDC || lag < 0 || lag >= time.Millisecond {
				t.Errorf("%s %q: got MDC %d at %s, want %d at %s", v.Ref, v.Label, o.MDC, o.Time, v.MDC, at(m, v))
			}
			switch {
			case v.Value == nil || v.Status&(drivers.Invalid|drivers.SensorOff|drivers.Unavailable) != 0:
				absent++
				if o.Value != nil || o.Absent == "" {
					t.Errorf("%s: device sent no valid value (status %s) but the EPR got value %v absent %q", v.Ref, v.Status, o.Value, o.Absent)
				}
			default:
				// Philips reports the perfusion index dimensionless ("1");
				// the gateway files it in the vital's unit, "%", on the same
				// scale.
				wantUnit := v.Unit
				if v.MDC == 150448 && v.Unit == "1" {
					wantUnit = "%"
				}
				if o.Value == nil || *o.Value != *v.Value || o.Unit != wantUnit {
					t.Errorf("%s %q: EPR got %v %q, want %v %q", v.Ref, v.Label, o.Value, o.Unit, *v.Value, wantUnit)
				}
			}
		}
	}
	if absent == 0 {
		t.Error("no absent value was checked: the sensor-off monitor should send some")
	}
	if readings < 5 || checked < 5*20 {
		t.Errorf("only %d readings and %d observations checked; want at least 5 and 100\ngateway log:\n%s", readings, checked, gwLog)
	}
	if info, err := os.Stat(recordFile); err != nil || info.Size() == 0 {
		t.Errorf("bedsim --record wrote nothing: %v", err)
	}
	t.Logf("checked %d observations (%d absent values; %d unmeasured not forwarded) from %d readings; %d logged in all; %d distinct ids received",
		checked, absent, unmeasured, readings, len(meant), len(got.byID))
}
