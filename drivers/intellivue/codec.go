package intellivue

import (
	"bytes"
	"fmt"
)

// Session-layer SPDU types: the first byte of the user data
// [DEI "Session/Presentation Header"].
const (
	spduConnect    = 0x0D // association request (AARQ), host to monitor
	spduAccept     = 0x0E // association result
	spduRefuse     = 0x0C // association refused
	spduFinish     = 0x09 // release request
	spduDisconnect = 0x0A // release result
	spduAbort      = 0x19 // association abort
	spduDataExport = 0xE1 // SPpdu of a data export message (session id 0xE100)
)

// Remote operation types [DEI "ROapdus"].
const (
	roInvoke       = 1 // ROIV_APDU
	roResult       = 2 // RORS_APDU
	roError        = 3 // ROER_APDU
	roLinkedResult = 5 // ROLRS_APDU
)

// Command is a remote operation's command type [DEI "ROIVapdu"].
type Command uint16

// Command types.
const (
	CmdEventReport          Command = 0
	CmdConfirmedEventReport Command = 1
	CmdGet                  Command = 3
	CmdSet                  Command = 4
	CmdConfirmedSet         Command = 5
	CmdConfirmedAction      Command = 7
)

// LinkedState is the position of a linked result in its chain
// [DEI "RorlsId"].
type LinkedState uint8

// Linked result states.
const (
	LinkedFirst       LinkedState = 1 // RORLS_FIRST
	LinkedNotFirstNot LinkedState = 2 // RORLS_NOT_FIRST_NOT_LAST
	LinkedLast        LinkedState = 3 // RORLS_LAST
)

// Linked identifies one part of a linked result: its state and its count
// (1 for the first part, then incremented).
type Linked struct {
	State LinkedState
	Count uint8
}

// ManagedObject names an object: its class and instance (context, handle)
// [DEI "ManagedObjectId"].
type ManagedObject struct {
	Class   uint16
	Context uint16
	Handle  uint16
}

// mdsObject is the Medical Device System object every poll is sent to.
func mdsObject() ManagedObject { return ManagedObject{Class: ClassMDS} }

func decodeManagedObject(c *cursor) ManagedObject {
	return ManagedObject{Class: c.u16(), Context: c.u16(), Handle: c.u16()}
}

func appendManagedObject(dst []byte, o ManagedObject) []byte {
	return appendU16(appendU16(appendU16(dst, o.Class), o.Context), o.Handle)
}

// Message is one decoded Data Export message. Its dynamic type is one of
// *AssociationRequest, *AssociationResult, *AssociationRefuse,
// *ReleaseRequest, *ReleaseResult, *AssociationAbort, *Invoke, *Result or
// *ErrorResult.
type Message interface {
	message()
}

// AssociationRequest is the host's AARQ (Connect SPDU).
type AssociationRequest struct{ UserInfo UserInfo }

// AssociationResult is the monitor's acceptance (Accept SPDU).
type AssociationResult struct{ UserInfo UserInfo }

// AssociationRefuse is the monitor's refusal (Refuse SPDU).
type AssociationRefuse struct {
	// Reason is the refuse reason parameter, or -1 when absent.
	Reason int
}

// ReleaseRequest asks to end the association (Finish SPDU).
type ReleaseRequest struct{}

// ReleaseResult confirms the end of the association (Disconnect SPDU).
type ReleaseResult struct{}

// AssociationAbort ends the association at once (Abort SPDU).
type AssociationAbort struct{}

// Invoke is a remote operation invoke (ROIV): an event report such as the
// MDS Create Event, or an action such as a poll request.
type Invoke struct {
	InvokeID uint16
	Command  Command
	// EventReport is set for (confirmed) event reports.
	EventReport *EventReport
	// Action is set for (confirmed) actions.
	Action *ActionArgument
	// Argument is the operation's argument, verbatim.
	Argument []byte
}

// Result is a remote operation result (RORS), or one part of a linked
// result (RORLS) when Linked is set.
type Result struct {
	InvokeID uint16
	Linked   *Linked
	Command  Command
	// EventReport is set for the result of a confirmed event report.
	EventReport *EventReportResult
	// Action is set for the result of a confirmed action (poll replies).
	Action *ActionResult
	// Argument is the result's argument, verbatim (GET and SET results
	// are kept only in this form).
	Argument []byte
}

