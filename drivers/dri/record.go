package dri

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record main types (r_maintype) [8005313 table 2-3].
const (
	MainPhdb    = 0 // DRI_MT_PHDB: physiological data and its requests
	MainWave    = 1 // DRI_MT_WAVE: waveforms and their requests
	MainAlarm   = 4 // DRI_MT_ALARM
	MainNetwork = 5 // DRI_MT_NETWORK
	MainFO      = 8 // DRI_MT_FO
)

// Physiological subrecord types (sr_type of DRI_MT_PHDB records).
const (
	PhRequest  = 0 // dri_phdb_req: a transmission request (host to monitor)
	PhDispl    = 1 // DRI_PH_DISPL: displayed values
	Ph10sTrend = 2 // DRI_PH_10S_TREND
	Ph60sTrend = 3 // DRI_PH_60S_TREND
	PhAuxInfo  = 4 // DRI_PH_AUX_INFO: NIBP, C.O. and PCWP measurement times
)

// EndOfList (DRI_EOL_SUBR_LIST) ends the subrecord list of a header.
const EndOfList = 0xFF

// maxSubrecords is the length of the header's sr_desc array.
const maxSubrecords = 8

// Subrecord is one entry of a record's data area: its type and bytes.
type Subrecord struct {
	Type uint8
	Data []byte
}

// Record is a Datex-Ohmeda record: the header fields a host uses and the
// subrecords the header lists, in order. The reserved header fields are
// zero on the way out and ignored on the way in.
type Record struct {
	Number     uint8  // r_nbr
	Level      uint8  // dri_level: the interface level (11 is DRI_LEVEL_05, '15)
	PlugID     uint16 // plug_id of the sending monitor
	Time       uint32 // r_time: seconds since 1970 when the record was sent
	MainType   int16  // r_maintype
	Subrecords []Subrecord
}

// Record errors. ParseRecord wraps them in a *RecordError.
var (
	ErrLength     = errors.New("r_len is not the record's length")
	ErrSubrecords = errors.New("subrecord list out of order or outside the record")
)

// RecordError reports a record whose structure is not valid.
type RecordError struct{ Err error }

func (e *RecordError) Error() string { return "dri: record: " + e.Err.Error() }

// Unwrap returns the reason.
func (e *RecordError) Unwrap() error { return e.Err }

var le = binary.LittleEndian

// ParseRecord reads a record (without its checksum): the header, and each
// listed subrecord as the bytes from its offset to the next one's, the
// last to the end of the record. The subrecords share b's memory.
func ParseRecord(b []byte) (Record, error) {
	if len(b) < HeaderSize {
		return Record{}, &RecordError{fmt.Errorf("%w: %d bytes, the header alone is %d", ErrShort, len(b), HeaderSize)}
	}
	if n := int(int16(le.Uint16(b))); n != len(b) {
		return Record{}, &RecordError{fmt.Errorf("%w: r_len %d, %d bytes", ErrLength, n, len(b))}
	}
	r := Record{Number: b[2], Level: b[3], PlugID: le.Uint16(b[4:]), Time: le.Uint32(b[6:]), MainType: int16(le.Uint16(b[14:]))}
	data := b[HeaderSize:]
	type desc struct {
		offset int
		typ    uint8
	}
	var descs []desc
	for i := range maxSubrecords {
		d := b[16+3*i:]
		typ := d[2]
		if typ == EndOfList {
			break
		}
		off := int(int16(le.Uint16(d)))
		if off < 0 || off > len(data) || (len(descs) > 0 && off < descs[len(descs)-1].offset) {
			return Record{}, &RecordError{fmt.Errorf("%w: subrecord %d at offset %d of %d data bytes", ErrSubrecords, i, off, len(data))}
		}
		descs = append(descs, desc{off, typ})
	}
	for i, d := range descs {
		end := len(data)
		if i+1 < len(descs) {
			end = descs[i+1].offset
		}
		r.Subrecords = append(r.Subrecords, Subrecord{Type: d.typ, Data: data[d.offset:end:end]})
	}
	return r, nil
}

