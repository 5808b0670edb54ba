package intellivue

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers"
)

// fakeMonitor is a scripted monitor built from this package's
// monitor-side encoders. It answers an AARQ, sends the MDS Create Event and
// answers each poll with a linked result of three parts and a closing RORS.
type fakeMonitor struct {
	t    *testing.T
	conn net.Conn
	out  chan []byte // frames to write; a writer goroutine drains it

	refuse        bool                     // refuse the association
	noMDS         bool                     // associate, then fall silent
	staleResult   bool                     // answer a poll of an earlier session first
	abortAfter    int                      // send an abort after this many polls (0: never)
	ignoreRelease bool                     // do not answer the release request
	minPoll       RelativeTime             // the minimum poll period it announces (0: 80 ticks)
	stamp         func(n int) AbsoluteTime // the absolute time stamp of reply n (nil: none)

	mu       sync.Mutex
	polls    []PollRequest
	answered bool // the MDS create result arrived
	released bool // the release request arrived
}

var (
	fakeMDSAbs = time.Date(2021, 4, 22, 11, 47, 26, 0, time.UTC)
	fakeMDSRel = RelativeTime(1000)
)

const fakeRefresh = 8192 // ticks between the monitor's refreshes

func startFakeMonitor(t *testing.T, m *fakeMonitor) net.Conn {
	host, mon := net.Pipe()
	m.t, m.conn, m.out = t, mon, make(chan []byte, 256)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // writer: the monitor's transmit buffer
		defer wg.Done()
		for f := range m.out {
			if _, err := mon.Write(f); err != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		defer close(m.out)
		m.serve()
	}()
	t.Cleanup(func() {
		host.Close()
		mon.Close()
		wg.Wait()
	})
	return host
}

func (m *fakeMonitor) send(userData []byte) {
	f, err := AppendFrame(nil, userData)
	if err != nil {
		m.t.Error(err)
		return
	}
	m.out <- f
}

func (m *fakeMonitor) serve() {
	sc := bufio.NewScanner(m.conn)
	sc.Buffer(nil, 2*MaxFrameSize)
	sc.Split(SplitFrames)
	for sc.Scan() {
		f, err := DecodeFrame(sc.Bytes())
		if err != nil {
			m.t.Errorf("monitor got a bad frame: %v", err)
			continue
		}
		msg, err := DecodeMessage(f.UserData)
		if err != nil {
			m.t.Errorf("monitor got a bad message: %v", err)
			continue
		}
		switch msg := msg.(type) {
		case *AssociationRequest:
			p, err := msg.UserInfo.PollProfile()
			if err != nil || p.MaxMTURx != HostMTU || !p.HasExt {
				m.t.Errorf("AARQ poll profile %+v, %v", p, err)
			}
			if m.refuse {
				m.send(AppendAssociationRefuse(nil, 3))
				continue
			}
			if m.staleResult {
				// The reply to the last poll of a session that went
				// silent, arriving in the next one on the same port.
				m.reply(99, NumericsPollRequest(7, RelativeTimeOf(time.Second)), 1)
			}
			m.send(AppendAssociationResult(nil, NewUserInfo(true, PollProfile{Revision: PollProfileRevision0,
				MinPollPeriod: max(m.minPoll, 80), MaxMTURx: 996, MaxMTUTx: 996, MaxBWTx: 0xFFFFFFFF, Options: PollOptDynamic,
				HasExt: true, ExtOptions: PollExtPeriodNU1s})))
			if m.noMDS {
				continue
			}
			m.send(AppendMDSCreateEvent(nil, 1, fakeMDSRel, NewMDSCreate(MDSInfo{
				Manufacturer: "Philips", Model: "MX800", SystemID: []byte{0, 9, 0xfb, 2, 0x9e, 0x18},
				Serial: "DE12345678", AbsTime: NewAbsoluteTime(fakeMDSAbs), RelTime: fakeMDSRel})))
		case *Result:
			if msg.EventReport != nil && msg.EventReport.EventType == EventMDSCreate && msg.InvokeID == 1 {
				m.mu.Lock()
				m.answered = true
				m.mu.Unlock()
			}
		case *Invoke:
			if msg.Action == nil || msg.Action.Poll == nil {
				m.t.Errorf("monitor got an invoke that is not a poll: %+v", msg)
				continue
			}
			m.mu.Lock()
			m.polls = append(m.polls, *msg.Action.Poll)
			n := len(m.polls)
			m.mu.Unlock()
			if m.abortAfter > 0 && n > m.abortAfter {
				m.send(AppendAssociationAbort(nil))
				continue
			}
			m.reply(msg.InvokeID, *msg.Action.Poll, n)
		case *ReleaseRequest:
			m.mu.Lock()
			m.released = true
			m.mu.Unlock()
			if !m.ignoreRelease {
				m.send(AppendReleaseResult(nil))
			}
		}
	}
}

