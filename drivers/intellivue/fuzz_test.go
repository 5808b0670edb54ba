package intellivue

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seedMessages returns user data of every message kind this package
// builds.
func seedMessages() [][]byte {
	p := PollProfile{Revision: PollProfileRevision0, MinPollPeriod: 4000, MaxMTURx: 996, MaxMTUTx: 996, MaxBWTx: 0xFFFFFFFF, Options: PollOptDynamic, HasExt: true}
	reply := *pollFixture(16000, NoAbsoluteTime(), hrObservation("HR", 60), Observation{Handle: 2, Attributes: []AVA{
		{ID: AttrNuCmpdValObs, Value: AppendCompoundNuObsValue(nil, []NuObsValue{{PhysioID: 0x4A05, Unit: 3872, Value: FloatNaN}})},
		{ID: AttrSAValObs, Value: []byte{0, 1, 2, 3}},
		{ID: AttrTimeStampAbs, Value: []byte{0x20, 0x24, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00}},
	}}, Observation{Handle: 3, Attributes: []AVA{
		{ID: AttrNuCmpdValObs, Value: AppendCompoundNuObsValue(nil, []NuObsValue{{PhysioID: 0x0301, Unit: 1298, Value: NewFloat(-0.9)}})},
		{ID: AttrTimeStampRel, Value: []byte{0x00, 0x00, 0x3E, 0x00}},
	}})
	return [][]byte{
		AppendAssociationRequest(nil, NewUserInfo(false, p)),
		AppendAssociationResult(nil, NewUserInfo(true, p)),
		AppendAssociationRefuse(nil, 1),
		AppendReleaseRequest(nil),
		AppendReleaseResult(nil),
		AppendAssociationAbort(nil),
		AppendMDSCreateEvent(nil, 1, 8000, NewMDSCreate(MDSInfo{Manufacturer: "Philips", Model: "MX800", SystemID: []byte{1, 2, 3}, Serial: "X", AbsTime: NewAbsoluteTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), RelTime: 8000})),
		AppendMDSCreateResult(nil, 1, 8000),
		AppendPollRequest(nil, 1, NumericsPollRequest(1, 8000)),
		AppendPollResult(nil, 1, nil, reply),
		AppendPollResult(nil, 1, &Linked{State: LinkedFirst, Count: 1}, reply),
	}
}

// captureSeeds returns the first frames of the real capture as wire
// frames, or nothing when the shared vectors are absent.
func captureSeeds(n int) [][]byte {
	raw, err := os.ReadFile(filepath.Join(vectorDir(), "MPRawoutput1.raw"))
	if err != nil {
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 2*MaxFrameSize)
	sc.Split(SplitFrames)
	var out [][]byte
	for len(out) < n && sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

func FuzzSplitFrames(f *testing.F) {
	for _, m := range seedMessages() {
		w, _ := AppendFrame([]byte("noise"), m)
		f.Add(w, false)
		f.Add(w[:len(w)-3], true)
	}
	for _, w := range captureSeeds(8) {
		f.Add(w, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, atEOF bool) {
		adv, tok, err := SplitFrames(data, atEOF)
		if adv < 0 || adv > len(data) {
			t.Fatalf("advance %d outside 0..%d", adv, len(data))
		}
		if tok != nil {
			if len(tok) > adv || !bytes.Equal(tok, data[adv-len(tok):adv]) || tok[0] != frameBOF || len(tok) > MaxFrameSize {
				t.Fatalf("token % x is not a frame ending at advance %d", tok, adv)
			}
		}
		if err != nil && !(atEOF && errors.Is(err, ErrTruncated)) {
			t.Fatalf("error %v (atEOF %v)", err, atEOF)
		}
		// Progress: with data at EOF, or a full frame's worth, the
		// splitter never asks for more without consuming anything.
		if adv == 0 && tok == nil && err == nil && (atEOF && len(data) > 0 || len(data) > MaxFrameSize) {
			t.Fatalf("no progress on %d bytes (atEOF %v)", len(data), atEOF)
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	for _, m := range seedMessages() {
		w, _ := AppendFrame(nil, m)
		f.Add(w)
	}
	for _, w := range captureSeeds(8) {
		f.Add(w)
	}
	f.Add([]byte{0xC0, 0x11, 0x01, 0x00, 0x00, 0x7D, 0xC1})
	f.Fuzz(func(t *testing.T, token []byte) {
		fr, err := DecodeFrame(token)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(token) {
				t.Fatalf("error %v is not a *FrameError with an offset in the token", err)
			}
			return
		}
		again, err := AppendFrame(nil, fr.UserData)
		if err != nil {
			t.Fatal(err)
		}
		fr2, err := DecodeFrame(again)
		if err != nil || !bytes.Equal(fr2.UserData, fr.UserData) {
			t.Fatalf("round trip: % x, %v; want % x", fr2.UserData, err, fr.UserData)
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range seedMessages() {
		f.Add(m)
	}
	for _, w := range captureSeeds(8) {
		if fr, err := DecodeFrame(w); err == nil {
			f.Add(fr.UserData)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			var me *MessageError
			if !errors.As(err, &me) || m != nil {
				t.Fatalf("error %T %v (message %v): want a *MessageError and no message", err, err, m)
			}
			return
		}
		// Whatever decodes can be turned into readings without panicking.
		mon := newMonitor(time.UTC)
		if _, err := mon.handle(m); err != nil {
			var me *MessageError
			var pe *ProtocolError
			if !errors.As(err, &me) && !errors.As(err, &pe) {
				t.Fatalf("handle: untyped error %T %v", err, err)
			}
		}
		if r, ok := m.(*Result); ok && r.Action != nil && r.Action.Poll != nil {
			// A poll reply survives re-encoding.
			again := AppendPollResult(nil, r.InvokeID, r.Linked, *r.Action.Poll)
			m2, err := DecodeMessage(again)
			if err != nil {
				t.Fatalf("re-encoded poll result does not decode: %v", err)
			}
			r2, ok := m2.(*Result)
			if !ok || r2.Action == nil || r2.Action.Poll == nil || len(r2.Action.Poll.Contexts) != len(r.Action.Poll.Contexts) {
				t.Fatalf("re-encoded poll result decodes as %+v", m2)
			}
		}
	})
}
