package gateway

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/bedgate/bedgate/gateway/stats"
)

// clockSync asks the kernel whether the clock is synchronised (adjtimex:
// NTP or systemd-timesyncd clears STA_UNSYNC once it has disciplined the
// clock) and for its estimated maximum error.
func clockSync() stats.Clock {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return stats.Clock{}
	}
	return stats.Clock{
		Known:        true,
		Synchronised: state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0,
		MaxError:     stats.Duration(time.Duration(tx.Maxerror) * time.Microsecond),
	}
}
