package intellivue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
)

// Session defaults.
const (
	// DefaultPollPeriod is how often the session sends an extended
	// numerics poll. The monitor refreshes numerics about once a second,
	// and each poll also keeps the association alive [DEI ch. 3].
	DefaultPollPeriod = time.Second
	// DefaultSilence is how long the monitor may send nothing before the
	// session reports the link lost.
	DefaultSilence = 10 * time.Second
	// DefaultReleaseTimeout is how long the session waits for the release
	// result after a release request.
	DefaultReleaseTimeout = time.Second
	// clockReportThreshold is the device clock offset above which the
	// session logs it at info level.
	clockReportThreshold = 60 * time.Second
	// clockJumpSlack is added to the poll period to tell a clock jump from
	// a late reply.
	clockJumpSlack = 5 * time.Second
)

// HostMTU is the largest message the session announces it can receive
// and send (max_mtu_rx and max_mtu_tx of its poll profile).
const HostMTU = 1000

// readSize is the most a session reads at once.
const readSize = 1024

// Line returns the serial setting of the MIB/RS232 port: 115200 8N1, no
// flow control [DEI ch. 4, "Fixed Baudrate Protocol"].
func Line() drivers.LineSettings {
	return drivers.LineSettings{Baud: 115200, DataBits: 8, Parity: drivers.NoParity, StopBits: 1}
}

// Driver returns the registry record of this driver.
func Driver() drivers.Driver {
	return drivers.Driver{
		Name:        DriverName,
		Description: "Philips IntelliVue MP/MX/X2 Data Export over MIB/RS232 (numerics)",
		Line:        Line(),
		Period:      DefaultPollPeriod,
		Episodic:    []uint32{mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean},
		NewSession: func(rw io.ReadWriter, opts drivers.Options) (drivers.Session, error) {
			return NewSession(rw, Options{Options: opts})
		},
		Decode: Decode,
	}
}

// Options configure a session. The zero value is valid.
type Options struct {
	drivers.Options
	// PollPeriod is how often the session polls numerics; each poll's
	// NOM_ATTR_TIME_PD_POLL is the same period. It is raised to the
	// monitor's minimum poll period when that is longer. The default is
	// DefaultPollPeriod.
	PollPeriod time.Duration
	// Silence is how long the monitor may send nothing before Run returns
	// an error matching drivers.ErrLinkLost. The default is DefaultSilence.
	Silence time.Duration
	// ReleaseTimeout is how long Run waits for the release result after
	// its context ends. The default is DefaultReleaseTimeout.
	ReleaseTimeout time.Duration
}

// Phase is where a session is in the dialog.
type Phase int32

// Session phases, in order. A session moves forward only.
const (
	// PhaseIdle: Run has not started.
	PhaseIdle Phase = iota
	// PhaseAssociating: the association request is sent; the session waits
	// for the association result.
	PhaseAssociating
	// PhaseAwaitingMDS: associated; the session waits for the MDS Create
	// Event.
	PhaseAwaitingMDS
	// PhasePolling: the session polls numerics and emits readings.
	PhasePolling
	// PhaseReleasing: the context ended; the release request is sent.
	PhaseReleasing
	// PhaseClosed: Run has returned.
	PhaseClosed
)

var phaseNames = [...]string{"idle", "associating", "awaiting-mds", "polling", "releasing", "closed"}

// String returns the phase's name, for example "polling".
func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Session is the host side of one Data Export association over a serial
// link. Stats, Phase and ClockOffset are safe for concurrent use; Run must
// not be called more than once.
type Session struct {
	rw    io.ReadWriter
	opts  Options
	count drivers.Counter
	phase atomic.Int32

	mu        sync.Mutex
	offset    time.Duration
	hasOffset bool
}

// NewSession returns a session over rw. The caller owns rw: the session
// never closes it, and after Run returns the caller should close it (a
// Read may still be pending in the session's reader goroutine until then).
func NewSession(rw io.ReadWriter, opts Options) (*Session, error) {
	if rw == nil {
		return nil, errors.New("intellivue: new session: nil port")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"poll period", &opts.PollPeriod, DefaultPollPeriod},
		{"silence", &opts.Silence, DefaultSilence},
		{"release timeout", &opts.ReleaseTimeout, DefaultReleaseTimeout},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("intellivue: new session: %s %v: must not be negative (zero means %v)", d.name, *d.v, d.def)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.Silence <= opts.PollPeriod {
		return nil, fmt.Errorf("intellivue: new session: silence %v must be longer than the poll period %v", opts.Silence, opts.PollPeriod)
	}
	opts.Options = opts.Options.WithDefaults()
	return &Session{rw: rw, opts: opts}, nil
}