// ErrorResult is a remote operation error (ROER).
type ErrorResult struct {
	InvokeID   uint16
	ErrorValue uint16
	// Argument is the error's parameter, verbatim.
	Argument []byte
}

func (*AssociationRequest) message() {}
func (*AssociationResult) message()  {}
func (*AssociationRefuse) message()  {}
func (*ReleaseRequest) message()     {}
func (*ReleaseResult) message()      {}
func (*AssociationAbort) message()   {}
func (*Invoke) message()             {}
func (*Result) message()             {}
func (*ErrorResult) message()        {}

// EventReport is an EventReportArgument [DEI "EventReportArgument"].
type EventReport struct {
	Object    ManagedObject
	EventTime RelativeTime
	EventType uint16
	// Info is the event information, verbatim.
	Info []byte
	// MDSCreate is set for NOM_NOTI_MDS_CREAT events.
	MDSCreate *MDSCreate
}

// EventReportResult is an EventReportResult [DEI "EventReportResult"].
type EventReportResult struct {
	Object      ManagedObject
	CurrentTime RelativeTime
	EventType   uint16
	Info        []byte
}

// ActionArgument is an ActionArgument [DEI "ActionArgument"].
type ActionArgument struct {
	Object     ManagedObject
	Scope      uint32
	ActionType uint16
	Info       []byte
	// Poll is set for poll actions (single and extended).
	Poll *PollRequest
}

// ActionResult is an ActionResult [DEI "ActionResult"].
type ActionResult struct {
	Object     ManagedObject
	ActionType uint16
	Info       []byte
	// Poll is set for poll replies (single and extended).
	Poll *PollReply
}

// PollRequest is a PollMdibDataReq, or a PollMdibDataReqExt when Extended
// [DEI "PollMdibDataReq", "PollMdibDataReqExt"].
type PollRequest struct {
	Extended   bool
	PollNumber uint16
	ObjectType Type   // for example {PartitionObject, ClassNumeric}
	AttrGroup  uint16 // 0 for all attributes
	// Attributes are the extended poll's options, for example
	// AttrTimePdPoll.
	Attributes []AVA
}

// PollReply is a PollMdibDataReply, or a PollMdibDataReplyExt when
// Extended [DEI "PollMdibDataReply", "PollMdibDataReplyExt"].
type PollReply struct {
	Extended   bool
	PollNumber uint16
	SequenceNo uint16 // extended only
	RelTime    RelativeTime
	AbsTime    AbsoluteTime
	ObjectType Type
	AttrGroup  uint16
	Contexts   []ContextPoll
}

// ContextPoll is a SingleContextPoll: the observations of one MDS context.
type ContextPoll struct {
	ContextID    uint16
	Observations []Observation
}

// Observation is an ObservationPoll: one object's handle and attributes,
// in wire order, known or not.
type Observation struct {
	Handle     uint16
	Attributes []AVA
}

// MDSCreate is the MDSCreateInfo of an MDS Create Event
// [DEI "MDS Create Event"].
type MDSCreate struct {
	Object     ManagedObject
	Attributes []AVA
}

// DecodeMessage decodes the user data of one frame. Unknown attributes
// are kept verbatim; unknown operations keep their argument verbatim. It
// returns a *MessageError when the data is too short or a length field
// overruns its container.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, &MessageError{What: "SPDU", Reason: "empty user data"}
	}
	switch b[0] {
	case spduDataExport:
		return decodeDataExport(b)
	case spduConnect, spduAccept, spduRefuse, spduFinish, spduDisconnect, spduAbort:
		return decodeSession(b)
	}
	return nil, &MessageError{What: "SPDU", Reason: fmt.Sprintf("unknown session SPDU type 0x%02X", b[0])}
}

// decodeLI reads a session-layer length indicator: one byte, or 0xFF and
// two bytes [DEI "Session/Presentation Header"].
func decodeLI(c *cursor) int {
	n := int(c.u8())
	if n == 0xFF {
		n = int(c.u16())
	}
	return n
}

func appendLI(dst []byte, n int) []byte {
	if n < 0xFF {
		return append(dst, byte(n))
	}
	return appendU16(append(dst, 0xFF), uint16(n))
}

