package nonin

import (
	"errors"
	"fmt"
)

// DriverName is the registry name of the data format #2 driver and the
// DeviceID.Driver of its readings; the other formats add "-df7", "-df8".
const DriverName = "nonin"

// Format is a Nonin serial data format.
type Format int

// The data formats this package reads.
const (
	DF2 Format = 2
	DF7 Format = 7
	DF8 Format = 8
)

// Name returns the registry name of the format's driver.
func (f Format) Name() string {
	if f == DF2 {
		return DriverName
	}
	return fmt.Sprintf("%s-df%d", DriverName, int(f))
}

// FrameSize returns the bytes of one frame (#2, #7) or record (#8).
func (f Format) FrameSize() int {
	if f == DF8 {
		return 4
	}
	return 5
}

// Frames per packet in formats #2 and #7.
const PacketFrames = 25

// Missing values.
const (
	MissingHR   = 511
	MissingSpO2 = 127
)

// Status bits of a #2 or #7 frame.
const (
	StatusAlways     = 0x80 // always 1
	StatusSNSD       = 0x40 // sensor disconnect (OEM III; reserved on the 9560)
	StatusARTF       = 0x20 // artefact
	StatusOOT        = 0x10 // out of track
	StatusSNSA       = 0x08 // sensor alarm: unusable data
	StatusRPRF       = 0x04 // red perfusion (with GPRF: yellow)
	StatusGPRF       = 0x02 // green perfusion (with RPRF: yellow)
	StatusSYNC       = 0x01 // first frame of a packet
	statusPerfusions = StatusRPRF | StatusGPRF
)

// Status bits of a #8 record.
const (
	Status8OOT  = 0x20 // out of track
	Status8LPRF = 0x10 // low perfusion
	Status8MPRF = 0x08 // marginal perfusion
	Status8ARTF = 0x04 // artefact
	Status8HR   = 0x03 // heart rate bits 8 and 7

	Status2SPA    = 0x20 // SmartPoint measurement
	Status2SNSA   = 0x08 // sensor alarm
	Status2LowBat = 0x01 // low battery
)

// Perfusion is the perfusion indication of a #2 or #7 status byte.
type Perfusion string

// Perfusions.
const (
	PerfusionNone   Perfusion = "none"
	PerfusionGreen  Perfusion = "green"
	PerfusionRed    Perfusion = "red"
	PerfusionYellow Perfusion = "yellow"
)

// PerfusionOf returns the perfusion a #2 or #7 status byte shows.
func PerfusionOf(status byte) Perfusion {
	switch status & statusPerfusions {
	case StatusGPRF:
		return PerfusionGreen
	case StatusRPRF:
		return PerfusionRed
	case statusPerfusions:
		return PerfusionYellow
	}
	return PerfusionNone
}

// Frame is one #2 or #7 frame.
type Frame struct {
	Status byte
	Pleth  uint16 // 8 bits in #2, 16 in #7
	Float  byte   // the packet's value this frame carries
}

// Sync reports whether the frame starts a packet.
func (f Frame) Sync() bool { return f.Status&StatusSYNC != 0 }

// Frame errors. ParseFrame wraps them in a *FrameError.
var (
	ErrChecksum = errors.New("checksum mismatch")
	ErrStatus   = errors.New("status bit 7 not set")
	ErrStart    = errors.New("first byte not 0x01")
)

// ErrTruncated is returned by a splitter at the end of input when the
// input ends inside a frame.
var ErrTruncated = errors.New("nonin: truncated frame at end of input")

// FrameError reports a frame that is not valid; it never holds a value.
type FrameError struct {
	Format Format
	Err    error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("nonin: data format #%d frame: %v", int(e.Format), e.Err)
}

// Unwrap returns the reason.
func (e *FrameError) Unwrap() error { return e.Err }

// checksum is the sum of b modulo 256.
func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// ParseFrame checks and decodes one #2 or #7 frame of five bytes.
func ParseFrame(f Format, b []byte) (Frame, error) {
	if len(b) != 5 || f == DF8 {
		return Frame{}, &FrameError{f, fmt.Errorf("want 5 bytes of format #2 or #7, have %d of #%d", len(b), int(f))}
	}
	var errs []error
	status := b[0]
	if f == DF2 {
		if b[0] != 0x01 {
			errs = append(errs, ErrStart)
		}
		status = b[1]
	}
	if status&StatusAlways == 0 {
		errs = append(errs, ErrStatus)
	}
	if checksum(b[:4]) != b[4] {
		errs = append(errs, ErrChecksum)
	}
	if len(errs) > 0 {
		return Frame{}, &FrameError{f, errors.Join(errs...)}
	}
	if f == DF2 {
		return Frame{Status: status, Pleth: uint16(b[2]), Float: b[3]}, nil
	}
	return Frame{Status: status, Pleth: uint16(b[1])<<8 | uint16(b[2]), Float: b[3]}, nil
}

// AppendFrame appends the wire bytes of fr in format f (#2 or #7).
func AppendFrame(dst []byte, f Format, fr Frame) []byte {
	start := len(dst)
	if f == DF2 {
		dst = append(dst, 0x01, fr.Status, byte(fr.Pleth), fr.Float)
	} else {
		dst = append(dst, fr.Status, byte(fr.Pleth>>8), byte(fr.Pleth), fr.Float)
	}
	return append(dst, checksum(dst[start:]))
}

// validAt reports whether a frame or record of format f starts at b[0]
// (b holds at least FrameSize bytes).
func validAt(f Format, b []byte) bool {
	if f == DF8 {
		return b[0]&0x80 != 0 && (b[1]|b[2]|b[3])&0x80 == 0
	}
	_, err := ParseFrame(f, b[:5])
	return err == nil
}

// Splitter returns the bufio.SplitFunc of format f: each token is one
// valid frame (#2, #7) or record (#8); bytes that start none (noise, a
// frame with a bad checksum or status) are skipped one at a time. At the
// end of input a last partial frame gives ErrTruncated. It keeps no state.
func Splitter(f Format) func(data []byte, atEOF bool) (int, []byte, error) {
	size := f.FrameSize()
	return func(data []byte, atEOF bool) (int, []byte, error) {
		for i := 0; ; i++ {
			rest := data[i:]
			if len(rest) < size {
				if atEOF && len(rest) > 0 {
					return len(data), nil, ErrTruncated
				}
				return i, nil, nil
			}
			if validAt(f, rest) {
				return i + size, rest[:size], nil
			}
		}
	}
}