// AppendRecord appends the bytes of r (without a checksum): the header
// with r_len and the subrecord list filled in, then the subrecords one
// after the other. It panics with more than eight subrecords or more than
// MaxData bytes of them (a programming error).
func AppendRecord(dst []byte, r Record) []byte {
	if len(r.Subrecords) > maxSubrecords {
		panic(fmt.Sprintf("dri: %d subrecords, at most %d", len(r.Subrecords), maxSubrecords))
	}
	size := HeaderSize
	for _, s := range r.Subrecords {
		size += len(s.Data)
	}
	if size > MaxRecord {
		panic(fmt.Sprintf("dri: record of %d bytes, at most %d", size, MaxRecord))
	}
	var h [HeaderSize]byte
	le.PutUint16(h[0:], uint16(size))
	h[2], h[3] = r.Number, r.Level
	le.PutUint16(h[4:], r.PlugID)
	le.PutUint32(h[6:], r.Time)
	le.PutUint16(h[14:], uint16(r.MainType))
	off := 0
	for i := range maxSubrecords {
		d := h[16+3*i:]
		if i >= len(r.Subrecords) {
			d[2] = EndOfList
			break
		}
		le.PutUint16(d, uint16(off))
		d[2] = r.Subrecords[i].Type
		off += len(r.Subrecords[i].Data)
	}
	dst = append(dst, h[:]...)
	for _, s := range r.Subrecords {
		dst = append(dst, s.Data...)
	}
	return dst
}

// Physiological data classes a request asks for (phdb_class_bf)
// [8005313 table 3-3]. Basic is sent unless DenyBasic is set.
const (
	ClassDenyBasic = 0x0001 // DRI_PHDBCL_DENY_BASIC_MASK
	ClassExt1      = 0x0002 // DRI_PHDBCL_REQ_EXT1_MASK
	ClassExt2      = 0x0004 // DRI_PHDBCL_REQ_EXT2_MASK
	ClassExt3      = 0x0008 // DRI_PHDBCL_REQ_EXT3_MASK
)

// Transmission intervals of a request (tx_ival).
const (
	IntervalStop   = 0  // cancel the automatic transmission
	IntervalSingle = -1 // one transmission
	MinInterval    = 5  // the shortest automatic interval of displayed values, seconds
)

// PhdbRequestSize is the size of struct dri_phdb_req.
const PhdbRequestSize = 9

// PhdbRequest asks the monitor for physiological data (dri_phdb_req).
type PhdbRequest struct {
	// Type is the subrecord type wanted: PhDispl, Ph10sTrend, Ph60sTrend
	// or PhAuxInfo.
	Type uint8
	// Interval is tx_ival in seconds: IntervalStop, IntervalSingle, or the
	// period of automatic transmission (at least MinInterval for PhDispl).
	Interval int16
	// Classes is phdb_class_bf: zero asks for the basic class only.
	Classes uint32
}

// Record returns the record carrying q, as the host sends it.
func (q PhdbRequest) Record() Record {
	data := make([]byte, PhdbRequestSize)
	data[0] = q.Type
	le.PutUint16(data[1:], uint16(q.Interval))
	le.PutUint32(data[3:], q.Classes)
	return Record{MainType: MainPhdb, Subrecords: []Subrecord{{Type: PhRequest, Data: data}}}
}

// Frame returns the wire bytes of q.
func (q PhdbRequest) Frame() []byte { return AppendFrame(nil, AppendRecord(nil, q.Record())) }

// ParsePhdbRequest reads a transmission request subrecord.
func ParsePhdbRequest(data []byte) (PhdbRequest, error) {
	if len(data) < PhdbRequestSize {
		return PhdbRequest{}, &RecordError{fmt.Errorf("%w: request of %d bytes, want %d", ErrShort, len(data), PhdbRequestSize)}
	}
	return PhdbRequest{Type: data[0], Interval: int16(le.Uint16(data[1:])), Classes: le.Uint32(data[3:])}, nil
}

// Waveform request (struct wf_req) [M1017617 §4].
const (
	WaveRequestSize = 32
	WaveECG1        = 1 // DRI_WF_ECG1
)

// WaveRequest starts or stops waveforms. This package reads no waveforms;
// it builds the request to stop them, and the spec's examples.
type WaveRequest struct {
	Stop  bool    // WF_REQ_CONT_STOP; otherwise WF_REQ_CONT_START
	Types []uint8 // the waveform subrecord types, at most eight
}

// Record returns the record carrying w.
func (w WaveRequest) Record() Record {
	data := make([]byte, WaveRequestSize)
	if w.Stop {
		le.PutUint16(data, 1)
	}
	types := data[4:12]
	n := copy(types, w.Types)
	if n < len(types) {
		types[n] = EndOfList
	}
	return Record{MainType: MainWave, Subrecords: []Subrecord{{Type: 0, Data: data}}}
}

// Frame returns the wire bytes of w.
func (w WaveRequest) Frame() []byte { return AppendFrame(nil, AppendRecord(nil, w.Record())) }
