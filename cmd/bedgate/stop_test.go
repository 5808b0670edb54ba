//go:build linux

package main

import (
	"encoding/json"
	"flag"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/gateway"
)

var stopLoops = flag.Int("torture.stops", 5, "how many times TestStopLoop stops the gateway with SIGTERM")

// stopBound is how long "bedgate run" may take to exit after SIGTERM with
// the broker up.
const stopBound = 2 * time.Second

// TestStopLoop starts "bedgate run" with three simulated monitors and stops
// it with SIGTERM, again and again (-torture.stops=N; 5 by default). Each
// stop must end the process within 2 s, leave every bed's retained device
// status "disconnected" on the broker, and lose no reading the gateway had
// stored (checked across all runs at the end, with the kill torture's
// accounting).
func TestStopLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("real-process stop test: skipped in -short mode")
	}
	r := newRig(t)
	var took []time.Duration
	for i := range *stopLoops {
		run := r.startGateway()
		r.waitConnected(run, 10*time.Second)
		at := time.Now()
		run.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-run.exited:
		case <-time.After(10 * time.Second):
			run.cmd.Process.Kill()
			<-run.exited
			t.Fatalf("stop %d: no exit within 10 s of SIGTERM\n%s", i+1, run.log.text())
		}
		d := run.ended.Sub(at)
		took = append(took, d)
		r.stops = append(r.stops, stopEvent{at: at, kind: "SIGTERM"})
		if run.err != nil {
			t.Errorf("stop %d: exited with %v\n%s", i+1, run.err, run.log.text())
		}
		if d > stopBound {
			t.Errorf("stop %d: exit %v after SIGTERM, want at most %v", i+1, d.Round(time.Millisecond), stopBound)
		}
		for bed, state := range retainedDeviceStates(t, r.broker.URL(), r.beds) {
			if state != "disconnected" {
				t.Errorf("stop %d: %s's retained device status is %q, want disconnected\n%s", i+1, bed, state, run.log.text())
			}
		}
		if t.Failed() {
			t.Fatalf("stopping after stop %d", i+1)
		}
	}
	if len(took) > 0 {
		slices.Sort(took)
		t.Logf("%d SIGTERM stops: median %v, max %v", len(took), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	}
	last := r.startGateway()
	r.waitFlowing(last.started, 10*time.Second)
	r.finish(last)
}

// waitConnected waits until every bed has reported its device "connected"
// since g started.
func (r *rig) waitConnected(g *gatewayRun, within time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := 0
		for _, b := range r.beds {
			if _, ok := r.epr.connectedSince(b, g.started, time.Now().Add(time.Hour)); ok {
				n++
			}
		}
		if n == len(r.beds) {
			return
		}
		if time.Now().After(deadline) || !r.alive(g) {
			r.t.Fatalf("%d of %d beds reported connected within %v\n%s", n, len(r.beds), within, g.log.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// retainedDeviceStates reads the retained device status of each bed with a
// fresh subscriber.
func retainedDeviceStates(t *testing.T, broker string, beds []string) map[string]string {
	t.Helper()
	var mu sync.Mutex
	got := map[string]string{}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker(broker).SetClientID("stop-check").SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("retained check: connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	tok := c.Subscribe("bedgate/v1/test/w1/+/device", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		var st gateway.DeviceStatus
		if err := json.Unmarshal(m.Payload(), &st); err != nil {
			t.Errorf("device status on %s: %v", m.Topic(), err)
			return
		}
		mu.Lock()
		got[m.Topic()] = st.State
		mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("retained check: subscribe: %v", tok.Error())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(beds) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	byBed := map[string]string{}
	for _, b := range beds {
		byBed[b] = got["bedgate/v1/test/w1/"+b+"/device"]
	}
	return byBed
}
