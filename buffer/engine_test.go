package buffer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBadgerLogLevels(t *testing.T) {
	tests := []struct {
		name string
		call func(badgerLogger)
		want slog.Level
	}{
		{"error stays error", func(l badgerLogger) { l.Errorf("disk %s", "gone") }, slog.LevelError},
		{"warning stays warning", func(l badgerLogger) { l.Warningf("slow %d", 1) }, slog.LevelWarn},
		{"info goes to debug", func(l badgerLogger) { l.Infof("compaction\n") }, slog.LevelDebug},
		{"debug stays debug", func(l badgerLogger) { l.Debugf("flush") }, slog.LevelDebug},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			tt.call(badgerLogger{log: slog.New(rec)})
			if len(rec.records) != 1 {
				t.Fatalf("%d records, want 1", len(rec.records))
			}
			r := rec.records[0]
			if r.Level != tt.want || !strings.HasPrefix(r.Message, "badger: ") || strings.HasSuffix(r.Message, "\n") {
				t.Fatalf("record %v %q, want level %v and a trimmed \"badger: \" message", r.Level, r.Message, tt.want)
			}
		})
	}
}

func TestEngineLogsGoToLogger(t *testing.T) {
	rec := &recorder{}
	b := open(t, t.TempDir(), Options{Logger: slog.New(rec)})
	appendN(t, b, 1, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, r := range rec.records {
		if strings.HasPrefix(r.Message, "badger: ") {
			n++
			if r.Level > slog.LevelDebug {
				t.Errorf("healthy engine logged %q at %v", r.Message, r.Level)
			}
		}
	}
	if n == 0 {
		t.Fatal("no engine log lines reached the logger")
	}
}

func TestLargePayloadsUseValueLogAndSurviveGC(t *testing.T) {
	dir := t.TempDir()
	o := Options{InlineValueLimit: 1 << 10, ValueLogFileSize: 1 << 20, GCInterval: 5 * time.Millisecond, GCDiscardRatio: 0.1}
	b := open(t, dir, o)
	big := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 200<<10) }
	for i := 1; i <= 12; i++ {
		if _, err := b.Append(context.Background(), big(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Ack most of them so that value-log files become garbage while the
	// collector ticks.
	if err := b.Ack(seqRange(1, 9)...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, o)
	es := drain(t, b)
	wantSeqs(t, "after reopen", seqsOf(es), []Seq{10, 11, 12})
	for _, e := range es {
		if !bytes.Equal(e.Payload, big(int(e.Seq))) {
			t.Fatalf("entry %d payload corrupted", e.Seq)
		}
	}
	if _, err := b.Append(context.Background(), make([]byte, 1<<20)); !errors.Is(err, ErrFull) {
		t.Fatalf("payload larger than half a value-log file: %v, want ErrFull", err)
	}
}

func TestGroupLargerThanOneTransaction(t *testing.T) {
	// A 1 MiB memtable allows about 150 KiB per engine transaction; 64
	// concurrent 8 KiB appends make groups several times that.
	dir := t.TempDir()
	o := Options{MemTableSize: 1 << 20, SyncWindow: 20 * time.Millisecond}
	b := open(t, dir, o)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			p := bytes.Repeat([]byte{byte(w)}, 8<<10)
			if _, err := b.Append(context.Background(), p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s := b.Stats(); s.Appended != 64 || s.Syncs >= 64 {
		t.Fatalf("Stats = %+v, want 64 appends in fewer syncs", s)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir, o)
	wantSeqs(t, "after reopen", seqsOf(drain(t, b)), seqRange(1, 64))
}

func TestNoGoroutineOutlivesClose(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := range 3 {
		b, err := Open(t.TempDir(), Options{Logger: quietLogger(), GCInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, b, i, 5)
		go func() { _, _ = b.Next(context.Background(), 100) }()
		time.Sleep(5 * time.Millisecond)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Goroutines may take a moment to be scheduled out after Close.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
