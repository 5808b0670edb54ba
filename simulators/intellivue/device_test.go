package intellivue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/intellivue"
	"github.com/bedgate/bedgate/simulators"
)

var epoch = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fastClock returns a device clock that starts at epoch and runs speed
// times faster than real time.
func fastClock(speed float64) func() time.Time {
	start := time.Now()
	return func() time.Time { return epoch.Add(time.Duration(float64(time.Since(start)) * speed)) }
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// running is a simulated monitor running over a pipe.
type running struct {
	host     net.Conn     // the host's end
	recorded *syncBuffer  // every byte the monitor wrote
	values   *syncBuffer  // the monitor's values log
	stop     func() error // ends Run and returns its error
}

func start(t *testing.T, opts simulators.Options, cfg Config) *running {
	t.Helper()
	r := &running{recorded: new(syncBuffer), values: new(syncBuffer)}
	opts.Values = r.values
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	dev, err := NewDevice(opts, cfg)
	if err != nil {
		t.Fatalf("NewDevice: %v", err)
	}
	hostEnd, devEnd := net.Pipe()
	r.host = hostEnd
	rw := struct {
		io.Reader
		io.Writer
	}{devEnd, io.MultiWriter(r.recorded, devEnd)}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- dev.Run(ctx, rw) }()
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-errc:
			case <-time.After(5 * time.Second):
				runErr = errors.New("Run did not return within 5 s of cancellation")
			}
			hostEnd.Close()
			devEnd.Close()
		})
		return runErr
	}
	t.Cleanup(func() { r.stop() })
	return r
}

// loggedReadings parses a values log.
func loggedReadings(t *testing.T, b []byte) []drivers.Reading {
	t.Helper()
	var out []drivers.Reading
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r drivers.Reading
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("values line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// canonical is a reading's JSON without its gateway receive time.
func canonical(t *testing.T, r drivers.Reading) string {
	t.Helper()
	r.ReceivedAt = time.Time{}
	r.DeviceTime = r.DeviceTime.UTC()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// messages decodes every frame of a monitor→host byte stream.
func messages(t *testing.T, b []byte) (msgs []driver.Message, sizes []int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, driver.MaxFrameSize+1), driver.MaxFrameSize+1)
	sc.Split(driver.SplitFrames)
	for sc.Scan() {
		f, err := driver.DecodeFrame(sc.Bytes())
		if err != nil {
			t.Fatalf("monitor sent a bad frame: %v", err)
		}
		m, err := driver.DecodeMessage(f.UserData)
		if err != nil {
			t.Fatalf("monitor sent a message that does not decode: %v", err)
		}
		msgs = append(msgs, m)
		sizes = append(sizes, len(f.UserData))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("monitor bytes: %v", err)
	}
	return msgs, sizes
}

// sessionConn is one host session's view of the link: end closes it for
// that session alone, as closing a port would, and leaves the link open
// for the next session.
type sessionConn struct {
	net.Conn
	reading atomic.Int32 // Reads in progress
	ended   atomic.Bool
}

func (c *sessionConn) Read(b []byte) (int, error) {
	c.reading.Add(1)
	defer c.reading.Add(-1)
	if c.ended.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(b)
}

// end makes every later Read fail without touching the link, interrupts a
// Read in progress with a read deadline, waits until none is in progress
// and clears the deadline.
func (c *sessionConn) end(t *testing.T) {
	t.Helper()
	c.ended.Store(true)
	c.Conn.SetReadDeadline(time.Now())
	for deadline := time.Now().Add(5 * time.Second); c.reading.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the session's reader did not leave Read after the read deadline")
		}
	}
	c.Conn.SetReadDeadline(time.Time{})
}

