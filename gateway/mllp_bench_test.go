package gateway

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/mllp"
)

// BenchmarkIngestMLLPvsSerial measures, in one run and on fresh outboxes
// on disk, how many readings a second become durable when they come
// (serial) as Masimo ASCII 1 lines through the driver into the pipeline,
// one reading at a time as a supervisor takes them, and (mllp) as ORU^R01
// messages from one central-station connection, each acknowledged AA
// after its reading is durable. Both carry the same three values (SpO2,
// pulse rate, perfusion index). It reports both rates and their ratio,
// mllp/serial.
func BenchmarkIngestMLLPvsSerial(b *testing.B) {
	const n = 400
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var serial, viaMLLP time.Duration
	for range b.N {
		serial += timeSerial(b, n, t0, log)
		viaMLLP += timeMLLP(b, n, t0, log)
	}
	rs, rm := float64(n*b.N)/serial.Seconds(), float64(n*b.N)/viaMLLP.Seconds()
	b.ReportMetric(rs, "serial-readings/s")
	b.ReportMetric(rm, "mllp-messages/s")
	b.ReportMetric(rm/rs, "mllp/serial")
}

func benchPipeline(b *testing.B, log *slog.Logger) (*config.Config, *pipeline) {
	cfg, err := config.Default()
	if err != nil {
		b.Fatal(err)
	}
	cfg.Gateway.ID, cfg.Gateway.Site, cfg.Gateway.Ward = "gw", "s", "w"
	cfg.Validation.MaxClockOffset = 1000 * time.Hour
	cfg.Beds = []config.Bed{{Name: "bed1", Driver: config.HL7Driver, Source: "pv1:ICU^^BED1", Device: "bed1"}}
	dir := b.TempDir()
	syncer := &ledgerSync{log: log}
	outbox, err := buffer.Open(filepath.Join(dir, "outbox"), buffer.Options{MaxBytes: 1 << 30, MaxAge: time.Hour, Logger: log,
		BeforeWrite: syncer.beforeWrite})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { outbox.Close(); syncer.close() })
	ledger, err := filed.Open(filepath.Join(dir, "filed"), filed.Options{})
	if err != nil {
		b.Fatal(err)
	}
	syncer.ledger.Store(ledger)
	pipe, err := newPipeline(&cfg, outbox, ledger, time.Now, log)
	if err != nil {
		b.Fatal(err)
	}
	return &cfg, pipe
}

func timeSerial(b *testing.B, n int, t0 time.Time, log *slog.Logger) time.Duration {
	_, pipe := benchPipeline(b, log)
	bp, err := pipe.forBed(Bed{Gateway: "gw", Site: "s", Ward: "w", Name: "bed1", Device: "bed1"}, time.Second, nil)
	if err != nil {
		b.Fatal(err)
	}
	var lines []byte
	for i := range n {
		r := drivers.Reading{Device: drivers.DeviceID{Driver: "masimo", Serial: "0000093112"}, DeviceTime: t0.Add(time.Duration(i) * time.Second), DeviceStatus: "EXC=000000 ALARM=0000",
			Values: []drivers.Value{
				{MDC: 150456, Label: "SPO2", Value: drivers.Float(float64(90 + i%10)), Unit: "%"},
				{MDC: 149530, Label: "BPM", Value: drivers.Float(float64(60 + i%40)), Unit: "/min"},
				{MDC: 150448, Label: "PI", Value: drivers.Float(3.1), Unit: "%"},
			}}
		if lines, err = masimo.AppendLine(lines, r); err != nil {
			b.Fatal(err)
		}
	}
	stored := 0
	start := time.Now()
	st, err := masimo.Decode(context.Background(), bytes.NewReader(lines), drivers.SinkFunc(func(ctx context.Context, r drivers.Reading) error {
		stored++
		return bp.Accept(ctx, r, nil)
	}), drivers.Options{Logger: log})
	elapsed := time.Since(start)
	if err != nil || stored != n {
		b.Fatalf("serial: %d of %d readings, %v, %+v\n%q", stored, n, err, st, lines[:200])
	}
	return elapsed
}

func timeMLLP(b *testing.B, n int, t0 time.Time, log *slog.Logger) time.Duration {
	cfg, pipe := benchPipeline(b, log)
	cfg.MLLP = config.MLLP{Listen: "127.0.0.1:0", MaxMessage: config.DefaultMLLPMaxMessage, Patient: config.PatientFromBed}
	l, err := listenMLLP(cfg, pipe, nil, time.UTC, time.Now, log)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	rd := mllp.NewReader(bufio.NewReader(conn), 0)
	msgs := make([][]byte, n)
	for i := range n {
		ts := t0.Add(time.Duration(i) * time.Second).Format("20060102150405-0700")
		msgs[i] = mllp.Frame(fmt.Appendf(nil, "MSH|^~\\&|CENTRAL|ICU|BEDGATE|RXX|%s||ORU^R01^ORU_R01|B-%d|P|2.6\rPID|1||H1^^^RXX^MR\rPV1|1|I|ICU^^BED1\r"+
			"OBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||%s\r"+
			"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|%d|262688^MDC_DIM_PERCENT^MDC|||||R|||%s||||0000000000016B48\r"+
			"OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.2.1.2|%d|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||%s\r"+
			"OBX|3|NM|150448^MDC_PULS_OXIM_PERF_REL^MDC|1.2.1.3|3.1|262688^MDC_DIM_PERCENT^MDC|||||R|||%s\r",
			ts, i, ts, 90+i%10, ts, 60+i%40, ts, ts))
	}
	start := time.Now()
	for i, m := range msgs {
		if _, err := conn.Write(m); err != nil {
			b.Fatal(err)
		}
		ack, err := rd.Next()
		if err != nil || !bytes.Contains(ack, []byte("MSA|AA|")) {
			b.Fatalf("message %d: %q, %v", i, ack, err)
		}
	}
	return time.Since(start)
}
