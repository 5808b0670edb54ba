package serialport

import "golang.org/x/sys/unix"

// setRTSCTS turns hardware flow control on or off through termios
// (CRTSCTS), which go.bug.st/serial always turns off.
func (c *control) setRTSCTS(on bool) error {
	return c.ioctl(func(fd int) error {
		t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return err
		}
		if on {
			t.Cflag |= unix.CRTSCTS
		} else {
			t.Cflag &^= unix.CRTSCTS
		}
		return unix.IoctlSetTermios(fd, unix.TCSETS, t)
	})
}
