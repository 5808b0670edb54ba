package intellivue

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// AttributeID is an attribute identifier (OIDType, partition NOM_PART_OBJ)
// [DEI "Attribute IDs"].
type AttributeID uint16

// Attribute ids this package interprets or names. Every other attribute is
// kept as a raw [AVA].
const (
	AttrPollProfileSupport AttributeID = 0x0001 // NOM_POLL_PROFILE_SUPPORT (association user info)
	AttrIDHandle           AttributeID = 0x0921 // NOM_ATTR_ID_HANDLE
	AttrIDLabel            AttributeID = 0x0924 // NOM_ATTR_ID_LABEL (TextId)
	AttrIDLabelString      AttributeID = 0x0927 // NOM_ATTR_ID_LABEL_STRING (String)
	AttrIDModel            AttributeID = 0x0928 // NOM_ATTR_ID_MODEL (SystemModel)
	AttrIDProdSpecn        AttributeID = 0x092D // NOM_ATTR_ID_PROD_SPECN (ProductionSpec)
	AttrIDType             AttributeID = 0x092F // NOM_ATTR_ID_TYPE
	AttrMetricSpecn        AttributeID = 0x093F // NOM_ATTR_METRIC_SPECN
	AttrNuCmpdValObs       AttributeID = 0x094B // NOM_ATTR_NU_CMPD_VAL_OBS (compound NuObsValue)
	AttrNuValObs           AttributeID = 0x0950 // NOM_ATTR_NU_VAL_OBS (NuObsValue)
	AttrSACmpdValObs       AttributeID = 0x0967 // NOM_ATTR_SA_CMPD_VAL_OBS (waves: kept raw)
	AttrSAValObs           AttributeID = 0x096E // NOM_ATTR_SA_VAL_OBS (waves: kept raw)
	AttrSysID              AttributeID = 0x0984 // NOM_ATTR_SYS_ID (VariableLabel)
	AttrSysType            AttributeID = 0x0986 // NOM_ATTR_SYS_TYPE
	AttrTimeAbs            AttributeID = 0x0987 // NOM_ATTR_TIME_ABS (AbsoluteTime)
	AttrTimeRel            AttributeID = 0x098F // NOM_ATTR_TIME_REL (RelativeTime)
	AttrTimeStampAbs       AttributeID = 0x0990 // NOM_ATTR_TIME_STAMP_ABS (AbsoluteTime)
	AttrTimeStampRel       AttributeID = 0x0991 // NOM_ATTR_TIME_STAMP_REL (RelativeTime)
	AttrPollProfileExt     AttributeID = 0xF001 // NOM_ATTR_POLL_PROFILE_EXT
	AttrTimePdPoll         AttributeID = 0xF13E // NOM_ATTR_TIME_PD_POLL (RelativeTime)
)

// Object classes and partitions [DEI "Object Classes", "Partitions"].
const (
	PartitionObject = 1 // NOM_PART_OBJ
	PartitionSCADA  = 2 // NOM_PART_SCADA: physiological ids
	PartitionDim    = 4 // NOM_PART_DIM: units

	ClassMDS       = 33 // NOM_MOC_VMS_MDS
	ClassNumeric   = 6  // NOM_MOC_VMO_METRIC_NU
	ClassWave      = 9  // NOM_MOC_VMO_METRIC_SA_RT
	ClassAlarmMon  = 54 // NOM_MOC_VMO_AL_MON
	ActionPoll     = 0x0C16
	ActionPollExt  = 0xF13B
	EventMDSCreate = 0x0D06 // NOM_NOTI_MDS_CREAT
)

// Type is a partition and a code (TYPE) [DEI "TYPE"].
type Type struct {
	Partition uint16
	Code      uint16
}

// AVA is one attribute value assertion: an attribute id and its encoded
// value, kept verbatim [DEI "AttributeList"].
type AVA struct {
	ID    AttributeID
	Value []byte
}

