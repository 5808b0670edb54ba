package serialport_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/serialport"
)

// A supervisor waits for the device, reads until the link fails, then waits
// for it again.
func ExampleOpenWithRetry() {
	ctx := context.Background()
	line := drivers.LineSettings{Baud: 9600, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
	opts := serialport.Options{Logger: slog.Default()}
	for {
		port, err := serialport.OpenWithRetry(ctx, "/dev/serial/by-path/platform-xhci-hcd.0-usb-0:1:1.0-port0", line, opts)
		if err != nil {
			return // ctx ended
		}
		buf := make([]byte, 256)
		for {
			n, err := port.Read(buf)
			if errors.Is(err, drivers.ErrLinkLost) {
				break // unplugged: reopen
			}
			if err != nil {
				port.Close()
				return
			}
			fmt.Printf("%q\n", buf[:n])
		}
		port.Close()
	}
}

func ExampleOpen() {
	line := drivers.LineSettings{Baud: 115200, DataBits: 8, Parity: drivers.NoParity, StopBits: 1, RTSCTS: true}
	port, err := serialport.Open("/dev/ttyUSB0", line, serialport.Options{})
	switch {
	case errors.Is(err, serialport.ErrPermission):
		fmt.Println(err) // names the dialout group
		return
	case errors.Is(err, serialport.ErrBusy):
		fmt.Println("another program has the port")
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	defer port.Close()
	port.Write([]byte("\x02poll\x03"))
}
