package buffer

import (
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// systemUptime reads CLOCK_BOOTTIME (monotonic, counting suspend) and the
// kernel's boot id.
func systemUptime() Uptime {
	id, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	boot := strings.TrimSpace(string(id))
	if boot == "" {
		return processUptime()
	}
	return func() (string, time.Duration) {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
			return "", 0
		}
		return boot, time.Duration(ts.Nano())
	}
}
