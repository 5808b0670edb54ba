package intellivue

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

// captureFrames returns the user data of the first n frames of the real
// capture, or skips.
func captureFrames(t testing.TB, n int) [][]byte {
	t.Helper()
	raw := readVector(t, "MPRawoutput1.raw")
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 2*MaxFrameSize)
	sc.Split(SplitFrames)
	var out [][]byte
	for len(out) < n && sc.Scan() {
		f, err := DecodeFrame(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.UserData)
	}
	return out
}

func hostProfile() PollProfile {
	return PollProfile{Revision: PollProfileRevision0, MinPollPeriod: 4000, MaxMTURx: 1000, MaxMTUTx: 1000,
		MaxBWTx: 0xFFFFFFFF, Options: PollOptDynamic, HasExt: true, ExtOptions: PollExtPeriodNU1s}
}

func TestAssociationRequest(t *testing.T) {
	b := AppendAssociationRequest(nil, NewUserInfo(false, hostProfile()))
	if len(b) != 238 || b[0] != 0x0D || b[1] != 236 {
		t.Fatalf("AARQ is %d bytes starting % x, want 238 bytes starting 0d ec", len(b), b[:2])
	}
	if !bytes.Contains(b, []byte{0xBE, 0x80, 0x28, 0x80}) || !bytes.HasSuffix(b, make([]byte, 16)) {
		t.Error("AARQ lacks the user-information field or its end-of-contents octets")
	}
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	req, ok := m.(*AssociationRequest)
	if !ok {
		t.Fatalf("decoded as %T", m)
	}
	if req.UserInfo.SystemType != SystemTypeClient || req.UserInfo.StartupMode != StartupCold {
		t.Errorf("user info %+v", req.UserInfo)
	}
	p, err := req.UserInfo.PollProfile()
	if err != nil || p != hostProfile() {
		t.Errorf("poll profile %+v, %v; want %+v", p, err, hostProfile())
	}
}

// TestAssociationResultFromCapture decodes the monitor's real association
// result and re-encodes it byte for byte.
func TestAssociationResultFromCapture(t *testing.T) {
	ud := captureFrames(t, 1)[0]
	m, err := DecodeMessage(ud)
	if err != nil {
		t.Fatal(err)
	}
	res, ok := m.(*AssociationResult)
	if !ok {
		t.Fatalf("frame 0 decoded as %T", m)
	}
	p, err := res.UserInfo.PollProfile()
	if err != nil {
		t.Fatal(err)
	}
	want := PollProfile{Revision: PollProfileRevision0, MinPollPeriod: 4000, MaxMTURx: 996, MaxMTUTx: 996,
		MaxBWTx: 0xFFFFFFFF, Options: PollOptDynamic, HasExt: true, ExtOptions: 0x8E000000}
	if p != want || res.UserInfo.SystemType != SystemTypeServer {
		t.Errorf("poll profile %+v system type %#x, want %+v server", p, res.UserInfo.SystemType, want)
	}
	if again := AppendAssociationResult(nil, res.UserInfo); !bytes.Equal(again, ud) {
		t.Errorf("re-encoded association result differs:\n% x\n% x", again, ud)
	}
}

func TestMDSCreateFromCapture(t *testing.T) {
	ud := captureFrames(t, 2)[1]
	m, err := DecodeMessage(ud)
	if err != nil {
		t.Fatal(err)
	}
	inv, ok := m.(*Invoke)
	if !ok || inv.EventReport == nil || inv.EventReport.MDSCreate == nil {
		t.Fatalf("frame 1 decoded as %#v", m)
	}
	if inv.Command != CmdConfirmedEventReport || inv.EventReport.EventTime != 1950208 {
		t.Errorf("invoke %d command %d event time %d", inv.InvokeID, inv.Command, inv.EventReport.EventTime)
	}
	info, err := inv.EventReport.MDSCreate.Info()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := info.AbsTime.Time(time.UTC)
	if info.Manufacturer != "Philips" || info.Model != "M8000" || !info.HasTime || info.RelTime != 1950208 ||
		err != nil || !tm.Equal(time.Date(2021, 4, 22, 11, 47, 26, 0, time.UTC)) {
		t.Errorf("MDS info %+v (time %v, %v)", info, tm, err)
	}
	if len(inv.EventReport.MDSCreate.Attributes) != 17 {
		t.Errorf("%d attributes kept, want all 17", len(inv.EventReport.MDSCreate.Attributes))
	}
	// The event re-encodes byte for byte.
	again := AppendMDSCreateEvent(nil, inv.InvokeID, inv.EventReport.EventTime, *inv.EventReport.MDSCreate)
	if !bytes.Equal(again, ud) {
		t.Errorf("re-encoded MDS create event differs")
	}
	// The host's answer, 28 bytes.
	r := AppendMDSCreateResult(nil, inv.InvokeID, inv.EventReport.EventTime)
	if len(r) != 28 {
		t.Errorf("MDS create result is %d bytes, want 28", len(r))
	}
	rm, err := DecodeMessage(r)
	if res, ok := rm.(*Result); err != nil || !ok || res.InvokeID != inv.InvokeID || res.EventReport == nil ||
		res.EventReport.EventType != EventMDSCreate || res.EventReport.CurrentTime != 1950208 {
		t.Errorf("MDS create result decodes as %#v, %v", rm, err)
	}
}