// decodeAttributeList reads count(2) length(2) AVA... [DEI "AttributeList"].
func decodeAttributeList(c *cursor) []AVA {
	count := int(c.u16())
	n := int(c.u16())
	l := c.sub(n, "AttributeList")
	list := make([]AVA, 0, min(count, n/4))
	for range count {
		id := AttributeID(l.u16())
		v := l.bytes(int(l.u16()))
		if l.err != nil {
			break
		}
		list = append(list, AVA{ID: id, Value: v})
	}
	l.done()
	if c.err == nil {
		c.err = l.err
	}
	return list
}

func appendAttributeList(dst []byte, list []AVA) []byte {
	dst = appendU16(dst, uint16(len(list)))
	at := len(dst)
	dst = appendU16(dst, 0)
	for _, a := range list {
		dst = appendU16(dst, uint16(a.ID))
		dst = appendU16(dst, uint16(len(a.Value)))
		dst = append(dst, a.Value...)
	}
	patchU16(dst, at, len(dst)-at-2)
	return dst
}

// find returns the value of the first AVA with id.
func find(list []AVA, id AttributeID) ([]byte, bool) {
	for _, a := range list {
		if a.ID == id {
			return a.Value, true
		}
	}
	return nil, false
}

// MeasurementState is the state word of a numeric [DEI "MeasurementState"].
type MeasurementState uint16

// Measurement state bits.
const (
	StateInvalid        MeasurementState = 0x8000
	StateQuestionable   MeasurementState = 0x4000
	StateUnavailable    MeasurementState = 0x2000
	StateCalibration    MeasurementState = 0x1000 // CALIBRATION_ONGOING
	StateTestData       MeasurementState = 0x0800
	StateDemoData       MeasurementState = 0x0400
	StateValidated      MeasurementState = 0x0080
	StateEarly          MeasurementState = 0x0040 // EARLY_INDICATION
	StateOngoing        MeasurementState = 0x0020 // MSMT_ONGOING
	StateInAlarm        MeasurementState = 0x0002 // MSMT_STATE_IN_ALARM
	StateAlarmInhibited MeasurementState = 0x0001 // MSMT_STATE_AL_INHIBITED
)

// NuObsValue is one numeric observation: physiological id (SCADA
// partition), state, unit code (DIM partition) and value [DEI "NuObsValue"].
type NuObsValue struct {
	PhysioID uint16
	State    MeasurementState
	Unit     uint16
	Value    Float
}

const nuObsValueLen = 10

func decodeNuObsValue(c *cursor) NuObsValue {
	return NuObsValue{PhysioID: c.u16(), State: MeasurementState(c.u16()), Unit: c.u16(), Value: Float(c.u32())}
}

func appendNuObsValue(dst []byte, v NuObsValue) []byte {
	dst = appendU16(dst, v.PhysioID)
	dst = appendU16(dst, uint16(v.State))
	dst = appendU16(dst, v.Unit)
	return appendU32(dst, uint32(v.Value))
}

// DecodeNuObsValue decodes the value of a NOM_ATTR_NU_VAL_OBS attribute.
func DecodeNuObsValue(b []byte) (NuObsValue, error) {
	c := newCursor(b, 0, "NuObsValue")
	v := decodeNuObsValue(c)
	c.done()
	return v, c.err
}

// DecodeCompoundNuObsValue decodes the value of a NOM_ATTR_NU_CMPD_VAL_OBS
// attribute: count(2) length(2) NuObsValue... [DEI "NuObsValueCmp"].
func DecodeCompoundNuObsValue(b []byte) ([]NuObsValue, error) {
	c := newCursor(b, 0, "NuObsValueCmp")
	count := int(c.u16())
	l := c.sub(int(c.u16()), "NuObsValueCmp")
	c.done()
	if c.err != nil {
		return nil, c.err
	}
	if count*nuObsValueLen != len(l.b) {
		l.fail("%d values in %d bytes", count, len(l.b))
		return nil, l.err
	}
	vs := make([]NuObsValue, count)
	for i := range vs {
		vs[i] = decodeNuObsValue(l)
	}
	return vs, l.err
}

// AppendNuObsValue appends the encoded value of a NOM_ATTR_NU_VAL_OBS.
func AppendNuObsValue(dst []byte, v NuObsValue) []byte { return appendNuObsValue(dst, v) }

