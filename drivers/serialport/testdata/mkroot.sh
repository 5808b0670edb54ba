#!/bin/sh
# mkroot.sh rebuilds testdata/root: a fake sysfs and /dev with the shape
# Linux and udev give them, for the enumeration tests. Run from testdata.
set -e
rm -rf root
S=root/sys
U=$S/devices/pci0000:00/0000:00:14.0/usb1
mkdir -p $S/class/tty $S/bus/usb-serial/drivers/ftdi_sio $S/bus/usb-serial/drivers/pl2303 $S/bus/usb/drivers/cdc_acm $S/bus/pnp/drivers/serial

# usbdev DIR VID PID SERIAL MANUFACTURER PRODUCT
usbdev() {
	mkdir -p "$1"
	echo "$2" >"$1/idVendor"
	echo "$3" >"$1/idProduct"
	[ -n "$4" ] && echo "$4" >"$1/serial"
	echo "$5" >"$1/manufacturer"
	echo "$6" >"$1/product"
}
# usbserial IFDIR IFNUM TTY DRIVER: a usb-serial port under an interface
usbserial() {
	mkdir -p "$1/$3/tty/$3"
	echo "$2" >"$1/bInterfaceNumber"
	ln -s "../../../../../../../../bus/usb-serial/drivers/$4" "$1/$3/driver"
	ln -s "../../../$3" "$1/$3/tty/$3/device"
	echo "188:0" >"$1/$3/tty/$3/dev"
	ln -s "../../${1#$S/}/$3/tty/$3" "$S/class/tty/$3"
}

usbdev $U/1-2 0403 6001 A50285BI FTDI "FT232R USB UART"
usbserial $U/1-2/1-2:1.0 00 ttyUSB0 ftdi_sio
usbdev $U/1-3 067B 2303 "" "Prolific Technology Inc." "USB-Serial Controller"
usbserial $U/1-3/1-3:1.0 00 ttyUSB1 pl2303
usbdev $U/1-4 067b 2303 "" "Prolific Technology Inc." "USB-Serial Controller"
usbserial $U/1-4/1-4:1.0 00 ttyUSB2 pl2303
usbdev $U/1-6 0403 6011 FT4XYZ FTDI "Quad RS232-HS"
usbserial $U/1-6/1-6:1.0 00 ttyUSB3 ftdi_sio
usbserial $U/1-6/1-6:1.1 01 ttyUSB4 ftdi_sio

# A CDC ACM device: the tty's device is the interface itself.
usbdev $U/1-5 2341 0043 7503 "Arduino (www.arduino.cc)" "Arduino Uno"
I=$U/1-5/1-5:1.0
mkdir -p $I/tty/ttyACM0
echo 00 >$I/bInterfaceNumber
ln -s ../../../../../../../bus/usb/drivers/cdc_acm $I/driver
ln -s ../../../1-5:1.0 $I/tty/ttyACM0/device
ln -s ../../devices/pci0000:00/0000:00:14.0/usb1/1-5/1-5:1.0/tty/ttyACM0 $S/class/tty/ttyACM0

# An on-board UART, and a placeholder port with no UART behind it.
P=$S/devices/pnp0/00:04
mkdir -p $P/tty/ttyS0
ln -s ../../../../bus/pnp/drivers/serial $P/driver
ln -s ../../../00:04 $P/tty/ttyS0/device
echo 4 >$P/tty/ttyS0/type
ln -s ../../devices/pnp0/00:04/tty/ttyS0 $S/class/tty/ttyS0
Q=$S/devices/platform/serial8250
mkdir -p $Q/tty/ttyS1
ln -s ../../../serial8250 $Q/tty/ttyS1/device
echo 0 >$Q/tty/ttyS1/type
ln -s ../../devices/platform/serial8250/tty/ttyS1 $S/class/tty/ttyS1

# Virtual terminals: no device link.
for t in tty0 ptmx console; do
	mkdir -p $S/devices/virtual/tty/$t
	ln -s ../../devices/virtual/tty/$t $S/class/tty/$t
done

# /dev as udev leaves it. The two PL2303 adapters have no serial number,
# so they share one by-id name, which points at whichever came last.
D=root/dev
mkdir -p $D/serial/by-id $D/serial/by-path $D/beds
for t in ttyUSB0 ttyUSB1 ttyUSB2 ttyUSB3 ttyUSB4 ttyACM0 ttyS0 ttyS1; do : >$D/$t; done
ln -s ../../ttyUSB0 $D/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0
ln -s ../../ttyUSB2 $D/serial/by-id/usb-Prolific_Technology_Inc._USB-Serial_Controller-if00-port0
ln -s ../../ttyUSB3 $D/serial/by-id/usb-FTDI_Quad_RS232-HS_FT4XYZ-if00-port0
ln -s ../../ttyUSB4 $D/serial/by-id/usb-FTDI_Quad_RS232-HS_FT4XYZ-if01-port0
ln -s ../../ttyACM0 $D/serial/by-id/usb-Arduino__www.arduino.cc__Arduino_Uno_7503-if00
ln -s ../../ttyUSB0 $D/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0
ln -s ../../ttyUSB1 $D/serial/by-path/pci-0000:00:14.0-usb-0:3:1.0-port0
ln -s ../../ttyUSB2 $D/serial/by-path/pci-0000:00:14.0-usb-0:4:1.0-port0
ln -s ../../ttyUSB3 $D/serial/by-path/pci-0000:00:14.0-usb-0:6:1.0-port0
ln -s ../../ttyUSB4 $D/serial/by-path/pci-0000:00:14.0-usb-0:6:1.1-port0
ln -s ../../ttyACM0 $D/serial/by-path/pci-0000:00:14.0-usb-0:5:1.0
# Links a ward configuration might use: absolute, chained, dangling.
ln -s /dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0 $D/beds/bed1
ln -s ../serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0 $D/beds/bed1-by-id
ln -s /dev/ttyUSB9 $D/beds/unplugged
