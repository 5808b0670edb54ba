package dri

import (
	"fmt"
	"strings"
	"time"
)

// Sizes of the physiological subrecords [8005313 §3.2, §3.3].
const (
	PhdbSize      = 278 // struct dri_phdb
	ClassDataSize = 270 // the class union (physdata)
	AuxSize       = 114 // struct aux_phdb_info
)

// Class is the physiological data class of a subrecord (cl_drilvl_subt
// bits 8-11).
type Class uint8

// Classes.
const (
	ClassBasic Class = iota // DRI_PHDBCL_BASIC
	ClassExt1Data
	ClassExt2Data
	ClassExt3Data
)

func (c Class) String() string {
	switch c {
	case ClassBasic:
		return "basic"
	case ClassExt1Data, ClassExt2Data, ClassExt3Data:
		return fmt.Sprintf("ext%d", int(c))
	}
	return fmt.Sprintf("class%d", int(c))
}

// Phdb is a displayed or trended values subrecord (struct dri_phdb).
type Phdb struct {
	Time   uint32 // seconds since 1970
	Data   [ClassDataSize]byte
	Marker byte
	Class  Class
}

// ParsePhdb reads a struct dri_phdb.
func ParsePhdb(b []byte) (Phdb, error) {
	if len(b) < PhdbSize {
		return Phdb{}, &RecordError{fmt.Errorf("%w: physiological subrecord of %d bytes, want %d", ErrShort, len(b), PhdbSize)}
	}
	p := Phdb{Time: le.Uint32(b), Marker: b[4+ClassDataSize], Class: Class(le.Uint16(b[4+ClassDataSize+2:]) >> 8 & 0xF)}
	copy(p.Data[:], b[4:])
	return p, nil
}

// Append appends the 278 bytes of p.
func (p Phdb) Append(dst []byte) []byte {
	dst = le.AppendUint32(dst, p.Time)
	dst = append(dst, p.Data[:]...)
	dst = append(dst, p.Marker, 0)
	return le.AppendUint16(dst, uint16(p.Class)<<8)
}

// Aux is the auxiliary information subrecord (struct aux_phdb_info): the
// times of the latest NIBP, cardiac output and wedge pressure
// measurements, zero when not known.
type Aux struct {
	NIBPTime, COTime, PCWPTime uint32
	BSA                        int16 // 1/100 m²
}

// ParseAux reads a struct aux_phdb_info.
func ParseAux(b []byte) (Aux, error) {
	if len(b) < AuxSize {
		return Aux{}, &RecordError{fmt.Errorf("%w: auxiliary subrecord of %d bytes, want %d", ErrShort, len(b), AuxSize)}
	}
	return Aux{NIBPTime: le.Uint32(b), COTime: le.Uint32(b[6:]), PCWPTime: le.Uint32(b[10:]), BSA: int16(le.Uint16(b[14:]))}, nil
}

// Append appends the 114 bytes of a.
func (a Aux) Append(dst []byte) []byte {
	var b [AuxSize]byte
	le.PutUint32(b[0:], a.NIBPTime)
	le.PutUint32(b[6:], a.COTime)
	le.PutUint32(b[10:], a.PCWPTime)
	le.PutUint16(b[14:], uint16(a.BSA))
	return append(dst, b[:]...)
}

// Special values of a measurement (all at or below -32001; the smallest
// valid value is -32000) [8005313 table 3-9].
const (
	DataInvalid       = -32767 // DATA_INVALID
	DataNotUpdated    = -32766 // DATA_NOT_UPDATED
	DataDiscont       = -32765 // DATA_DISCONT: measurement discontinued
	DataUnderRange    = -32764 // DATA_UNDER_RANGE
	DataOverRange     = -32763 // DATA_OVER_RANGE
	DataNotCalibrated = -32762 // DATA_NOT_CALIBRATED
	DataInvalidLimit  = -32001 // values at or below are special
)