// Stats reports what the session has seen so far.
func (s *Session) Stats() drivers.Stats { return s.count.Stats() }

// Phase reports where the session is in the dialog.
func (s *Session) Phase() Phase { return Phase(s.phase.Load()) }

// ClockOffset reports the device clock minus the gateway clock at the last
// reading, and whether there has been a reading with a device time.
func (s *Session) ClockOffset() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset, s.hasOffset
}

// run is the state of one Run.
type run struct {
	s      *Session
	st     *stream
	period time.Duration
	invoke uint16
	pollNo uint16
	// The previous reading's times, to spot device clock jumps.
	prevDevice, prevReceived time.Time
	loggedOffset             time.Duration
	loggedAny                bool
}

// Run associates with the monitor, polls numerics and emits one reading
// per complete poll reply until ctx ends, the link fails or sink fails.
// When ctx ends it sends a release request, waits up to ReleaseTimeout for
// the release result, and returns ctx.Err(). A read or write error, end of
// input, an abort or a release from the monitor give an error matching
// drivers.ErrLinkLost: the supervisor reopens the port and starts a new
// session (re-association with backoff is its job). No bytes for Silence
// gives one matching drivers.ErrSilent: the supervisor starts a new session
// on the open port, which sends a new association request (one every
// Silence while the monitor stays silent). A
// refused association gives a *RefusedError matching ErrRefused.
func (s *Session) Run(ctx context.Context, sink drivers.Sink) error {
	if !s.phase.CompareAndSwap(int32(PhaseIdle), int32(PhaseAssociating)) {
		return errors.New("intellivue: run: session already run")
	}
	defer s.phase.Store(int32(PhaseClosed))
	r := &run{s: s, period: s.opts.PollPeriod,
		st: &stream{opts: s.opts.Options, sink: sink, count: &s.count, mon: newMonitor(s.opts.DeviceLocation)}}
	frames := drivers.FrameLoop{Name: "intellivue", Split: r.st.split, MaxFrame: MaxFrameSize,
		Silence: s.opts.Silence, ReadSize: readSize}.Start(s.rw)
	defer frames.Close()
	if err := r.send(AppendAssociationRequest(nil, NewUserInfo(false, PollProfile{
		Revision: PollProfileRevision0, MinPollPeriod: RelativeTimeOf(s.opts.PollPeriod),
		MaxMTURx: HostMTU, MaxMTUTx: HostMTU, MaxBWTx: 0xFFFFFFFF, Options: PollOptDynamic,
		HasExt: true, ExtOptions: PollExtPeriodNU1s,
	}))); err != nil {
		return err
	}

	poll := time.NewTicker(time.Hour)
	poll.Stop()
	defer poll.Stop()
	err := frames.Run(ctx, drivers.Handler{
		Frame: func(ctx context.Context, token []byte) error {
			if msg := r.st.frame(token); msg != nil {
				return r.message(ctx, msg, poll)
			}
			return nil
		},
		Tick:   poll.C,
		OnTick: func(context.Context) error { return r.poll() },
	})
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return r.release(ctx, frames)
	}
	if errors.Is(err, drivers.ErrLinkLost) && s.Phase() != PhasePolling {
		return fmt.Errorf("intellivue: in phase %v: %w", s.Phase(), err)
	}
	return err
}

