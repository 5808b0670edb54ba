package intellivue

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// DriverName is the registry name of this driver.
const DriverName = "intellivue"

// Numerics returns the observation's numeric values in wire order:
// NOM_ATTR_NU_VAL_OBS values and the entries of NOM_ATTR_NU_CMPD_VAL_OBS
// values, expanded in order. Other attributes (waves, alarms, settings)
// are ignored.
func (o Observation) Numerics() ([]NuObsValue, error) {
	var out []NuObsValue
	for _, a := range o.Attributes {
		switch a.ID {
		case AttrNuValObs:
			v, err := DecodeNuObsValue(a.Value)
			if err != nil {
				return out, err
			}
			out = append(out, v)
		case AttrNuCmpdValObs:
			vs, err := DecodeCompoundNuObsValue(a.Value)
			if err != nil {
				return out, err
			}
			out = append(out, vs...)
		}
	}
	return out, nil
}

// Label returns the observation's label string (NOM_ATTR_ID_LABEL_STRING),
// or "" when it has none or it does not decode.
func (o Observation) Label() string {
	v, ok := find(o.Attributes, AttrIDLabelString)
	if !ok {
		return ""
	}
	s, err := DecodeString(v)
	if err != nil {
		return ""
	}
	return s
}

// TimeStamp is a numeric object's own time stamp: when the monitor took
// its value, as opposed to when a poll reply reports it. The Numeric
// object's attributes include an absolute and a relative time stamp [DEI
// "Numeric" object attributes; "Attribute IDs"]:
//
//   - NOM_ATTR_TIME_STAMP_ABS (0x0990), an AbsoluteTime (8 BCD bytes): an
//     intermittent measurement's time. In the real capture of an MP-series
//     monitor (../shared/vectors/intellivue) the NBP compound carries it in
//     every poll, after its NOM_ATTR_NU_CMPD_VAL_OBS, unchanged from one
//     poll to the next (the time of the last cuff measurement).
//   - NOM_ATTR_TIME_STAMP_REL (0x0991), a RelativeTime (4 bytes, 8000
//     ticks a second) on the monitor's relative clock, the clock of the
//     poll reply's RelTime. In the capture the ST compound carries it,
//     advancing every 15.36 s (122880 ticks) as the ST analysis is redone.
type TimeStamp struct {
	// Abs is NOM_ATTR_TIME_STAMP_ABS when HasAbs: present and supplied
	// (not all 0xFF).
	Abs    AbsoluteTime
	HasAbs bool
	// Rel is NOM_ATTR_TIME_STAMP_REL when HasRel.
	Rel    RelativeTime
	HasRel bool
}

// TimeStamp returns the object's time stamp attributes. A stamp of the
// wrong length, or an absolute stamp that is neither a time nor "not
// supplied", is a *MessageError and left out of the result.
func (o Observation) TimeStamp() (TimeStamp, error) {
	var ts TimeStamp
	var err error
	if v, ok := find(o.Attributes, AttrTimeStampAbs); ok {
		switch {
		case len(v) != len(ts.Abs):
			err = &MessageError{What: "NOM_ATTR_TIME_STAMP_ABS", Reason: fmt.Sprintf("length %d, want 8", len(v))}
		case AbsoluteTime(v) == NoAbsoluteTime():
		case !AbsoluteTime(v).Valid():
			err = &MessageError{What: "NOM_ATTR_TIME_STAMP_ABS", Reason: fmt.Sprintf("% X is not a time", v)}
		default:
			ts.Abs, ts.HasAbs = AbsoluteTime(v), true
		}
	}
	if v, ok := find(o.Attributes, AttrTimeStampRel); ok {
		if len(v) != 4 {
			return ts, &MessageError{What: "NOM_ATTR_TIME_STAMP_REL", Reason: fmt.Sprintf("length %d, want 4", len(v))}
		}
		ts.Rel, ts.HasRel = RelativeTime(uint32(v[0])<<24|uint32(v[1])<<16|uint32(v[2])<<8|uint32(v[3])), true
	}
	return ts, err
}

