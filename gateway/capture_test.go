package gateway_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/capture"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/gateway/brokertest"
)

// TestBedCaptureWhileForwarding: with beds[].capture set, the gateway
// records what the port sends while forwarding it; the capture decodes to
// the readings that were forwarded.
func TestBedCaptureWhileForwarding(t *testing.T) {
	broker := brokertest.Start(t, "")
	v, _ := subscribeBed(t, broker.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := startScenarioMonitor(t, ctx, "stable", 50*time.Millisecond)
	cfg := testConfig(t, t.TempDir(), broker.URL(), port, 16<<20)
	dir := filepath.Join(t.TempDir(), "captures")
	cfg.Beds[0].Capture = dir
	done := runGateway(t, ctx, cfg)
	waitUntil(t, "forwarded readings", 20*time.Second, func() bool { b, _ := v.counts(); return b >= 10 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway.Run: %v", err)
	}
	forwarded, _ := v.counts()

	files, err := filepath.Glob(filepath.Join(dir, "bed1-*.cap"))
	if err != nil || len(files) != 1 {
		t.Fatalf("capture files %v (%v), want one", files, err)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, header, err := capture.Raw(f)
	if err != nil {
		t.Fatal(err)
	}
	if header == nil || header.Driver != "masimo" || header.Port != port || header.Line == nil || header.Line.Baud != 9600 {
		t.Errorf("capture header %+v: want the port, driver and line", header)
	}
	var readings int
	st, err := masimo.Decode(context.Background(), raw, drivers.SinkFunc(func(context.Context, drivers.Reading) error {
		readings++
		return nil
	}), drivers.Options{})
	if err != nil {
		t.Fatalf("decode the capture: %v", err)
	}
	if readings < forwarded || st.Bad > 1 {
		t.Errorf("the capture holds %d readings (%d bad lines); %d were forwarded", readings, st.Bad, forwarded)
	}
}