// reply answers poll n with a linked result: HR, then NIBP (compound),
// then SpO2 in alarm and an unknown parameter, then an empty RORS.
func (m *fakeMonitor) reply(invokeID uint16, req PollRequest, n int) {
	base := PollReply{Extended: true, PollNumber: req.PollNumber, RelTime: fakeMDSRel + RelativeTime(n*fakeRefresh),
		AbsTime: NoAbsoluteTime(), ObjectType: req.ObjectType}
	if m.stamp != nil {
		base.AbsTime = m.stamp(n)
	}
	obs := func(handle uint16, label string, attrs ...AVA) PollReply {
		p := base
		attrs = append([]AVA{{ID: AttrIDHandle, Value: appendU16(nil, handle)}, {ID: AttrIDLabelString, Value: AppendString(nil, label)}}, attrs...)
		p.Contexts = []ContextPoll{{Observations: []Observation{{Handle: handle, Attributes: attrs}}}}
		return p
	}
	nu := func(v NuObsValue) AVA { return AVA{ID: AttrNuValObs, Value: AppendNuObsValue(nil, v)} }
	parts := []PollReply{
		obs(1, "HR", nu(NuObsValue{PhysioID: 0x4182, Unit: 2720, Value: NewFloat(float64(60 + n))})),
		obs(2, "NBP", AVA{ID: AttrNuCmpdValObs, Value: AppendCompoundNuObsValue(nil, []NuObsValue{
			{PhysioID: 0x4A05, Unit: 3872, Value: NewFloat(120)},
			{PhysioID: 0x4A06, Unit: 3872, Value: NewFloat(80)},
			{PhysioID: 0x4A07, Unit: 3872, Value: NewFloat(93)},
		})}, AVA{ID: AttrSAValObs, Value: []byte{1, 2, 3, 4}}),
		obs(3, "SpO₂", nu(NuObsValue{PhysioID: 0x4BB8, State: StateInAlarm, Unit: 544, Value: NewFloat(97)}),
			nu(NuObsValue{PhysioID: 0xF123, State: StateUnavailable, Unit: 9999, Value: FloatNaN})),
	}
	for i, p := range parts {
		state := LinkedNotFirstNot
		switch i {
		case 0:
			state = LinkedFirst
		case len(parts) - 1:
			state = LinkedLast
		}
		m.send(AppendPollResult(nil, invokeID, &Linked{State: state, Count: uint8(i + 1)}, p))
	}
	m.send(AppendPollResult(nil, invokeID, nil, base))
}

// logBuffer is a concurrency-safe log destination for tests.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testOptions(logs *logBuffer, now time.Time) Options {
	return Options{
		Options: drivers.Options{
			Logger: slog.New(slog.NewTextHandler(logs, nil)),
			Now:    func() time.Time { return now },
		},
		PollPeriod:     20 * time.Millisecond,
		Silence:        2 * time.Second,
		ReleaseTimeout: time.Second,
	}
}