// TestPollResultsReencode re-encodes the capture's first poll results
// (linked and not) byte for byte.
func TestPollResultsReencode(t *testing.T) {
	for i, ud := range captureFrames(t, 20)[2:] {
		m, err := DecodeMessage(ud)
		if err != nil {
			t.Fatal(err)
		}
		res, ok := m.(*Result)
		if !ok || res.Action == nil || res.Action.Poll == nil {
			continue
		}
		again := AppendPollResult(nil, res.InvokeID, res.Linked, *res.Action.Poll)
		if !bytes.Equal(again, ud) {
			t.Errorf("frame %d: re-encoded poll result differs", i+2)
		}
	}
}

func TestPollRequest(t *testing.T) {
	b := AppendPollRequest(nil, 1, NumericsPollRequest(1, 8000))
	want := unhex(t, "e1000002 0001 0028 0001 0007 0022 0021 0000 0000 00000000 f13b 0014 0001 0001 0006 0000 0001 0008 f13e 0004 00001f40")
	if !bytes.Equal(b, want) {
		t.Fatalf("numerics poll request\n% x\nwant\n% x", b, want)
	}
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	inv := m.(*Invoke)
	if inv.Action == nil || inv.Action.Poll == nil || !reflect.DeepEqual(*inv.Action.Poll, NumericsPollRequest(1, 8000)) {
		t.Errorf("decoded %+v", inv.Action)
	}
}

func TestSessionSPDUs(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want Message
	}{
		{"release request", AppendReleaseRequest(nil), &ReleaseRequest{}},
		{"release result", AppendReleaseResult(nil), &ReleaseResult{}},
		{"abort", AppendAssociationAbort(nil), &AssociationAbort{}},
		{"refuse", AppendAssociationRefuse(nil, 5), &AssociationRefuse{Reason: 5}},
		{"refuse without reason", []byte{0x0C, 0x00}, &AssociationRefuse{Reason: -1}},
	}
	for _, tt := range tests {
		got, err := DecodeMessage(tt.b)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: DecodeMessage(% x) = %#v, %v; want %#v", tt.name, tt.b, got, err, tt.want)
		}
	}
	if n := len(AppendReleaseRequest(nil)); n != 26 {
		t.Errorf("release request is %d bytes, want 26", n)
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	good := AppendPollRequest(nil, 1, NumericsPollRequest(1, 8000))
	tests := []struct {
		name string
		b    []byte
		what string
	}{
		{"empty", nil, "SPDU"},
		{"unknown SPDU", []byte{0x42, 0}, "SPDU"},
		{"session length overruns", []byte{0x0E, 0x10, 0x00}, "SPDU"},
		{"accept without user info", []byte{0x0E, 0x02, 0x00, 0x00}, "association user info"},
		{"wrong session id", append([]byte{0xE1, 0x01}, good[2:]...), "SPpdu"},
		{"ROapdus length wrong", append(append([]byte(nil), good...), 0), "ROapdus"},
		{"unknown RO type", append(append([]byte(nil), good[:4]...), 0, 9, 0, 0), "ROapdus"},
		{"truncated argument", append(append([]byte(nil), good[:6]...), 0, 4, 0, 1, 0, 7), "ROIVapdu"},
		{"bad linked state", unhex(t, "e1000002 0005 000a 0901 0001 0007 0000 0000"), "RORLSapdu"},
	}
	for _, tt := range tests {
		_, err := DecodeMessage(tt.b)
		var me *MessageError
		if !errors.As(err, &me) {
			t.Errorf("%s: error %v, want a *MessageError", tt.name, err)
			continue
		}
		if me.What != tt.what {
			t.Errorf("%s: %v: What %q, want %q", tt.name, err, me.What, tt.what)
		}
	}
}

func TestStringAndTime(t *testing.T) {
	b := AppendString(nil, "ΔSpO₂")
	s, err := DecodeString(b)
	if err != nil || s != "ΔSpO₂" {
		t.Errorf("DecodeString(AppendString) = %q, %v", s, err)
	}
	if _, err := DecodeString([]byte{0, 3, 0, 65, 0}); err == nil {
		t.Error("odd-length string accepted")
	}
	tm := time.Date(2021, 4, 22, 11, 47, 26, 370_000_000, time.UTC)
	at := NewAbsoluteTime(tm)
	if at != (AbsoluteTime{0x20, 0x21, 0x04, 0x22, 0x11, 0x47, 0x26, 0x37}) {
		t.Errorf("NewAbsoluteTime = % x", at[:])
	}
	if got, err := at.Time(time.UTC); err != nil || !got.Equal(tm) {
		t.Errorf("Time() = %v, %v", got, err)
	}
	for _, bad := range []AbsoluteTime{NoAbsoluteTime(), {0x20, 0x21, 0x13, 0x01}, {0x2A}} {
		if bad.Valid() {
			t.Errorf("% x is valid", bad[:])
		}
	}
}