// TestSessionAgainstSimulator runs the driver's Session against the
// simulator twice over one link (association, polls, release, a new
// association), and checks that the readings the host decodes are the
// ones the simulator logged, that the driver's Decode gives every logged
// reading from the recorded bytes, and that linked chains were used.
func TestSessionAgainstSimulator(t *testing.T) {
	tests := []struct {
		scenario string
		speed    float64
	}{
		{"stable", 1},
		{"sensor-off", 200}, // ten device seconds per poll: the sensor comes off within the run
		{"artefact", 100},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			m := start(t, simulators.Options{Scenario: tt.scenario, Seed: 3, Serial: "0009FB0A0B0C", Now: fastClock(tt.speed)},
				Config{MinPollPeriod: 20 * time.Millisecond})
			var got []drivers.Reading
			for session, want := range []int{10, 4} {
				host := &sessionConn{Conn: m.host}
				s, err := driver.NewSession(host, driver.Options{
					Options:    drivers.Options{Logger: quiet(), DeviceLocation: time.UTC},
					PollPeriod: 50 * time.Millisecond, Silence: 2 * time.Second,
				})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				n := 0
				err = s.Run(ctx, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
					got = append(got, r)
					if n++; n == want {
						cancel()
					}
					return nil
				}))
				cancel()
				if !errors.Is(err, context.Canceled) || n != want {
					t.Fatalf("session %d: Run = %v after %d readings, want context.Canceled after %d", session+1, err, n, want)
				}
				// The session's reader goroutine may still wait in Read: end
				// it, as closing the port would, before the next session.
				host.end(t)
			}
			if err := m.stop(); !errors.Is(err, context.Canceled) {
				t.Fatalf("device Run = %v, want context.Canceled", err)
			}

			logged := loggedReadings(t, m.values.Bytes())
			// Two polls answered within one relative-time tick (1/8 ms: a
			// loaded machine can deliver two at once) carry the same time;
			// they must then carry the same values too.
			byTime := map[string]drivers.Reading{}
			for _, r := range logged {
				key := r.DeviceTime.UTC().Format(time.RFC3339Nano)
				if prev, ok := byTime[key]; ok && !reflect.DeepEqual(prev.Values, r.Values) {
					t.Fatalf("two logged readings at %s with different values:\n%+v\n%+v", key, prev.Values, r.Values)
				}
				byTime[key] = r
			}
			for i, r := range got {
				if r.Device.Serial != "0009fb0a0b0c" || r.Device.Model != DefaultModel {
					t.Errorf("reading %d from %+v, want model %s serial 0009fb0a0b0c", i, r.Device, DefaultModel)
				}
				l, ok := byTime[r.DeviceTime.UTC().Format(time.RFC3339Nano)]
				if !ok {
					t.Errorf("reading %d at %v: not in the values log", i, r.DeviceTime)
					continue
				}
				if g, w := canonical(t, r), canonical(t, l); g != w {
					t.Errorf("reading %d:\n got %s\nwant %s", i, g, w)
				}
			}
			// A poll answered while the host was releasing is logged but
			// not emitted: at most one per session.
			if extra := len(logged) - len(got); extra < 0 || extra > 2 {
				t.Errorf("%d readings logged, %d received", len(logged), len(got))
			}

			// The recorded bytes decode to every logged reading.
			var decoded []drivers.Reading
			if _, err := driver.Decode(context.Background(), bytes.NewReader(m.recorded.Bytes()), drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
				decoded = append(decoded, r)
				return nil
			}), drivers.Options{Logger: quiet(), DeviceLocation: time.UTC}); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(decoded) != len(logged) {
				t.Fatalf("Decode gave %d readings from the recording, %d logged", len(decoded), len(logged))
			}
			for i := range logged {
				if g, w := canonical(t, decoded[i]), canonical(t, logged[i]); g != w {
					t.Errorf("decoded reading %d:\n got %s\nwant %s", i, g, w)
				}
			}

			// Every numerics result was a chain of three or more parts, each
			// within the MTU, closed by an RORS.
			msgs, sizes := messages(t, m.recorded.Bytes())
			states := map[driver.LinkedState]int{}
			closing := 0
			for i, msg := range msgs {
				if sizes[i] > MTU {
					t.Errorf("message %d: %d bytes, above the MTU %d", i, sizes[i], MTU)
				}
				if r, ok := msg.(*driver.Result); ok && r.Action != nil && r.Action.Poll != nil {
					if r.Linked != nil {
						states[r.Linked.State]++
					} else {
						closing++
					}
				}
			}
			if states[driver.LinkedFirst] != len(logged) || states[driver.LinkedLast] != len(logged) ||
				states[driver.LinkedNotFirstNot] < len(logged) || closing != len(logged) {
				t.Errorf("linked parts %v and %d closing results for %d results, want a first, a middle, a last and a closing result each", states, closing, len(logged))
			}
			t.Logf("%d readings received, %d logged, %d messages", len(got), len(logged), len(msgs))
		})
	}
}