func decodeSession(b []byte) (Message, error) {
	c := newCursor(b, 0, "SPDU")
	kind := c.u8()
	n := decodeLI(c)
	body := c.sub(n, "SPDU")
	c.done()
	if c.err != nil {
		return nil, c.err
	}
	switch kind {
	case spduConnect, spduAccept:
		ui, err := findUserInfo(body)
		if err != nil {
			return nil, err
		}
		if kind == spduConnect {
			return &AssociationRequest{UserInfo: ui}, nil
		}
		return &AssociationResult{UserInfo: ui}, nil
	case spduRefuse:
		return &AssociationRefuse{Reason: refuseReason(body.b)}, nil
	case spduFinish:
		return &ReleaseRequest{}, nil
	case spduDisconnect:
		return &ReleaseResult{}, nil
	}
	return &AssociationAbort{}, nil
}

// refuseReason finds the reason parameter (PI 0x32) among the Refuse
// SPDU's parameters, or returns -1.
func refuseReason(b []byte) int {
	for i := 0; i+1 < len(b); {
		pi, li := b[i], int(b[i+1])
		if i+2+li > len(b) {
			break
		}
		if pi == refuseReasonPI && li == 1 {
			return int(b[i+2])
		}
		i += 2 + li
	}
	return -1
}

const refuseReasonPI = 0x32

// userInfoMarker begins the ASN.1 user-information field that carries the
// MDSEUserInfoStd: [30] IMPLICIT, EXTERNAL, both of indefinite length.
var userInfoMarker = []byte{0xBE, 0x80, 0x28, 0x80}

// findUserInfo locates and decodes the MDSEUserInfoStd in the
// presentation data of an AARQ or AARE: after the marker come an optional
// direct-reference OID (tag 0x06), the indirect-reference INTEGER (tag
// 0x02) and the single-ASN1-type (tag 0x81) holding the user info.
func findUserInfo(body *cursor) (UserInfo, error) {
	i := bytes.Index(body.b, userInfoMarker)
	if i < 0 {
		return UserInfo{}, &MessageError{Offset: body.off, What: "association user info", Reason: "no user-information field (BE 80 28 80)"}
	}
	c := newCursor(body.b[i+len(userInfoMarker):], body.off+i+len(userInfoMarker), "association user info")
	for c.err == nil {
		tag := c.u8()
		n := berLength(c)
		v := c.sub(n, "association user info")
		if c.err != nil {
			break
		}
		if tag == 0x81 {
			return decodeUserInfo(v)
		}
		if tag != 0x06 && tag != 0x02 {
			c.fail("unexpected tag 0x%02X before the user info", tag)
		}
	}
	return UserInfo{}, c.err
}

// berLength reads a definite BER length.
func berLength(c *cursor) int {
	n := int(c.u8())
	switch {
	case n < 0x80:
		return n
	case n == 0x81:
		return int(c.u8())
	case n == 0x82:
		return int(c.u16())
	}
	c.fail("unsupported BER length form 0x%02X", n)
	return 0
}

func appendBERLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n < 0x100:
		return append(dst, 0x81, byte(n))
	}
	return appendU16(append(dst, 0x82), uint16(n))
}

// UserInfo is the MDSEUserInfoStd exchanged at association
// [DEI "MDSEUserInfoStd"].
type UserInfo struct {
	ProtocolVersion     uint32
	NomenclatureVersion uint32
	FunctionalUnits     uint32
	SystemType          uint32
	StartupMode         uint32
	Options             []AVA
	// Profiles holds the supported application profiles; the poll
	// profile is AttrPollProfileSupport (see PollProfile).
	Profiles []AVA
}

// User info constants [DEI "MDSEUserInfoStd", "PollProfileSupport"].
const (
	ProtocolVersion1     = 0x80000000 // MDDL_VERSION1
	NomenclatureVersion1 = 0x40000000 // NOMEN_VERSION
	SystemTypeClient     = 0x80000000 // SYST_CLIENT
	SystemTypeServer     = 0x00800000 // SYST_SERVER
	StartupHot           = 0x80000000 // HOT_START
	StartupCold          = 0x20000000 // COLD_START
	PollProfileRevision0 = 0x80000000 // POLL_PROFILE_REV_0
	PollOptDynamic       = 0x60000000 // P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS

	PollExtPeriodNU1s   = 0x80000000 // POLL_EXT_PERIOD_NU_1SEC
	PollExtPeriodRTSA   = 0x08000000 // POLL_EXT_PERIOD_RTSA
	PollExtEnum         = 0x04000000 // POLL_EXT_ENUM
	PollExtNUPrioList   = 0x02000000 // POLL_EXT_NU_PRIO_LIST
	pollProfileFixedLen = 24
)

