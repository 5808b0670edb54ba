package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/sdnotify"
	"github.com/bedgate/bedgate/gateway/stats"
)

// notifyService tells systemd (Type=notify) that the gateway is ready and,
// under WatchdogSec=, that it is alive: every half of the watchdog interval
// it takes a snapshot, which needs every lock the gateway's loops share, and
// sends WATCHDOG=1 with a one-line status. A gateway wedged on a lock stops
// the pings and systemd restarts it; a broker outage does not (a restart
// would not bring the broker back). When ctx ends it sends STOPPING=1.
// Outside systemd it does nothing.
func notifyService(ctx context.Context, g *gateway.Gateway, log *slog.Logger) {
	notify := func(state string) {
		if _, err := sdnotify.Notify(state + "\nSTATUS=" + serviceStatus(g.Stats())); err != nil {
			log.Warn("cannot notify the service manager", "err", err)
		}
	}
	notify(sdnotify.Ready)
	context.AfterFunc(ctx, func() { sdnotify.Notify(sdnotify.Stopping) })
	interval := sdnotify.WatchdogInterval()
	if interval <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				notify(sdnotify.Watchdog)
			}
		}
	}()
}

// serviceStatus is the line systemctl status shows.
func serviceStatus(s stats.Snapshot) string {
	connected := 0
	for _, b := range s.Beds {
		if b.State == stats.Connected {
			connected++
		}
	}
	link := "broker connected"
	if !s.Link.Connected {
		link = "broker not connected"
	}
	return fmt.Sprintf("%d of %d beds connected, %s, %d waiting in the outbox", connected, len(s.Beds), link, s.Outbox.Entries)
}
