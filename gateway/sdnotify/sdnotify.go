package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Notification states (sd_notify(3)).
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Notify sends state (newline-separated assignments, for example
// "READY=1\nSTATUS=3 beds connected") to the service manager. sent is false,
// with a nil error, when $NOTIFY_SOCKET is not set.
func Notify(state string) (sent bool, err error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return false, nil
	}
	if name[0] == '@' { // an abstract socket
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("service notification: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("service notification: %w", err)
	}
	return true, nil
}

// WatchdogInterval returns the watchdog timeout the service manager set
// ($WATCHDOG_USEC, when $WATCHDOG_PID is unset or this process), or 0 when
// there is none. Send Watchdog at least every half of it.
func WatchdogInterval() time.Duration {
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}