// PollProfile is the PollProfileSupport of the user info, with its
// optional PollProfileExt [DEI "PollProfileSupport", "PollProfileExt"].
type PollProfile struct {
	Revision      uint32
	MinPollPeriod RelativeTime
	MaxMTURx      uint32
	MaxMTUTx      uint32
	MaxBWTx       uint32
	Options       uint32
	// HasExt says whether NOM_ATTR_POLL_PROFILE_EXT is present; ExtOptions
	// are its options.
	HasExt     bool
	ExtOptions uint32
}

// PollProfile decodes the poll profile among u.Profiles.
func (u UserInfo) PollProfile() (PollProfile, error) {
	v, ok := find(u.Profiles, AttrPollProfileSupport)
	if !ok {
		return PollProfile{}, &MessageError{What: "PollProfileSupport", Reason: "absent"}
	}
	c := newCursor(v, 0, "PollProfileSupport")
	p := PollProfile{Revision: c.u32(), MinPollPeriod: RelativeTime(c.u32()), MaxMTURx: c.u32(), MaxMTUTx: c.u32(), MaxBWTx: c.u32(), Options: c.u32()}
	if c.rest() > 0 {
		opt := decodeAttributeList(c)
		if ext, ok := find(opt, AttrPollProfileExt); ok {
			e := newCursor(ext, 0, "PollProfileExt")
			p.HasExt, p.ExtOptions = true, e.u32()
			if e.err != nil {
				return p, e.err
			}
		}
	}
	c.done()
	return p, c.err
}

// NewUserInfo returns the user info of a host (client, cold start) or of
// a monitor (server, hot start) offering profile p.
func NewUserInfo(server bool, p PollProfile) UserInfo {
	u := UserInfo{ProtocolVersion: ProtocolVersion1, NomenclatureVersion: NomenclatureVersion1, SystemType: SystemTypeClient, StartupMode: StartupCold}
	if server {
		u.SystemType, u.StartupMode = SystemTypeServer, StartupHot
	}
	v := appendU32(nil, p.Revision)
	for _, x := range []uint32{uint32(p.MinPollPeriod), p.MaxMTURx, p.MaxMTUTx, p.MaxBWTx, p.Options} {
		v = appendU32(v, x)
	}
	var opt []AVA
	if p.HasExt {
		opt = append(opt, AVA{ID: AttrPollProfileExt, Value: appendU32(appendU32(nil, p.ExtOptions), 0)})
	}
	v = appendAttributeList(v, opt)
	u.Profiles = []AVA{{ID: AttrPollProfileSupport, Value: v}}
	return u
}

func decodeUserInfo(c *cursor) (UserInfo, error) {
	c.what = "MDSEUserInfoStd"
	u := UserInfo{ProtocolVersion: c.u32(), NomenclatureVersion: c.u32(), FunctionalUnits: c.u32(), SystemType: c.u32(), StartupMode: c.u32()}
	u.Options = decodeAttributeList(c)
	u.Profiles = decodeAttributeList(c)
	c.done()
	return u, c.err
}

func appendUserInfo(dst []byte, u UserInfo) []byte {
	for _, x := range []uint32{u.ProtocolVersion, u.NomenclatureVersion, u.FunctionalUnits, u.SystemType, u.StartupMode} {
		dst = appendU32(dst, x)
	}
	dst = appendAttributeList(dst, u.Options)
	return appendAttributeList(dst, u.Profiles)
}

