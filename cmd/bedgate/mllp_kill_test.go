package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/brokertest"
	"github.com/bedgate/bedgate/gateway/mllp"
)

// TestMLLPKillAfterAA: bedgate run acknowledges ORU^R01 messages AA while
// the broker is down, is killed with SIGKILL, and after a restart (broker
// back) every value of every acknowledged message reaches the EPR with the
// identifier it was given.
func TestMLLPKillAfterAA(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bedgateBin, _ := binaries(t)
	broker := brokertest.Start(t, "")
	broker.Stop() // nothing can leave the outbox: AA rests on the disk alone

	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfgPath := filepath.Join(dir, "bedgate.yaml")
	cfg := fmt.Sprintf(`gateway:
  id: kill-gw
  site: test
  ward: w1
  data_dir: %s
mqtt:
  broker: %s
  plaintext: true
mllp:
  listen: %s
beds:
  - name: bed1
    driver: hl7
    source: pv1:ICU^^BED1
`, filepath.Join(dir, "data"), broker.URL(), addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	run, out := startProcess(t, bedgateBin, "run", "--config", cfgPath)
	conn := dialUntil(t, addr, 20*time.Second)
	rd := mllp.NewReader(bufio.NewReader(conn), 0)
	const messages = 50
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	var want []string
	for i := range messages {
		at := t0.Add(time.Duration(i) * time.Second)
		id := "K-" + strconv.Itoa(i)
		msg := "MSH|^~\\&|CENTRAL|ICU|BEDGATE|RXX|" + at.Format("20060102150405-0700") + "||ORU^R01^ORU_R01|" + id + "|P|2.6\r" +
			"PV1|1|I|ICU^^BED1\rOBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||" + at.Format("20060102150405-0700") + "\r" +
			"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|" + strconv.Itoa(90+i%10) + "|%|||||R|||||||MON-1\r" +
			"OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.2.1.2|" + strconv.Itoa(60+i) + "|/min|||||R\r"
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := conn.Write(mllp.Frame([]byte(msg))); err != nil {
			t.Fatal(err)
		}
		raw, err := rd.Next()
		if err != nil {
			t.Fatalf("ACK of %s: %v\n%s", id, err, out)
		}
		if !strings.Contains(string(raw), "MSA|AA|"+id+"\r") {
			t.Fatalf("ACK of %s: %q", id, raw)
		}
		for _, code := range []string{"150456", "149530"} {
			want = append(want, gateway.ObservationID("kill-gw", hl7v2.DriverName+":MON-1", code, at))
		}
	}
	if err := run.Process.Kill(); err != nil { // SIGKILL right after the last AA
		t.Fatal(err)
	}
	run.Wait()
	conn.Close()

	broker.Restart()
	got := subscribeEPR(t, broker.URL())
	restarted, out2 := startProcess(t, bedgateBin, "run", "--config", cfgPath)
	deadline := time.Now().Add(60 * time.Second)
	missing := want
	for len(missing) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got.mu.Lock()
		missing = missing[:0:0]
		for _, id := range want {
			if len(got.byID[id]) == 0 {
				missing = append(missing, id)
			}
		}
		got.mu.Unlock()
	}
	stopProcess(t, restarted, 20*time.Second)
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged values never arrived after kill -9 and restart\n%s\n%s", len(missing), len(want), out, out2)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	dups := 0
	for _, id := range want {
		dups += len(got.byID[id]) - 1
	}
	t.Logf("kill -9 after AA: %d messages sent, %d AA; %d values delivered after restart (%d identical re-deliveries)", messages, messages, len(want), dups)
}

// dialUntil connects to addr, retrying until the listener is up.
func dialUntil(t *testing.T, addr string, within time.Duration) net.Conn {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("MLLP listener at %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