// Group status bits common to every group [8005313 table 3-8].
const (
	StatusExists = 1 << 0 // the measurement module exists
	StatusActive = 1 << 1 // the measurement is active
)

// Group is one parameter group of the basic class as sent: its header
// (zero for the ECG extra group, which has none) and its raw values in
// the spec's order.
type Group struct {
	Name   string
	Status uint32
	Label  uint16
	Values []int16
}

// groupKind says how a group's status and label are read.
type groupKind uint8

const (
	kindECG groupKind = iota
	kindPressure
	kindNIBP
	kindTemp
	kindSpO2
	kindCO2
	kindGas // O2, N2O: calibrating bit 2, measurement off bit 3
	kindAgent
	kindFlow
	kindCOWedge
	kindNMT
	kindECGExtra
	kindSvO2
)

// field is one value of a group: its name, its divisor to the unit (100
// for values in 1/100 of the unit) and its UCUM unit.
type field struct {
	name string
	div  float64
	unit string
}

type groupLayout struct {
	name   string
	offset int // in the class data area
	kind   groupKind
	fields []field
}

const groupHeaderSize = 6

func (g groupLayout) size() int {
	n := 2 * len(g.fields)
	if g.kind != kindECGExtra {
		n += groupHeaderSize
	}
	return n
}

var (
	pressureFields = []field{{"sys", 100, "mm[Hg]"}, {"dia", 100, "mm[Hg]"}, {"mean", 100, "mm[Hg]"}, {"hr", 1, "/min"}}
	gasFields      = []field{{"et", 100, "%"}, {"fi", 100, "%"}}
)

// basicLayout is struct basic_phdb [8005313 §3.5], group by group, with
// each group's offset in the 270-byte class data area.
var basicLayout = func() []groupLayout {
	groups := []groupLayout{
		{name: "ecg", kind: kindECG, fields: []field{{"hr", 1, "/min"}, {"st1", 100, "mm"}, {"st2", 100, "mm"}, {"st3", 100, "mm"}, {"imp_rr", 1, "/min"}}},
		{name: "p1", kind: kindPressure, fields: pressureFields},
		{name: "p2", kind: kindPressure, fields: pressureFields},
		{name: "p3", kind: kindPressure, fields: pressureFields},
		{name: "p4", kind: kindPressure, fields: pressureFields},
		{name: "nibp", kind: kindNIBP, fields: pressureFields},
		{name: "t1", kind: kindTemp, fields: []field{{"temp", 100, "Cel"}}},
		{name: "t2", kind: kindTemp, fields: []field{{"temp", 100, "Cel"}}},
		{name: "t3", kind: kindTemp, fields: []field{{"temp", 100, "Cel"}}},
		{name: "t4", kind: kindTemp, fields: []field{{"temp", 100, "Cel"}}},
		{name: "spo2", kind: kindSpO2, fields: []field{{"spo2", 100, "%"}, {"pr", 1, "/min"}, {"ir_amp", 100, "%"}, {"svo2", 100, "%"}}},
		{name: "co2", kind: kindCO2, fields: []field{{"et", 100, "%"}, {"fi", 100, "%"}, {"rr", 1, "/min"}, {"amb_press", 10, "mm[Hg]"}}},
		{name: "o2", kind: kindGas, fields: gasFields},
		{name: "n2o", kind: kindGas, fields: gasFields},
		{name: "aa", kind: kindAgent, fields: []field{{"et", 100, "%"}, {"fi", 100, "%"}, {"mac_sum", 100, "1"}}},
		{name: "flow_vol", kind: kindFlow, fields: []field{{"rr", 1, "/min"}, {"ppeak", 100, "cm[H2O]"}, {"peep", 100, "cm[H2O]"},
			{"pplat", 100, "cm[H2O]"}, {"tv_insp", 10, "mL"}, {"tv_exp", 10, "mL"}, {"compliance", 100, "mL/cm[H2O]"}, {"mv_exp", 100, "L/min"}}},
		{name: "co_wedge", kind: kindCOWedge, fields: []field{{"co", 1, "mL/min"}, {"blood_temp", 100, "Cel"}, {"ref", 100, "%"}, {"pcwp", 100, "mm[Hg]"}}},
		{name: "nmt", kind: kindNMT, fields: []field{{"t1", 10, "%"}, {"tratio", 10, "%"}, {"ptc", 1, "1"}}},
		{name: "ecg_extra", kind: kindECGExtra, fields: []field{{"hr_ecg", 1, "/min"}, {"hr_max", 1, "/min"}, {"hr_min", 1, "/min"}}},
		{name: "svo2", kind: kindSvO2, fields: []field{{"svo2", 100, "%"}}},
		{name: "p5", kind: kindPressure, fields: pressureFields},
		{name: "p6", kind: kindPressure, fields: pressureFields},
	}
	off := 0
	for i := range groups {
		groups[i].offset = off
		off += groups[i].size()
	}
	if off+2 != ClassDataSize { // two reserved bytes end the class
		panic(fmt.Sprintf("dri: basic class layout of %d bytes", off+2))
	}
	return groups
}()

