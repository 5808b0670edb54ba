// Package brokertest starts a real mosquitto broker on a free loopback port
// for tests. Tests that need it fail (not skip) when mosquitto is not
// installed, with the command that installs it, unless
// BEDGATE_SKIP_BROKER_TESTS=1 is set: real-broker tests must not vanish
// silently from a CI run.
package brokertest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Broker is one mosquitto process listening on 127.0.0.1.
type Broker struct {
	t    testing.TB
	bin  string
	dir  string
	Port int

	mu  sync.Mutex
	cmd *exec.Cmd
	log *bytes.Buffer
}

// Binary finds the mosquitto executable.
func Binary() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mosquitto not found: install it (apt-get install -y mosquitto)")
}

// Start starts mosquitto on a free loopback port and stops it when the
// test ends. extraConf is appended to the generated configuration.
func Start(t testing.TB, extraConf string) *Broker {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("BEDGATE_SKIP_BROKER_TESTS") == "1" {
			t.Skip("BEDGATE_SKIP_BROKER_TESTS=1 and " + err.Error())
		}
		t.Fatalf("brokertest: %v (or set BEDGATE_SKIP_BROKER_TESTS=1 to skip real-broker tests)", err)
	}
	b := &Broker{t: t, bin: bin, dir: t.TempDir(), Port: freePort(t)}
	// Persistence keeps subscribers' sessions (and the messages queued for
	// them) across Stop and Restart, as a production broker would.
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nmax_queued_messages 1000000\n%s\n", b.Port, b.dir, extraConf)
	if os.Geteuid() == 0 {
		// Started as root, mosquitto drops to the "mosquitto" user, which
		// cannot write its database into the test's directory.
		conf += "user root\n"
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Restart()
	t.Cleanup(b.Stop)
	return b
}

// URL is the broker's tcp:// URL.
func (b *Broker) URL() string { return "tcp://127.0.0.1:" + strconv.Itoa(b.Port) }

// Restart starts the broker again on the same port after Stop.
func (b *Broker) Restart() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		b.t.Fatal("brokertest: Restart while running")
	}
	b.log = new(bytes.Buffer)
	cmd := exec.Command(b.bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	cmd.Stdout, cmd.Stderr = b.log, b.log
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("brokertest: start mosquitto: %v", err)
	}
	b.cmd = cmd
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("brokertest: mosquitto did not listen on port %d: %v\n%s", b.Port, err, b.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the broker (SIGTERM, then SIGKILL). Stopping twice is harmless.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.cmd = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("brokertest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