// host is a scripted host over a pipe.
type host struct {
	t    *testing.T
	conn net.Conn
	in   chan driver.Message
}

func newHost(t *testing.T, conn net.Conn) *host {
	h := &host{t: t, conn: conn, in: make(chan driver.Message, 64)}
	go func() {
		sc := bufio.NewScanner(conn)
		sc.Buffer(make([]byte, driver.MaxFrameSize+1), driver.MaxFrameSize+1)
		sc.Split(driver.SplitFrames)
		for sc.Scan() {
			if f, err := driver.DecodeFrame(sc.Bytes()); err == nil {
				if m, err := driver.DecodeMessage(f.UserData); err == nil {
					h.in <- m
				}
			}
		}
		close(h.in)
	}()
	return h
}

func (h *host) send(userData []byte) {
	h.t.Helper()
	frame, err := driver.AppendFrame(nil, userData)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.conn.Write(frame); err != nil {
		h.t.Fatalf("host write: %v", err)
	}
}

// next returns the next message, or nil when none comes within wait.
func (h *host) next(wait time.Duration) driver.Message {
	select {
	case m := <-h.in:
		return m
	case <-time.After(wait):
		return nil
	}
}

// associate sends an association request announcing mtu and confirms the
// MDS Create Event; it returns the monitor's poll profile.
func (h *host) associate(mtu uint32) driver.PollProfile {
	h.t.Helper()
	h.send(driver.AppendAssociationRequest(nil, driver.NewUserInfo(false, driver.PollProfile{
		Revision: driver.PollProfileRevision0, MinPollPeriod: driver.RelativeTimeOf(time.Second),
		MaxMTURx: mtu, MaxMTUTx: mtu, MaxBWTx: 0xFFFFFFFF, Options: driver.PollOptDynamic})))
	res, ok := h.next(time.Second).(*driver.AssociationResult)
	if !ok {
		h.t.Fatal("no association result")
	}
	p, err := res.UserInfo.PollProfile()
	if err != nil {
		h.t.Fatalf("association result: %v", err)
	}
	ev, ok := h.next(time.Second).(*driver.Invoke)
	if !ok || ev.EventReport == nil || ev.EventReport.MDSCreate == nil {
		h.t.Fatal("no MDS Create Event after the association result")
	}
	h.send(driver.AppendMDSCreateResult(nil, ev.InvokeID, ev.EventReport.EventTime))
	return p
}

// poll sends a numerics poll and returns the results up to the closing
// RORS, or nil when the monitor does not answer within wait.
func (h *host) poll(invoke uint16, wait time.Duration) []*driver.Result {
	h.t.Helper()
	h.send(driver.AppendPollRequest(nil, invoke, driver.NumericsPollRequest(invoke, driver.RelativeTimeOf(time.Second))))
	var out []*driver.Result
	for {
		m := h.next(wait)
		if m == nil {
			return out
		}
		r, ok := m.(*driver.Result)
		if !ok {
			h.t.Fatalf("poll answered with %T", m)
		}
		out = append(out, r)
		if r.Linked == nil {
			return out
		}
	}
}

func TestDialog(t *testing.T) {
	const silence = 150 * time.Millisecond
	m := start(t, simulators.Options{Now: fastClock(1)}, Config{Silence: silence})
	h := newHost(t, m.host)

	p := h.associate(1000)
	if p.MaxMTURx != MTU || p.MaxMTUTx != MTU || p.MinPollPeriod != 4000 {
		t.Errorf("poll profile %+v: want max MTU rx/tx %d and minimum poll period 4000 ticks", p, MTU)
	}
	if rs := h.poll(1, time.Second); len(rs) < 4 {
		t.Fatalf("numerics poll answered with %d results, want a linked chain of at least 3 and a closing result", len(rs))
	}

	// Polls keep the association alive past the silence limit.
	for i := range 5 {
		time.Sleep(silence / 2)
		if rs := h.poll(uint16(2+i), time.Second); len(rs) == 0 {
			t.Fatalf("poll %d after %v: no answer", i+2, silence/2)
		}
	}

	// Release: answered, and polls are no longer answered.
	h.send(driver.AppendReleaseRequest(nil))
	if _, ok := h.next(time.Second).(*driver.ReleaseResult); !ok {
		t.Fatal("release request not answered with a release result")
	}
	if rs := h.poll(10, 2*silence); len(rs) != 0 {
		t.Fatalf("poll after release answered: %d results", len(rs))
	}
	// Nor is the released host aborted for its silence.
	if m := h.next(2 * silence); m != nil {
		t.Fatalf("monitor sent %T while not associated", m)
	}

	// A new association; the host then falls silent and is aborted.
	h.associate(1000)
	began := time.Now()
	if _, ok := h.next(10 * silence).(*driver.AssociationAbort); !ok {
		t.Fatal("silent host not aborted")
	}
	if waited := time.Since(began); waited < silence {
		t.Errorf("aborted after %v, before the silence limit %v", waited, silence)
	}
	if rs := h.poll(11, 2*silence); len(rs) != 0 {
		t.Fatalf("poll after the abort answered: %d results", len(rs))
	}

	// A host abort ends the association too.
	h.associate(1000)
	h.send(driver.AppendAssociationAbort(nil))
	if rs := h.poll(12, 2*silence); len(rs) != 0 {
		t.Fatalf("poll after the host's abort answered: %d results", len(rs))
	}

	// An association request during an association starts a new one.
	h.associate(1000)
	h.associate(1000)
	if rs := h.poll(13, time.Second); len(rs) < 4 {
		t.Errorf("after re-association: %d results", len(rs))
	}
}