// BasicGroupNames lists the groups of the basic class in their order.
func BasicGroupNames() []string {
	names := make([]string, len(basicLayout))
	for i, g := range basicLayout {
		names[i] = g.name
	}
	return names
}

// DecodeBasic splits a basic class data area into its groups, in order.
func DecodeBasic(data *[ClassDataSize]byte) []Group {
	out := make([]Group, 0, len(basicLayout))
	for _, l := range basicLayout {
		b := data[l.offset:]
		g := Group{Name: l.name}
		if l.kind != kindECGExtra {
			g.Status, g.Label = le.Uint32(b), le.Uint16(b[4:])
			b = b[groupHeaderSize:]
		}
		for i := range l.fields {
			g.Values = append(g.Values, int16(le.Uint16(b[2*i:])))
		}
		out = append(out, g)
	}
	return out
}

// EncodeBasic returns the basic class data area holding groups; a group
// not given is all zero (its module does not exist). It panics on a group
// name not in the basic class or with too many values.
func EncodeBasic(groups []Group) [ClassDataSize]byte {
	var data [ClassDataSize]byte
	for _, g := range groups {
		l, ok := basicGroup(g.Name)
		if !ok || len(g.Values) > len(l.fields) {
			panic(fmt.Sprintf("dri: basic class has no group %q of %d values", g.Name, len(g.Values)))
		}
		b := data[l.offset:]
		if l.kind != kindECGExtra {
			le.PutUint32(b, g.Status)
			le.PutUint16(b[4:], g.Label)
			b = b[groupHeaderSize:]
		}
		for i, v := range g.Values {
			le.PutUint16(b[2*i:], uint16(v))
		}
	}
	return data
}

func basicGroup(name string) (groupLayout, bool) {
	for _, l := range basicLayout {
		if l.name == name {
			return l, true
		}
	}
	return groupLayout{}, false
}

// phdbTypeName names a physiological subrecord type.
func phdbTypeName(t uint8) string {
	switch t {
	case PhDispl:
		return "DRI_PH_DISPL"
	case Ph10sTrend:
		return "DRI_PH_10S_TREND"
	case Ph60sTrend:
		return "DRI_PH_60S_TREND"
	case PhAuxInfo:
		return "DRI_PH_AUX_INFO"
	}
	return fmt.Sprintf("subrecord type %d", t)
}

// unixTime converts a DRI time stamp; zero is no time.
func unixTime(s uint32) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

// statusWords is the verbatim status and label of each group that exists,
// for Reading.DeviceStatus.
func statusWords(groups []Group) string {
	var b strings.Builder
	for _, g := range groups {
		if g.Status&StatusExists == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%08X/%04X", g.Name, g.Status, g.Label)
	}
	return b.String()
}
