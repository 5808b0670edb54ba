package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/gateway/conformancetest"
	"github.com/bedgate/bedgate/gateway/mllp"
)

// TestHL7CentralStation: bedsim --hl7 sends each simulated monitor's
// readings as ORU^R01 over MLLP to a real listener, one bed per monitor,
// every message parsed into readings with values; the capture holds
// exactly the messages sent, and passes the shared PCD-01 validator when
// it is present.
func TestHL7CentralStation(t *testing.T) {
	var mu sync.Mutex
	perBed := map[string]int{}
	var received [][]byte
	acc := mllp.AcceptFunc(func(_ context.Context, msg []byte) error {
		oru, err := hl7v2.ParseORU(msg, hl7v2.Options{})
		if err != nil {
			return mllp.FromParseError(err)
		}
		if len(oru.Readings) != 1 || len(oru.Readings[0].Values) != 7 || oru.Readings[0].Equipment == "" {
			t.Errorf("message %s: %+v", oru.Header.ControlID, oru.Readings)
		}
		mu.Lock()
		defer mu.Unlock()
		perBed[oru.Location.Key()]++
		received = append(received, append([]byte(nil), msg...))
		return nil
	})
	l, err := mllp.Listen(mllp.Options{Addr: "127.0.0.1:0"}, acc)
	if err != nil {
		t.Fatal(err)
	}
	lctx, stopListener := context.WithCancel(context.Background())
	defer stopListener()
	go l.Serve(lctx)

	capture := filepath.Join(t.TempDir(), "sent.mllp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := start(t, ctx, "--hl7", l.Addr().String(), "--hl7-unit", "ICU", "--period", "20ms", "--record", capture,
		"--scenario", "sensor-off", "--speed", "60", "masimo:bed1", "intellivue:bed2")
	if devs := b.devices(2); devs[0][0] != "hl7" || devs[1][1] != "bed2" || devs[1][2] != l.Addr().String() {
		t.Fatalf("device lines %v", devs)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n1, n2 := perBed["ICU^^bed1"], perBed["ICU^^bed2"]
		mu.Unlock()
		if n1 >= 20 && n2 >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d and %d messages for bed1 and bed2 within 20s; stderr:\n%s", n1, n2, b.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := b.wait(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	want := bytes.Join(framed(received), nil)
	mu.Unlock()
	// The capture may end with one message sent but not yet answered.
	if !bytes.HasPrefix(data, want) {
		t.Fatalf("capture of %d bytes does not start with the %d messages received (%d bytes)", len(data), len(received), len(want))
	}
	if st := l.Stats(); st.AA != int64(len(received)) || st.AE+st.AR != 0 {
		t.Fatalf("listener %+v", st)
	}
	out, problems := conformancetest.Validate(t, conformancetest.HL7, capture)
	if problems != 0 {
		t.Fatalf("validate-hl7 on the capture found %d problems:\n%s", problems, out)
	}
	t.Logf("%d messages received, validate-hl7: %s", len(received), strings.TrimSpace(out))
}

func framed(msgs [][]byte) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = mllp.Frame(m)
	}
	return out
}