// TestLargeMTU: a monitor and a host with room for the whole result send
// and take one RORS.
func TestLargeMTU(t *testing.T) {
	m := start(t, simulators.Options{Now: fastClock(1)}, Config{MTU: 4000})
	h := newHost(t, m.host)
	h.associate(8000)
	rs := h.poll(1, time.Second)
	if len(rs) != 1 || rs[0].Linked != nil {
		t.Fatalf("with MTUs of 4000 and 8000: %d results, want one RORS", len(rs))
	}
	if n := len(meantValues(rs[0].Action.Poll.Contexts, time.UTC)); n != 24 {
		t.Errorf("the RORS holds %d numerics, want 24", n)
	}
}

func TestNewDevice(t *testing.T) {
	tests := []struct {
		name       string
		opts       simulators.Options
		cfg        Config
		wantSerial string
		wantModel  string
		wantErr    bool
	}{
		{"defaults", simulators.Options{}, Config{}, DefaultSerial, DefaultModel, false},
		{"bedsim serial is hex", simulators.Options{Serial: "9000000001"}, Config{}, "9000000001", DefaultModel, false},
		{"upper-case system id", simulators.Options{Serial: "0009FB0A0B0C"}, Config{Model: "MX450"}, "0009fb0a0b0c", "MX450", false},
		{"not hex: production serial", simulators.Options{Serial: "SN-0042"}, Config{}, "SN-0042", DefaultModel, false},
		{"odd hex length", simulators.Options{Serial: "123"}, Config{}, "123", DefaultModel, false},
		{"bad serial", simulators.Options{Serial: "bad serial"}, Config{}, "", "", true},
		{"unknown scenario", simulators.Options{Scenario: "asleep"}, Config{}, "", "", true},
		{"negative MTU", simulators.Options{}, Config{MTU: -1}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = quiet()
			d, err := NewDevice(tt.opts, tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatal("NewDevice succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// What the driver reads from the MDS Create Event.
			ev, err := driver.DecodeMessage(driver.AppendMDSCreateEvent(nil, 1, 0, driver.NewMDSCreate(d.info)))
			if err != nil {
				t.Fatal(err)
			}
			info, err := ev.(*driver.Invoke).EventReport.MDSCreate.Info()
			if err != nil {
				t.Fatal(err)
			}
			serial := info.Serial
			if serial == "" {
				serial = hexString(info.SystemID)
			}
			if serial != tt.wantSerial || info.Model != tt.wantModel || d.id.Serial != tt.wantSerial || d.id.Model != tt.wantModel {
				t.Errorf("driver reads model %q serial %q; logged %+v; want %q %q", info.Model, serial, d.id, tt.wantModel, tt.wantSerial)
			}
		})
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestKind(t *testing.T) {
	k := Kind()
	if k.Name != "intellivue" || k.Line.String() != "115200 8N1" {
		t.Errorf("Kind() = %q %v, want intellivue 115200 8N1", k.Name, k.Line)
	}
	d, err := k.New(simulators.Options{Logger: quiet()})
	if err != nil || d == nil {
		t.Fatalf("New = %v, %v", d, err)
	}
}
