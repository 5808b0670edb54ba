//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/brokertest"
)

// metricFamilies are the families the issue lists: readings read, stored,
// published and quarantined by reason, outbox bytes and age, the publish
// latency histogram, device state and reconnects.
var metricFamilies = []string{
	"bedgate_readings_read_total", "bedgate_records_stored_total", "bedgate_messages_published_total",
	"bedgate_messages_acknowledged_total", "bedgate_values_quarantined_total", "bedgate_outbox_bytes",
	"bedgate_outbox_oldest_age_seconds", "bedgate_publish_latency_seconds", "bedgate_device_state",
	"bedgate_broker_reconnects_total",
}

// TestServiceNotificationsAndMetrics runs "bedgate run" as systemd would
// (NOTIFY_SOCKET, WATCHDOG_USEC of 1 s) with a simulated Masimo monitor and
// the status server on a free loopback port: the gateway says READY=1, then
// WATCHDOG=1 at least twice, answers /healthz and /readyz, and curl of
// /metrics shows every listed family with the bed's readings; on SIGTERM it
// says STOPPING=1.
func TestServiceNotificationsAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("real-process test: skipped in -short mode")
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: apt-get install -y curl")
	}
	bedgateBin, bedsimBin := binaries(t)
	dir := t.TempDir()
	_, devices := startBedsim(t, bedsimBin, nil, 1, "--seed", "3", "masimo:bed1")
	broker := brokertest.Start(t, "")
	config := filepath.Join(dir, "bedgate.yaml")
	yaml := fmt.Sprintf("gateway: {id: gw-svc, site: s, ward: w, data_dir: %s}\nmqtt: {broker: %s, plaintext: true}\nhttp: {listen: \"127.0.0.1:0\"}\nbeds:\n  - {name: bed1, driver: masimo, port: %s}\n",
		filepath.Join(dir, "data"), broker.URL(), devices[0].Path)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "1000000")
	run := startRun(t, bedgateBin, config)

	notes := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(notes)
				return
			}
			notes <- string(buf[:n])
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case n, ok := <-notes:
			if !ok {
				t.Fatalf("notification socket closed waiting for %s", what)
			}
			return n
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10 s\n%s", what, run.log.text())
		}
		return ""
	}
	if n := next("READY=1"); !strings.HasPrefix(n, "READY=1\nSTATUS=") || !strings.Contains(n, "beds connected") {
		t.Fatalf("first notification %q, want READY=1 with a status", n)
	}
	for i := range 2 {
		if n := next("WATCHDOG=1"); !strings.HasPrefix(n, "WATCHDOG=1\nSTATUS=") {
			t.Fatalf("watchdog notification %d: %q", i+1, n)
		}
	}

	m := regexp.MustCompile(`"url":"(http://127\.0\.0\.1:\d+/)"`).FindStringSubmatch(run.log.text())
	if m == nil {
		t.Fatalf("the log names no status server URL:\n%s", run.log.text())
	}
	base := m[1]
	curlGet := func(path string) (string, error) {
		out, err := exec.Command(curl, "-sS", "--fail-with-body", "--max-time", "5", base+path).CombinedOutput()
		return string(out), err
	}
	if out, err := curlGet("healthz"); err != nil || out != "ok\n" {
		t.Errorf("/healthz: %q, %v", out, err)
	}
	var metrics string
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := curlGet("metrics")
		metrics = out
		if err == nil && strings.Contains(out, `bedgate_device_state{bed="bed1",state="connected"} 1`) &&
			strings.Contains(out, "bedgate_publish_latency_seconds_count") && !strings.Contains(out, "bedgate_publish_latency_seconds_count 0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connected bed1 and a PUBACK in /metrics within 15 s (%v):\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, family := range metricFamilies {
		if !strings.Contains(metrics, "# TYPE "+family+" ") {
			t.Errorf("/metrics lacks the family %s", family)
		}
	}
	if !regexp.MustCompile(`bedgate_readings_read_total\{bed="bed1"\} [1-9]`).MatchString(metrics) {
		t.Error("/metrics counts no reading of bed1")
	}
	if out, err := curlGet("readyz"); err != nil || out != "ready\n" {
		t.Errorf("/readyz: %q, %v", out, err)
	}

	run.cmd.Process.Signal(syscall.SIGTERM)
	for {
		n := next("STOPPING=1")
		if strings.HasPrefix(n, "STOPPING=1") {
			break
		}
	}
	select {
	case <-run.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10 s of SIGTERM")
	}
	if run.err != nil {
		t.Errorf("exit: %v\n%s", run.err, run.log.text())
	}
}
