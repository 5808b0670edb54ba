//go:build !linux

package buffer

// systemUptime is the process's monotonic clock where the boot time is not
// read: no boot id, so a restart resumes the age clock from the wall clock.
func systemUptime() Uptime { return processUptime() }
