package dri

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// monitorEnd is the device side of a piped link: what the session writes
// arrives on requests, what the test writes reaches the session.
type monitorEnd struct {
	toSession *io.PipeWriter
	requests  chan []byte
}

// pipeLink returns the session's end of a link and the monitor's.
func pipeLink(t *testing.T) (io.ReadWriter, *monitorEnd) {
	sr, mw := io.Pipe() // monitor → session
	mr, sw := io.Pipe() // session → monitor
	m := &monitorEnd{toSession: mw, requests: make(chan []byte, 64)}
	go func() {
		buf := make([]byte, 4096)
		var pending []byte
		for {
			n, err := mr.Read(buf)
			pending = append(pending, buf[:n]...)
			for {
				adv, tok, _ := Split(pending, false)
				if adv == 0 {
					break
				}
				pending = pending[adv:]
				if tok != nil {
					m.requests <- append([]byte{Flag}, append(bytes.Clone(tok), Flag)...)
				}
			}
			if err != nil {
				close(m.requests)
				return
			}
		}
	}()
	t.Cleanup(func() { mw.Close(); mr.Close(); sr.Close(); sw.Close() })
	return struct {
		io.Reader
		io.Writer
	}{sr, sw}, m
}

// nextRequest waits for the session's next request frame.
func (m *monitorEnd) nextRequest(t *testing.T, within time.Duration) []byte {
	t.Helper()
	select {
	case f, ok := <-m.requests:
		if !ok {
			t.Fatal("link closed")
		}
		return f
	case <-time.After(within):
		t.Fatalf("no request within %v", within)
	}
	return nil
}

func TestSessionRequestsAndReRequestsAfterAStall(t *testing.T) {
	link, mon := pipeLink(t)
	const stall = 300 * time.Millisecond
	sess, err := NewSession(link, Options{Options: quiet(), Interval: 5 * time.Second, Stall: stall, Silence: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan drivers.Reading, 16)
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan error, 1)
	go func() {
		ended <- sess.Run(ctx, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
			got <- r
			return nil
		}))
	}()
	want := [][]byte{
		PhdbRequest{Type: PhDispl, Interval: 5}.Frame(),
		PhdbRequest{Type: PhAuxInfo, Interval: 5}.Frame(),
	}
	for _, w := range want {
		if f := mon.nextRequest(t, 2*time.Second); !bytes.Equal(f, w) {
			t.Fatalf("request % x, want % x", f, w)
		}
	}
	// The monitor answers once, then stalls: the session asks again.
	start := time.Now()
	if _, err := mon.toSession.Write(frame(record(11, t0, []byte{1}, basicSub(t0)[:]))); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.DeviceTime.Unix() != t0 {
			t.Errorf("reading at %v", r.DeviceTime)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no reading")
	}
	for _, w := range want {
		if f := mon.nextRequest(t, 10*stall); !bytes.Equal(f, w) {
			t.Fatalf("after the stall: request % x, want % x", f, w)
		}
	}
	if since := time.Since(start); since < stall {
		t.Errorf("asked again after %v, before the stall of %v", since, stall)
	}
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// blockedWriter never finishes a write, as a port whose CTS is held low.
type blockedWriter struct {
	io.Reader
	release chan struct{}
}

func (b blockedWriter) Write(p []byte) (int, error) {
	<-b.release
	return 0, io.ErrClosedPipe
}

func TestSessionWriteHeldUpIsALostLink(t *testing.T) {
	pr, pw := io.Pipe()
	release := make(chan struct{})
	defer func() { close(release); pw.Close() }()
	sess, err := NewSession(blockedWriter{pr, release}, Options{Options: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = sess.Run(t.Context(), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }))
	if !errors.Is(err, drivers.ErrLinkLost) || time.Since(start) > WriteTimeout+time.Second {
		t.Errorf("Run over a held-up port = %v after %v, want a lost link after %v", err, time.Since(start), WriteTimeout)
	}
}

func TestNewSessionOptions(t *testing.T) {
	rw := struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(nil), io.Discard}
	for _, o := range []Options{{Interval: 4 * time.Second}, {Interval: 5500 * time.Millisecond}, {Stall: -1}} {
		if _, err := NewSession(rw, o); err == nil {
			t.Errorf("NewSession(%+v) accepted", o)
		}
	}
	s, err := NewSession(rw, Options{Trend60: true})
	if err != nil || s.opts.Stall != 2*DefaultInterval || s.opts.Silence != DefaultSilence || len(s.opts.Requests()) != 3 {
		t.Errorf("defaults %+v, %v", s.opts, err)
	}
	if d := Driver(); d.Check() != nil || d.Line.String() != "19200 8E1 RTS/CTS" || !d.IsEpisodic(150021) {
		t.Errorf("driver record %+v: %v", d, d.Check())
	}
}
