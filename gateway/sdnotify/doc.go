// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): one datagram per notification on the unix socket named by
// $NOTIFY_SOCKET, so that a unit with Type=notify learns when the gateway is
// ready and one with WatchdogSec= that it is alive. Outside systemd (no
// $NOTIFY_SOCKET) every call does nothing.
package sdnotify