// At returns when the value was taken, in the device's clock: the
// absolute stamp in loc, the monitor's time zone; else the relative stamp
// placed on the poll reply's clock, pollAt being the device time of the
// reply's relative time pollRel (ticks apart as a signed 32-bit
// difference, so the clock may wrap between them). ok is false when the
// object has no usable stamp, or only a relative one and pollAt is zero
// (no device clock known yet).
func (s TimeStamp) At(loc *time.Location, pollRel RelativeTime, pollAt time.Time) (t time.Time, ok bool) {
	if s.HasAbs {
		t, err := s.Abs.Time(loc)
		return t, err == nil
	}
	if !s.HasRel || pollAt.IsZero() {
		return time.Time{}, false
	}
	return pollAt.Add(time.Duration(int32(s.Rel-pollRel)) * (time.Second / TicksPerSecond)), true
}

// StatusOf maps a measurement state and a value to drivers status flags:
// INVALID → Invalid, QUESTIONABLE → Questionable, UNAVAILABLE →
// Unavailable, CALIBRATION_ONGOING → Calibrating, TEST_DATA and DEMO_DATA →
// Demo, MSMT_STATE_IN_ALARM → AlarmActive. A special value adds
// Unavailable, NRes also Invalid and the infinities also OutOfRange.
func StatusOf(state MeasurementState, v Float) drivers.Status {
	var s drivers.Status
	for _, m := range [...]struct {
		bit  MeasurementState
		flag drivers.Status
	}{
		{StateInvalid, drivers.Invalid},
		{StateQuestionable, drivers.Questionable},
		{StateUnavailable, drivers.Unavailable},
		{StateCalibration, drivers.Calibrating},
		{StateTestData, drivers.Demo},
		{StateDemoData, drivers.Demo},
		{StateInAlarm, drivers.AlarmActive},
	} {
		if state&m.bit != 0 {
			s |= m.flag
		}
	}
	switch v.Special() {
	case SpecialNaN:
		s |= drivers.Unavailable
	case SpecialNRes:
		s |= drivers.Unavailable | drivers.Invalid
	case SpecialPosInf, SpecialNegInf:
		s |= drivers.Unavailable | drivers.OutOfRange
	}
	return s
}

// NumericValue maps one numeric to a drivers.Value: MDC code and reference
// id from the physiological id, UCUM unit, status flags, and the number
// (nil for the special values). label is the object's label string.
func NumericValue(n NuObsValue, label string) drivers.Value {
	v := drivers.Value{
		MDC:    MDCCode(n.PhysioID),
		Ref:    PhysioRef(n.PhysioID),
		Label:  label,
		Unit:   UnitUCUM(n.Unit),
		Status: StatusOf(n.State, n.Value),
	}
	if n.Value.Special() == NotSpecial {
		v.Value = drivers.Float(n.Value.Float64())
	}
	return v
}

// MDSInfo is what the MDS Create Event says about the monitor.
type MDSInfo struct {
	Manufacturer string
	Model        string
	SystemID     []byte // NOM_ATTR_SYS_ID, usually the MAC address
	Serial       string // from NOM_ATTR_ID_PROD_SPECN, or ""
	AbsTime      AbsoluteTime
	RelTime      RelativeTime
	HasTime      bool // both NOM_ATTR_TIME_ABS and NOM_ATTR_TIME_REL present
}