// AppendCompoundNuObsValue appends the encoded value of a
// NOM_ATTR_NU_CMPD_VAL_OBS.
func AppendCompoundNuObsValue(dst []byte, vs []NuObsValue) []byte {
	dst = appendU16(dst, uint16(len(vs)))
	dst = appendU16(dst, uint16(len(vs)*nuObsValueLen))
	for _, v := range vs {
		dst = appendNuObsValue(dst, v)
	}
	return dst
}

// DecodeString decodes a String attribute (NOM_ATTR_ID_LABEL_STRING):
// length(2) then UTF-16 big-endian characters [DEI "String"]. Trailing NUL
// characters and spaces are removed.
func DecodeString(b []byte) (string, error) {
	c := newCursor(b, 0, "String")
	n := int(c.u16())
	raw := c.bytes(n)
	if c.err != nil {
		return "", c.err
	}
	if n%2 != 0 {
		c.fail("odd length %d for UTF-16", n)
		return "", c.err
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	return strings.TrimRight(string(utf16.Decode(u)), "\x00 "), nil
}

// AppendString appends s as a String attribute value, padded with one NUL
// character.
func AppendString(dst []byte, s string) []byte {
	u := append(utf16.Encode([]rune(s)), 0)
	dst = appendU16(dst, uint16(2*len(u)))
	for _, c := range u {
		dst = appendU16(dst, c)
	}
	return dst
}

// RelativeTime counts ticks of 125 µs (8000 per second) since an
// arbitrary origin in the monitor [DEI "RelativeTime"].
type RelativeTime uint32

// TicksPerSecond is the RelativeTime resolution.
const TicksPerSecond = 8000

// RelativeTimeOf converts a duration to ticks (rounded down).
func RelativeTimeOf(d time.Duration) RelativeTime {
	return RelativeTime(d / (time.Second / TicksPerSecond))
}

// Duration converts ticks to a duration.
func (t RelativeTime) Duration() time.Duration {
	return time.Duration(t) * (time.Second / TicksPerSecond)
}

// AbsoluteTime is a wall-clock time as eight BCD bytes: century, year,
// month, day, hour, minute, second, hundredths [DEI "AbsoluteTime"]. All
// bytes 0xFF means "not supplied".
type AbsoluteTime [8]byte

// Valid reports whether t holds a time (not all 0xFF, BCD digits).
func (t AbsoluteTime) Valid() bool {
	_, err := t.Time(time.UTC)
	return err == nil
}

// Time returns t in loc, the monitor's time zone (the wire carries no
// offset).
func (t AbsoluteTime) Time(loc *time.Location) (time.Time, error) {
	if t == NoAbsoluteTime() {
		return time.Time{}, fmt.Errorf("intellivue: absolute time not supplied")
	}
	var d [8]int
	for i, b := range t {
		hi, lo := int(b>>4), int(b&0x0F)
		if hi > 9 || lo > 9 {
			return time.Time{}, fmt.Errorf("intellivue: absolute time byte %d is 0x%02X, not BCD", i, b)
		}
		d[i] = hi*10 + lo
	}
	year, month, day := d[0]*100+d[1], d[2], d[3]
	if month < 1 || month > 12 || day < 1 || day > 31 || d[4] > 23 || d[5] > 59 || d[6] > 60 {
		return time.Time{}, fmt.Errorf("intellivue: absolute time %x out of range", t[:])
	}
	return time.Date(year, time.Month(month), day, d[4], d[5], d[6], d[7]*int(10*time.Millisecond), loc), nil
}

// NewAbsoluteTime encodes tm (in its own location) as an AbsoluteTime.
func NewAbsoluteTime(tm time.Time) AbsoluteTime {
	bcd := func(v int) byte { return byte(v/10<<4 | v%10) }
	return AbsoluteTime{
		bcd(tm.Year() / 100), bcd(tm.Year() % 100), bcd(int(tm.Month())), bcd(tm.Day()),
		bcd(tm.Hour()), bcd(tm.Minute()), bcd(tm.Second()), bcd(tm.Nanosecond() / int(10*time.Millisecond)),
	}
}

// NoAbsoluteTime returns the AbsoluteTime a monitor sends when it supplies
// none: all bytes 0xFF.
func NoAbsoluteTime() AbsoluteTime {
	return AbsoluteTime{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
}