func TestSessionPollsAndReleases(t *testing.T) {
	mon := &fakeMonitor{}
	conn := startFakeMonitor(t, mon)
	logs := &logBuffer{}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, err := NewSession(conn, testOptions(logs, now))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []drivers.Reading
	sink := drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		got = append(got, r)
		if len(got) == 3 {
			cancel()
		}
		return nil
	})
	err = s.Run(ctx, sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if len(got) < 3 {
		t.Fatalf("%d readings", len(got))
	}
	mon.mu.Lock()
	answered, released, polls := mon.answered, mon.released, append([]PollRequest(nil), mon.polls...)
	mon.mu.Unlock()
	if !answered || !released {
		t.Errorf("MDS create answered %v, release requested %v", answered, released)
	}
	if len(polls) < 3 || polls[0].PollNumber != 1 || polls[1].PollNumber != 2 {
		t.Errorf("polls %+v", polls)
	}
	wantPeriod := appendU32(nil, uint32(RelativeTimeOf(20*time.Millisecond)))
	if v, ok := find(polls[0].Attributes, AttrTimePdPoll); !ok || !bytes.Equal(v, wantPeriod) || polls[0].ObjectType != (Type{PartitionObject, ClassNumeric}) {
		t.Errorf("first poll %+v", polls[0])
	}
	for i, r := range got {
		n := i + 1
		if r.Device != (drivers.DeviceID{Driver: "intellivue", Model: "MX800", Serial: "DE12345678"}) {
			t.Errorf("reading %d device %+v", i, r.Device)
		}
		if want := fakeMDSAbs.Add(time.Duration(n) * 1024 * time.Millisecond); !r.DeviceTime.Equal(want) {
			t.Errorf("reading %d device time %v, want %v", i, r.DeviceTime, want)
		}
		if !r.ReceivedAt.Equal(now) {
			t.Errorf("reading %d received %v", i, r.ReceivedAt)
		}
		want := []drivers.Value{
			{MDC: 147842, Ref: "MDC_ECG_HEART_RATE", Label: "HR", Value: drivers.Float(float64(60 + n)), Unit: "/min"},
			{MDC: 150021, Ref: "MDC_PRESS_BLD_NONINV_SYS", Label: "NBP", Value: drivers.Float(120), Unit: "mm[Hg]"},
			{MDC: 150022, Ref: "MDC_PRESS_BLD_NONINV_DIA", Label: "NBP", Value: drivers.Float(80), Unit: "mm[Hg]"},
			{MDC: 150023, Ref: "MDC_PRESS_BLD_NONINV_MEAN", Label: "NBP", Value: drivers.Float(93), Unit: "mm[Hg]"},
			{MDC: 150456, Ref: "MDC_PULS_OXIM_SAT_O2", Label: "SpO₂", Value: drivers.Float(97), Unit: "%", Status: drivers.AlarmActive},
			{MDC: 2<<16 | 0xF123, Label: "SpO₂", Unit: "mdc-dim:9999", Status: drivers.Unavailable},
		}
		if !sameValues(r.Values, want) {
			t.Errorf("reading %d values\n%+v\nwant\n%+v", i, r.Values, want)
		}
	}
	if off, ok := s.ClockOffset(); !ok || off > -5*365*24*time.Hour {
		t.Errorf("clock offset %v, %v: want about -5.6 years", off, ok)
	}
	if l := logs.String(); !strings.Contains(l, "device clock differs") || !strings.Contains(l, "released") {
		t.Errorf("log lacks the clock offset or the release:\n%s", l)
	}
	if st := s.Stats(); st.Readings != int64(len(got)) || st.Bad != 0 || st.Frames < 2+4*3 {
		t.Errorf("stats %+v", st)
	}
	if s.Phase() != PhaseClosed {
		t.Errorf("phase %v after Run", s.Phase())
	}
	if err := s.Run(t.Context(), sink); err == nil {
		t.Error("second Run succeeded")
	}
}

func sameValues(a, b []drivers.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.MDC != y.MDC || x.Ref != y.Ref || x.Label != y.Label || x.Unit != y.Unit || x.Status != y.Status ||
			(x.Value == nil) != (y.Value == nil) || x.Value != nil && *x.Value != *y.Value {
			return false
		}
	}
	return true
}