// Info decodes the attributes of the MDS Create Event that identify the
// monitor and its clock. Absent attributes leave their fields empty.
func (m MDSCreate) Info() (MDSInfo, error) {
	var info MDSInfo
	if v, ok := find(m.Attributes, AttrIDModel); ok {
		c := newCursor(v, 0, "SystemModel")
		info.Manufacturer = variableLabel(c)
		info.Model = variableLabel(c)
		if c.err != nil {
			return info, c.err
		}
	}
	if v, ok := find(m.Attributes, AttrSysID); ok {
		c := newCursor(v, 0, "SystemId")
		info.SystemID = c.bytes(int(c.u16()))
		if c.err != nil {
			return info, c.err
		}
	}
	if v, ok := find(m.Attributes, AttrIDProdSpecn); ok {
		c := newCursor(v, 0, "ProductionSpec")
		count := int(c.u16())
		l := c.sub(int(c.u16()), "ProductionSpec")
		for range count {
			kind := l.u16()
			l.u16() // component id
			s := variableLabel(l)
			if kind == specSerialNumber && l.err == nil {
				info.Serial = s
			}
		}
		if l.err != nil {
			return info, l.err
		}
	}
	abs, okAbs := find(m.Attributes, AttrTimeAbs)
	rel, okRel := find(m.Attributes, AttrTimeRel)
	if okAbs && okRel {
		if len(abs) != 8 || len(rel) != 4 {
			return info, &MessageError{What: "MDS time", Reason: fmt.Sprintf("lengths %d and %d, want 8 and 4", len(abs), len(rel))}
		}
		copy(info.AbsTime[:], abs)
		info.RelTime = RelativeTime(uint32(rel[0])<<24 | uint32(rel[1])<<16 | uint32(rel[2])<<8 | uint32(rel[3]))
		info.HasTime = true
	}
	return info, nil
}

// specSerialNumber is the ProdSpecEntry type of the serial number.
const specSerialNumber = 1

// variableLabel reads a VariableLabel: length(2) and ASCII bytes, NUL
// padded.
func variableLabel(c *cursor) string {
	b := c.bytes(int(c.u16()))
	return strings.TrimRight(string(b), "\x00 ")
}

func appendVariableLabel(dst []byte, s string) []byte {
	b := []byte(s)
	if len(b)%2 == 0 {
		b = append(b, 0, 0)
	} else {
		b = append(b, 0)
	}
	return append(appendU16(dst, uint16(len(b))), b...)
}

// NewMDSCreate returns the MDS Create Event contents a monitor with info
// sends: NOM_ATTR_SYS_ID, NOM_ATTR_ID_MODEL, NOM_ATTR_ID_PROD_SPECN (when
// Serial is set), NOM_ATTR_TIME_ABS and NOM_ATTR_TIME_REL.
func NewMDSCreate(info MDSInfo) MDSCreate {
	m := MDSCreate{Object: ManagedObject{Class: ClassMDS}}
	sysID := appendU16(nil, uint16(len(info.SystemID)))
	m.Attributes = append(m.Attributes,
		AVA{ID: AttrSysID, Value: append(sysID, info.SystemID...)},
		AVA{ID: AttrIDModel, Value: appendVariableLabel(appendVariableLabel(nil, info.Manufacturer), info.Model)})
	if info.Serial != "" {
		entry := appendVariableLabel(appendU16(appendU16(nil, specSerialNumber), 0), info.Serial)
		v := appendU16(appendU16(nil, 1), uint16(len(entry)))
		m.Attributes = append(m.Attributes, AVA{ID: AttrIDProdSpecn, Value: append(v, entry...)})
	}
	m.Attributes = append(m.Attributes,
		AVA{ID: AttrTimeAbs, Value: append([]byte(nil), info.AbsTime[:]...)},
		AVA{ID: AttrTimeRel, Value: appendU32(nil, uint32(info.RelTime))})
	return m
}

// monitor follows what the monitor has said across messages: its
// identity, its clock, object labels and open linked results. It turns
// messages into readings. Not safe for concurrent use.
type monitor struct {
	loc    *time.Location
	device drivers.DeviceID
	reasm  Reassembler
	labels map[uint16]string

	// The last emitted poll reply's relative time, to drop duplicates
	// (overlapping extended polls may report the same refresh twice).
	emitted bool
	lastRel RelativeTime

	// The device clock: relTime ticks correspond to absTime.
	haveClock bool
	relTime   RelativeTime
	absTime   time.Time
}

func newMonitor(loc *time.Location) *monitor {
	return &monitor{loc: loc, device: drivers.DeviceID{Driver: DriverName}, labels: make(map[uint16]string)}
}

// mdsCreate takes the MDS Create Event.
func (m *monitor) mdsCreate(c *MDSCreate) error {
	info, err := c.Info()
	if err != nil {
		return err
	}
	m.device.Model = info.Model
	m.device.Serial = info.Serial
	if m.device.Serial == "" && len(info.SystemID) > 0 {
		m.device.Serial = hex.EncodeToString(info.SystemID)
	}
	if info.HasTime {
		t, err := info.AbsTime.Time(m.loc)
		if err == nil {
			m.haveClock, m.relTime, m.absTime = true, info.RelTime, t
		}
	}
	return nil
}