// message handles one message from the monitor.
func (r *run) message(ctx context.Context, msg Message, poll *time.Ticker) error {
	s := r.s
	switch m := msg.(type) {
	case *AssociationResult:
		if s.Phase() != PhaseAssociating {
			reject(&s.count, s.opts.Options, &ProtocolError{State: s.Phase().String(), Reason: "association result out of place"})
			return nil
		}
		if p, err := m.UserInfo.PollProfile(); err == nil && p.MinPollPeriod.Duration() > r.period {
			r.period = p.MinPollPeriod.Duration()
		}
		s.phase.Store(int32(PhaseAwaitingMDS))
		s.opts.Logger.Info("intellivue: associated", "poll_period", r.period)
		return nil
	case *AssociationRefuse:
		return &RefusedError{Reason: m.Reason}
	case *AssociationAbort:
		return fmt.Errorf("intellivue: monitor aborted the association: %w", drivers.ErrLinkLost)
	case *ReleaseRequest:
		err := r.send(AppendReleaseResult(nil))
		return errors.Join(fmt.Errorf("intellivue: monitor released the association: %w", drivers.ErrLinkLost), err)
	case *ErrorResult:
		reject(&s.count, s.opts.Options, &ProtocolError{State: s.Phase().String(), Reason: fmt.Sprintf("remote operation error %d for invoke id %d", m.ErrorValue, m.InvokeID)})
		return nil
	case *Invoke:
		if m.EventReport == nil || m.EventReport.MDSCreate == nil {
			return nil
		}
		if err := r.st.message(ctx, m); err != nil {
			return err
		}
		if err := r.send(AppendMDSCreateResult(nil, m.InvokeID, m.EventReport.EventTime)); err != nil {
			return err
		}
		if s.Phase() == PhaseAwaitingMDS {
			s.phase.Store(int32(PhasePolling))
			s.opts.Logger.Info("intellivue: monitor identified", "model", r.st.mon.device.Model)
			poll.Reset(r.period)
			return r.poll()
		}
		return nil
	case *Result:
		if s.Phase() != PhasePolling {
			// A reply to a poll of an earlier session on the same open
			// port (the supervisor keeps a silent monitor's port), or out
			// of place: no readings before this association's MDS.
			reject(&s.count, s.opts.Options, &ProtocolError{State: s.Phase().String(), Reason: "poll result before the monitor is identified"})
			return nil
		}
		rs, err := r.st.mon.handle(m)
		if err != nil {
			reject(&s.count, s.opts.Options, err)
		}
		if err := r.st.emit(ctx, rs); err != nil {
			return err
		}
		for _, rd := range rs {
			r.clock(rd)
		}
	}
	return nil
}

// poll sends one extended numerics poll.
func (r *run) poll() error {
	r.invoke++
	r.pollNo++
	return r.send(AppendPollRequest(nil, r.invoke, NumericsPollRequest(r.pollNo, RelativeTimeOf(r.period))))
}

// clock records the device clock offset and logs large offsets and jumps.
func (r *run) clock(rd *drivers.Reading) {
	if rd.DeviceTime.IsZero() {
		return
	}
	s := r.s
	offset := rd.DeviceTime.Sub(rd.ReceivedAt)
	s.mu.Lock()
	s.offset, s.hasOffset = offset, true
	s.mu.Unlock()
	if abs(offset) > clockReportThreshold && (!r.loggedAny || abs(offset-r.loggedOffset) > clockReportThreshold) {
		s.opts.Logger.Info("intellivue: device clock differs from the gateway clock", "offset", offset.Round(time.Second))
		r.loggedOffset, r.loggedAny = offset, true
	}
	if !r.prevDevice.IsZero() {
		dDev, dRecv := rd.DeviceTime.Sub(r.prevDevice), rd.ReceivedAt.Sub(r.prevReceived)
		if dDev < 0 || abs(dDev-dRecv) > r.period+clockJumpSlack {
			s.opts.Logger.Warn("intellivue: device clock jumped", "device_step", dDev, "gateway_step", dRecv)
		}
	}
	r.prevDevice, r.prevReceived = rd.DeviceTime, rd.ReceivedAt
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// errReleased ends the wait for the release result.
var errReleased = errors.New("intellivue: released")

// release sends a release request when associated and waits briefly for
// the release result; it returns ctx.Err().
func (r *run) release(ctx context.Context, frames *drivers.Frames) error {
	s := r.s
	if ph := s.Phase(); ph == PhaseAssociating {
		return ctx.Err()
	}
	s.phase.Store(int32(PhaseReleasing))
	if err := r.send(AppendReleaseRequest(nil)); err != nil {
		s.opts.Logger.Debug("intellivue: release request not sent", "err", err)
		return ctx.Err()
	}
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ReleaseTimeout)
	defer cancel()
	err := frames.Run(wait, drivers.Handler{Frame: func(_ context.Context, token []byte) error {
		if _, ok := r.st.frame(token).(*ReleaseResult); ok {
			return errReleased
		}
		return nil
	}})
	if errors.Is(err, errReleased) {
		s.opts.Logger.Info("intellivue: released")
	} else {
		s.opts.Logger.Debug("intellivue: no release result", "err", err)
	}
	return ctx.Err()
}

// send frames and writes one message.
func (r *run) send(userData []byte) error {
	frame, err := AppendFrame(nil, userData)
	if err != nil {
		return err
	}
	if _, err := r.s.rw.Write(frame); err != nil {
		return fmt.Errorf("intellivue: write: %w: %w", drivers.ErrLinkLost, err)
	}
	return nil
}