// The fixed parts of the association messages [DEI "Association Request",
// "Association Response"]: the session header parameters, the
// presentation and ACSE encoding up to the user-information octets, and
// the end-of-contents octets after them. Only the user info and the
// length indicators vary.
const (
	sessionParams = "\x05\x08\x13\x01\x00\x16\x01\x02\x80\x00\x14\x02\x00\x02"
	aarqPrefix    = "\x31\x80\xa0\x80\x80\x01\x01\x00\x00\xa2\x80\xa0\x03\x00\x00\x01\xa4\x80\x30\x80\x02\x01\x01\x06\x04\x52\x01\x00\x01\x30\x80\x06\x02\x51\x01\x00\x00\x00\x00\x30\x80\x02\x01\x02\x06\x0c\x2a\x86\x48\xce\x14\x02\x01\x00\x00\x00\x01\x01\x30\x80\x06\x0c\x2a\x86\x48\xce\x14\x02\x01\x00\x00\x00\x02\x01\x00\x00\x00\x00\x00\x00\x61\x80\x30\x80\x02\x01\x01\xa0\x80\x60\x80\xa1\x80\x06\x0c\x2a\x86\x48\xce\x14\x02\x01\x00\x00\x00\x03\x01\x00\x00\xbe\x80\x28\x80\x06\x0c\x2a\x86\x48\xce\x14\x02\x01\x00\x00\x00\x01\x01\x02\x01\x02"
	aarePrefix    = "\x31\x80\xa0\x80\x80\x01\x01\x00\x00\xa2\x80\xa0\x03\x00\x00\x01\xa5\x80\x30\x80\x80\x01\x00\x81\x02\x51\x01\x00\x00\x30\x80\x80\x01\x00\x81\x0c\x2a\x86\x48\xce\x14\x02\x01\x00\x00\x00\x02\x01\x00\x00\x00\x00\x61\x80\x30\x80\x02\x01\x01\xa0\x80\x61\x80\xa1\x80\x06\x0c\x2a\x86\x48\xce\x14\x02\x01\x00\x00\x00\x03\x01\x00\x00\xa2\x03\x02\x01\x00\xa3\x05\xa1\x03\x02\x01\x00\xbe\x80\x28\x80\x02\x01\x02"
	releaseReq    = "\x09\x18\xc1\x16\x61\x80\x30\x80\x02\x01\x01\xa0\x80\x62\x80\x80\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	releaseRes    = "\x0a\x18\xc1\x16\x61\x80\x30\x80\x02\x01\x01\xa0\x80\x63\x80\x80\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	abortMsg      = "\x19\x2e\x11\x01\x03\xc1\x29\xa0\x80\xa0\x80\x30\x80\x02\x01\x01\x06\x02\x51\x01\x00\x00\x00\x00\x61\x80\x30\x80\x02\x01\x01\xa0\x80\x64\x80\x80\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	trailerZeros  = 16
)

func appendAssociation(dst []byte, spdu byte, prefix string, u UserInfo) []byte {
	ui := appendUserInfo(nil, u)
	pres := []byte(prefix)
	pres = append(pres, 0x81)
	pres = appendBERLength(pres, len(ui))
	pres = append(pres, ui...)
	pres = append(pres, make([]byte, trailerZeros)...)
	var sess []byte
	sess = append(sess, sessionParams...)
	sess = append(sess, 0xC1)
	sess = appendLI(sess, len(pres))
	sess = append(sess, pres...)
	dst = append(dst, spdu)
	dst = appendLI(dst, len(sess))
	return append(dst, sess...)
}

// AppendAssociationRequest appends an AARQ carrying u to dst.
func AppendAssociationRequest(dst []byte, u UserInfo) []byte {
	return appendAssociation(dst, spduConnect, aarqPrefix, u)
}

// AppendAssociationResult appends an association result (AARE, accept)
// carrying u to dst. This is what a monitor sends.
func AppendAssociationResult(dst []byte, u UserInfo) []byte {
	return appendAssociation(dst, spduAccept, aarePrefix, u)
}

// AppendAssociationRefuse appends a Refuse SPDU with a reason parameter.
func AppendAssociationRefuse(dst []byte, reason uint8) []byte {
	return append(dst, spduRefuse, 3, refuseReasonPI, 1, reason)
}

// AppendReleaseRequest appends a release request (Finish SPDU).
func AppendReleaseRequest(dst []byte) []byte { return append(dst, releaseReq...) }

// AppendReleaseResult appends a release result (Disconnect SPDU).
func AppendReleaseResult(dst []byte) []byte { return append(dst, releaseRes...) }

// AppendAssociationAbort appends an Abort SPDU.
func AppendAssociationAbort(dst []byte) []byte { return append(dst, abortMsg...) }