// deviceTime returns the device time of a poll reply: its absolute time
// stamp when supplied, else the MDS absolute time advanced by the
// relative time since (8000 ticks per second). The relative time is
// followed step by step, so it may wrap around.
func (m *monitor) deviceTime(p *PollReply) time.Time {
	if t, err := p.AbsTime.Time(m.loc); err == nil {
		return t
	}
	if !m.haveClock {
		return time.Time{}
	}
	d := time.Duration(int32(p.RelTime-m.relTime)) * (time.Second / TicksPerSecond)
	m.relTime, m.absTime = p.RelTime, m.absTime.Add(d)
	return m.absTime
}

// reading builds the reading of a complete poll reply, or returns nil
// when it holds no numerics. Observations whose numerics or time stamp do
// not decode are reported in err; their values are kept (without a
// measurement time when the stamp is bad) and the rest of the reply read.
func (m *monitor) reading(p *PollReply) (*drivers.Reading, error) {
	var values []drivers.Value
	var stamps []TimeStamp // per value, the time stamp of its object
	var errs []error
	for _, ctx := range p.Contexts {
		for _, o := range ctx.Observations {
			label := o.Label()
			if label != "" {
				m.labels[o.Handle] = label
			} else {
				label = m.labels[o.Handle]
			}
			nums, err := o.Numerics()
			if err != nil {
				errs = append(errs, fmt.Errorf("object 0x%04X: %w", o.Handle, err))
			}
			stamp, err := o.TimeStamp()
			if err != nil {
				errs = append(errs, fmt.Errorf("object 0x%04X: %w", o.Handle, err))
			}
			for _, n := range nums {
				values = append(values, NumericValue(n, label))
				stamps = append(stamps, stamp)
			}
		}
	}
	var err error
	if len(errs) > 0 {
		err = errs[0]
	}
	if len(values) == 0 {
		return nil, err
	}
	at := m.deviceTime(p)
	for i, s := range stamps {
		values[i].MeasuredAt, _ = s.At(m.loc, p.RelTime, at)
	}
	return &drivers.Reading{Device: m.device, DeviceTime: at, Values: values}, err
}

// handle takes one message and returns the readings it completes.
func (m *monitor) handle(msg Message) ([]*drivers.Reading, error) {
	switch msg := msg.(type) {
	case *Invoke:
		if msg.EventReport != nil && msg.EventReport.MDSCreate != nil {
			return nil, m.mdsCreate(msg.EventReport.MDSCreate)
		}
	case *Result:
		p, err := m.reasm.Add(msg)
		errs := []error{err}
		var out []*drivers.Reading
		stale := m.reasm.Stale()
		if p != nil {
			stale = append(stale, *p)
		}
		for i := range stale {
			r, err := m.replyReading(&stale[i])
			errs = append(errs, err)
			if r != nil {
				out = append(out, r)
			}
		}
		return out, errors.Join(errs...)
	}
	return nil, nil
}

// replyReading returns the reading of a complete poll reply, or nil when
// it holds no numerics or repeats the last one emitted.
func (m *monitor) replyReading(p *PollReply) (*drivers.Reading, error) {
	if m.emitted && p.RelTime == m.lastRel {
		return nil, nil
	}
	r, err := m.reading(p)
	if r != nil {
		m.emitted, m.lastRel = true, p.RelTime
	}
	return r, err
}

// flush returns the readings of chains cut short at the end of input.
func (m *monitor) flush() ([]*drivers.Reading, int) {
	complete, dropped := m.reasm.Flush()
	slices.SortFunc(complete, func(a, b PollReply) int { return int(int32(a.RelTime - b.RelTime)) })
	var out []*drivers.Reading
	for i := range complete {
		if r, _ := m.reading(&complete[i]); r != nil {
			out = append(out, r)
		}
	}
	return out, dropped
}
