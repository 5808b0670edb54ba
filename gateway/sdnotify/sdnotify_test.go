package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen opens a datagram socket as the service manager would and points
// $NOTIFY_SOCKET at it.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	abstract := "bedgate-test-" + strconv.Itoa(os.Getpid())
	for _, tt := range []struct{ name, env, listenOn string }{
		{"path", path, path},
		{"abstract", "@" + abstract, "\x00" + abstract},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := listen(t, tt.listenOn)
			t.Setenv("NOTIFY_SOCKET", tt.env)
			sent, err := Notify(Ready + "\nSTATUS=2 beds connected")
			if !sent || err != nil {
				t.Fatalf("Notify = %v, %v", sent, err)
			}
			if got := receive(t, conn); got != "READY=1\nSTATUS=2 beds connected" {
				t.Errorf("received %q", got)
			}
		})
	}
}

func TestNotifyOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Notify(Ready); sent || err != nil {
		t.Fatalf("Notify = %v, %v; want nothing sent, no error", sent, err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, tt := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"30000000", "", 30 * time.Second},
		{"30000000", strconv.Itoa(os.Getpid()), 30 * time.Second},
		{"30000000", "1", 0}, // another process's watchdog
		{"nonsense", "", 0},
	} {
		t.Setenv("WATCHDOG_USEC", tt.usec)
		t.Setenv("WATCHDOG_PID", tt.pid)
		if got := WatchdogInterval(); got != tt.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v, want %v", tt.usec, tt.pid, got, tt.want)
		}
	}
}