func TestSessionFailures(t *testing.T) {
	tests := []struct {
		name    string
		mon     *fakeMonitor
		silence time.Duration
		want    error
		check   func(t *testing.T, err error)
	}{
		{"refused", &fakeMonitor{refuse: true}, time.Second, ErrRefused, func(t *testing.T, err error) {
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != 3 {
				t.Errorf("error %v, want a RefusedError with reason 3", err)
			}
		}},
		{"silent after association", &fakeMonitor{noMDS: true}, 150 * time.Millisecond, drivers.ErrSilent, nil},
		{"aborted", &fakeMonitor{abortAfter: 2}, time.Second, drivers.ErrLinkLost, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "aborted") {
				t.Errorf("error %v does not say aborted", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := startFakeMonitor(t, tt.mon)
			opts := testOptions(&logBuffer{}, time.Now())
			opts.Silence = tt.silence
			s, err := NewSession(conn, opts)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = s.Run(t.Context(), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Run = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > tt.silence+time.Second {
				t.Errorf("Run took %v", d)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

// TestSessionIgnoresAnEarlierSessionsResult: a new session on a port kept
// open (after a silence) may first read the reply to a poll the last
// session sent; it is counted as bad and gives no reading, since the
// monitor is not yet identified in this association.
func TestSessionIgnoresAnEarlierSessionsResult(t *testing.T) {
	conn := startFakeMonitor(t, &fakeMonitor{staleResult: true, noMDS: true})
	opts := testOptions(&logBuffer{}, time.Now())
	opts.Silence = 300 * time.Millisecond
	s, err := NewSession(conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	var readings int
	err = s.Run(t.Context(), drivers.SinkFunc(func(context.Context, drivers.Reading) error { readings++; return nil }))
	if !errors.Is(err, drivers.ErrSilent) {
		t.Fatalf("Run = %v, want silence", err)
	}
	if st := s.Stats(); readings != 0 || st.Bad == 0 {
		t.Errorf("%d readings, stats %+v; want none, the stale result counted bad", readings, st)
	}
}

func TestSessionLinkClosed(t *testing.T) {
	host, mon := net.Pipe()
	go func() { // read the AARQ, then hang up
		buf := make([]byte, 512)
		mon.Read(buf)
		mon.Close()
	}()
	defer host.Close()
	s, err := NewSession(host, testOptions(&logBuffer{}, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(t.Context(), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return nil }))
	if !errors.Is(err, drivers.ErrLinkLost) {
		t.Errorf("Run = %v, want ErrLinkLost", err)
	}
}

func TestSessionSinkErrorStopsRun(t *testing.T) {
	conn := startFakeMonitor(t, &fakeMonitor{})
	s, err := NewSession(conn, testOptions(&logBuffer{}, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	full := errors.New("store full")
	err = s.Run(t.Context(), drivers.SinkFunc(func(context.Context, drivers.Reading) error { return full }))
	if !errors.Is(err, full) {
		t.Errorf("Run = %v, want the sink's error", err)
	}
}

func TestSessionCancelWithoutReleaseResult(t *testing.T) {
	mon := &fakeMonitor{ignoreRelease: true}
	conn := startFakeMonitor(t, mon)
	opts := testOptions(&logBuffer{}, time.Now())
	opts.ReleaseTimeout = 50 * time.Millisecond
	s, err := NewSession(conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	err = s.Run(ctx, drivers.SinkFunc(func(context.Context, drivers.Reading) error { cancel(); return nil }))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestNewSessionOptions(t *testing.T) {
	host, _ := net.Pipe()
	defer host.Close()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"negative poll period", Options{PollPeriod: -1}, "poll period"},
		{"negative silence", Options{Silence: -time.Second}, "silence"},
		{"negative release timeout", Options{ReleaseTimeout: -time.Second}, "release timeout"},
		{"silence not above poll period", Options{PollPeriod: 5 * time.Second, Silence: 5 * time.Second}, "longer than the poll period"},
	}
	for _, tt := range tests {
		if _, err := NewSession(host, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewSession error %v, want one naming %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewSession(nil, Options{}); err == nil {
		t.Error("NewSession(nil) succeeded")
	}
	s, err := NewSession(host, Options{})
	if err != nil || s.opts.PollPeriod != DefaultPollPeriod || s.opts.Silence != DefaultSilence || s.opts.ReleaseTimeout != DefaultReleaseTimeout {
		t.Errorf("defaults %+v, %v", s.opts, err)
	}
}

func TestDriver(t *testing.T) {
	d := Driver()
	if d.Name != "intellivue" || d.Line.String() != "115200 8N1" || d.NewSession == nil || d.Decode == nil {
		t.Errorf("Driver() = %+v", d)
	}
	var reg drivers.Registry
	if err := reg.Register(d); err != nil {
		t.Error(err)
	}
}

// TestSessionClockJumpAndMinimumPeriod: the monitor's minimum poll period
// overrides a shorter PollPeriod, and a device clock that goes backwards
// is logged as a warning.
func TestSessionClockJumpAndMinimumPeriod(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	mon := &fakeMonitor{minPoll: 400, stamp: func(n int) AbsoluteTime {
		if n == 3 {
			return NewAbsoluteTime(t0.Add(-time.Hour))
		}
		return NewAbsoluteTime(t0.Add(time.Duration(n) * time.Second))
	}}
	conn := startFakeMonitor(t, mon)
	logs := &logBuffer{}
	s, err := NewSession(conn, testOptions(logs, t0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var times []time.Time
	err = s.Run(ctx, drivers.SinkFunc(func(_ context.Context, r drivers.Reading) error {
		times = append(times, r.DeviceTime)
		if len(times) == 3 {
			cancel()
		}
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if !times[0].Equal(t0.Add(time.Second)) || !times[2].Equal(t0.Add(-time.Hour)) {
		t.Errorf("device times %v: want the replies' absolute stamps", times)
	}
	mon.mu.Lock()
	first := mon.polls[0]
	mon.mu.Unlock()
	if v, _ := find(first.Attributes, AttrTimePdPoll); !bytes.Equal(v, appendU32(nil, 400)) {
		t.Errorf("poll period attribute % x, want the monitor's minimum 400 ticks", v)
	}
	l := logs.String()
	if !strings.Contains(l, "level=WARN msg=\"intellivue: device clock jumped\"") {
		t.Errorf("no clock jump warning in:\n%s", l)
	}
	if strings.Count(l, "device clock jumped") != 1 {
		t.Errorf("want exactly one jump warning in:\n%s", l)
	}
	if off, ok := s.ClockOffset(); !ok || off != -time.Hour {
		t.Errorf("clock offset %v, %v; want -1h", off, ok)
	}
}
