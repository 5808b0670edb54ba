package nonin

import (
	"fmt"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// Packet is the values of one #2 or #7 packet of 25 frames. A value the
// device sent as missing is nil.
type Packet struct {
	HR, HRD, EHR, EHRD            *int // heart rate: 4-beat, display, extended, extended display (/min)
	SpO2, SpO2D, SpO2Fast, SpO2BB *int // SpO2: 4-beat, display, fast, beat-to-beat (%)
	ESpO2, ESpO2D                 *int // extended SpO2 and its display value (%)
	FirmwareRevision              int
	Status                        byte // the status bits of every frame, ORed, SYNC left out
	Timer                         int  // #7 only: the device's timer
	Status2                       byte // #7 only
}

// hr decodes a heart rate from its MSB and LSB bytes; nil when missing.
func hr(msb, lsb byte) *int {
	v := int(msb&0x03)<<7 | int(lsb&0x7F)
	if v == MissingHR {
		return nil
	}
	return &v
}

// spo2 decodes an SpO2 byte; nil when missing.
func spo2(b byte) *int {
	v := int(b & 0x7F)
	if v == MissingSpO2 {
		return nil
	}
	return &v
}

// DecodePacket decodes the 25 frames of one packet of format f (#2, #7);
// frames[0] is the SYNC frame.
func DecodePacket(f Format, frames *[PacketFrames]Frame) Packet {
	v := func(i int) byte { return frames[i].Float }
	p := Packet{
		HR: hr(v(0), v(1)), SpO2: spo2(v(2)), FirmwareRevision: int(v(3)),
		SpO2D: spo2(v(8)), SpO2Fast: spo2(v(9)), SpO2BB: spo2(v(10)),
		EHR: hr(v(13), v(14)), ESpO2: spo2(v(15)), ESpO2D: spo2(v(16)),
		HRD: hr(v(19), v(20)), EHRD: hr(v(21), v(22)),
	}
	if f == DF7 {
		p.Timer = int(v(5))<<8 | int(v(6))
		p.Status2 = v(7)
	}
	for _, fr := range frames {
		p.Status |= fr.Status &^ StatusSYNC
	}
	return p
}

// Flags returns the value flags of a #2 or #7 status byte (see the package
// documentation).
func Flags(status byte) drivers.Status {
	var st drivers.Status
	if status&StatusSNSD != 0 {
		st |= drivers.SensorOff | drivers.Invalid
	}
	if status&(StatusSNSA|StatusOOT) != 0 {
		st |= drivers.Invalid
	}
	if status&StatusARTF != 0 || status&StatusRPRF != 0 {
		st |= drivers.Questionable
	}
	return st
}

// Flags8 returns the value flags of a #8 record's status bytes.
func Flags8(status, status2 byte) drivers.Status {
	var st drivers.Status
	if status2&Status2SNSA != 0 || status&Status8OOT != 0 {
		st |= drivers.Invalid
	}
	if status&(Status8ARTF|Status8LPRF|Status8MPRF) != 0 {
		st |= drivers.Questionable
	}
	return st
}

// value builds one reading value; a nil number is absent (Unavailable).
func value(code uint32, ref, label, unit string, n *int, st drivers.Status) drivers.Value {
	out := drivers.Value{MDC: code, Ref: ref, Label: label, Unit: unit, Status: st}
	if n == nil {
		out.Status |= drivers.Unavailable
	} else {
		out.Value = drivers.Float(float64(*n))
	}
	return out
}

// Reading returns the reading of a packet of format f: its SpO2 and heart
// rate, flagged from its status bits.
func (p Packet) Reading(f Format) drivers.Reading {
	st := Flags(p.Status)
	status := fmt.Sprintf("STATUS=%02X", p.Status)
	if f == DF7 {
		status += fmt.Sprintf(" STATUS2=%02X", p.Status2)
	}
	return drivers.Reading{
		Device: drivers.DeviceID{Driver: f.Name(), Model: fmt.Sprintf("firmware %d", p.FirmwareRevision)},
		Values: []drivers.Value{
			value(mdc.SpO2, "MDC_PULS_OXIM_SAT_O2", "SpO2", "%", p.SpO2, st),
			value(mdc.PulsOximPulse, "MDC_PULS_OXIM_PULS_RATE", "HR", "/min", p.HR, st),
		},
		DeviceStatus: status,
	}
}

// Record is one #8 record.
type Record struct {
	Status, Status2 byte
	HRD, SpO2D      *int
}

// ParseRecord decodes one #8 record of four bytes.
func ParseRecord(b []byte) (Record, error) {
	if len(b) != 4 || !validAt(DF8, b) {
		return Record{}, &FrameError{DF8, fmt.Errorf("want 4 bytes, the first with bit 7 set and the others without, have % X", b)}
	}
	return Record{Status: b[0], Status2: b[3], HRD: hr(b[0], b[1]), SpO2D: spo2(b[2])}, nil
}

// AppendRecord appends the wire bytes of a #8 record; its HR bits in
// Status are set from HRD (511 when nil).
func AppendRecord(dst []byte, r Record) []byte {
	h, s := MissingHR, MissingSpO2
	if r.HRD != nil {
		h = *r.HRD
	}
	if r.SpO2D != nil {
		s = *r.SpO2D
	}
	return append(dst, 0x80|r.Status&^Status8HR|byte(h>>7)&Status8HR, byte(h&0x7F), byte(s&0x7F), r.Status2&0x7F)
}

// Reading returns the reading of a #8 record.
func (r Record) Reading() drivers.Reading {
	st := Flags8(r.Status, r.Status2)
	return drivers.Reading{
		Device: drivers.DeviceID{Driver: DF8.Name()},
		Values: []drivers.Value{
			value(mdc.SpO2, "MDC_PULS_OXIM_SAT_O2", "SpO2-D", "%", r.SpO2D, st),
			value(mdc.PulsOximPulse, "MDC_PULS_OXIM_PULS_RATE", "HR-D", "/min", r.HRD, st),
		},
		DeviceStatus: fmt.Sprintf("STATUS=%02X STATUS2=%02X", r.Status&^Status8HR, r.Status2),
	}
}

// packets assembles #2 and #7 frames into packets.
type packets struct {
	format Format
	frames [PacketFrames]Frame
	n      int // frames collected; 0: waiting for a SYNC frame
}

// errCutShort reports a packet cut short by the next SYNC frame.
var errCutShort = fmt.Errorf("nonin: packet cut short by the next SYNC frame")

// add takes one frame. It returns the packet when fr completes one; an
// error when fr cut the packet before it short; and whether fr was
// outside any packet (joined mid-packet, or after a lost one).
func (a *packets) add(fr Frame) (p *Packet, outside bool, err error) {
	if fr.Sync() {
		if a.n > 0 {
			err = fmt.Errorf("%w after %d frames", errCutShort, a.n)
		}
		a.n = 0
	} else if a.n == 0 {
		return nil, true, nil
	}
	a.frames[a.n] = fr
	a.n++
	if a.n < PacketFrames {
		return nil, false, err
	}
	a.n = 0
	pk := DecodePacket(a.format, &a.frames)
	return &pk, false, err
}
