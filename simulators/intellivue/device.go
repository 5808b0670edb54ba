package intellivue

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bedgate/bedgate/drivers"
	driver "github.com/bedgate/bedgate/drivers/intellivue"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// Defaults of the simulated monitor.
const (
	// DefaultModel is the model the monitor reports in its MDS Create
	// Event: the product number of the IntelliVue MP series.
	DefaultModel = "M8000"
	// DefaultSerial is the system id (the MAC address of the monitor, in
	// hex) reported when Options.Serial is empty.
	DefaultSerial = "0009fb000001"
	// MTU is the largest message, in bytes of user data, the monitor sends
	// and receives on its MIB/RS232 port, as a real one announces.
	MTU = 996
	// MinPollPeriod is the shortest poll period the monitor announces.
	MinPollPeriod = 500 * time.Millisecond
	// DefaultSilence is how long the monitor waits for a message from an
	// associated host before it aborts the association [DEI ch. 3,
	// "Connection Time-out Mechanism"].
	DefaultSilence = 10 * time.Second
)

// manufacturer is the manufacturer in the MDS Create Event.
const manufacturer = "Philips"

// uptime is how long the simulated monitor has been on when a run starts:
// its relative time (ticks since it was switched on) starts there.
const uptime = 4 * time.Minute

// Config sets what a real monitor fixes and tests want to change. The zero
// value gives a monitor like a real one.
type Config struct {
	// Model is the model reported. The default is DefaultModel.
	Model string
	// MTU is the largest message the monitor sends, in bytes of user data;
	// the host's max_mtu_rx lowers it. The default is MTU.
	MTU int
	// MinPollPeriod is the minimum poll period announced in the
	// association result. The default is MinPollPeriod.
	MinPollPeriod time.Duration
	// Silence is how long the monitor waits for a message from an
	// associated host before aborting. The default is DefaultSilence.
	Silence time.Duration
	// NBPInterval is the automatic cycle of the non-invasive blood
	// pressure. The default is NBPInterval (5 min).
	NBPInterval time.Duration
}

// Kind returns the registry record of this simulator.
func Kind() simulators.Kind {
	return simulators.Kind{Name: driver.DriverName, Line: driver.Line(), New: New}
}

// Device is a simulated IntelliVue monitor. Run may be called once at a
// time; a later Run goes on with the same patient and the same clocks.
type Device struct {
	opts   simulators.Options
	cfg    Config
	engine *scenario.Engine
	info   driver.MDSInfo // identity; the times are set at each association
	id     drivers.DeviceID
	st     []float64

	started bool
	start   time.Time // device time of the start of the scenario
	boot    time.Time // device time of relative time 0
	lastRel driver.RelativeTime
	seq     uint16
}

// New returns a simulated monitor with the default Config.
func New(opts simulators.Options) (simulators.Device, error) {
	return NewDevice(opts, Config{})
}

// NewDevice returns a simulated monitor. A serial of hex digits (an even
// number of them, at most 32) is the monitor's system id, sent as
// NOM_ATTR_SYS_ID as real monitors send their MAC address, and the driver
// reports it in lower-case hex; any other serial (ASCII letters, digits
// and dashes, at most 32) is sent as the production specification's serial
// number, with the default system id. It fails on an unknown scenario, a
// serial that is neither, or a negative Config field.
func NewDevice(opts simulators.Options, cfg Config) (*Device, error) {
	opts = opts.WithDefaults(time.Second)
	if opts.Serial == "" {
		opts.Serial = DefaultSerial
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.MTU < 0 || cfg.MinPollPeriod < 0 || cfg.Silence < 0 || cfg.NBPInterval < 0 {
		return nil, fmt.Errorf("intellivue simulator: negative MTU %d, minimum poll period %v, silence %v or NBP interval %v", cfg.MTU, cfg.MinPollPeriod, cfg.Silence, cfg.NBPInterval)
	}
	if cfg.NBPInterval == 0 {
		cfg.NBPInterval = NBPInterval
	}
	if cfg.MTU == 0 {
		cfg.MTU = MTU
	}
	if cfg.MinPollPeriod == 0 {
		cfg.MinPollPeriod = MinPollPeriod
	}
	if cfg.Silence == 0 {
		cfg.Silence = DefaultSilence
	}
	info := driver.MDSInfo{Manufacturer: manufacturer, Model: cfg.Model}
	id := drivers.DeviceID{Driver: driver.DriverName, Model: cfg.Model}
	if sys, err := hex.DecodeString(opts.Serial); err == nil && len(sys) <= 32 {
		info.SystemID = sys
		id.Serial = hex.EncodeToString(sys)
	} else {
		if err := checkSerial(opts.Serial); err != nil {
			return nil, fmt.Errorf("intellivue simulator: serial %q: %w", opts.Serial, err)
		}
		info.SystemID, _ = hex.DecodeString(DefaultSerial)
		info.Serial = opts.Serial
		id.Serial = opts.Serial
	}
	e, err := scenario.New(opts.Scenario, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("intellivue simulator: %w", err)
	}
	return &Device{opts: opts, cfg: cfg, engine: e, info: info, id: id, st: stBaselines(opts.Seed)}, nil
}

func checkSerial(s string) error {
	if len(s) > 32 {
		return errors.New("longer than 32 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return errors.New("must be hex digits (a system id) or ASCII letters, digits and dashes")
		}
	}
	return nil
}

// phase is where the association with the host is.
type phase int

const (
	idle        phase = iota // waiting for an association request
	awaitingMDS              // MDS Create Event sent; waiting for its result
	associated               // answering polls
)

// association is the state of one association.
type association struct {
	phase  phase
	mtu    int
	invoke uint16 // the MDS Create Event's invoke id
	// The device clock as the host follows it: relTime ticks are absTime.
	relTime driver.RelativeTime
	absTime time.Time
}

// Run speaks the monitor's side of the Data Export dialog over rw until
// ctx ends (it then returns ctx.Err()) or rw fails. It waits for an
// association request, answers it, sends the MDS Create Event, and once
// the host has confirmed it answers every poll request; numerics polls get
// the scenario's numerics, split into linked results above the MTU, and,
// when Options.Values is set, one JSON line per complete poll result
// holding the reading the host decodes from it. A release request is
// answered and ends the association, as does an abort from the host; a
// host silent for Config.Silence gets an abort. Either way the monitor
// then waits for a new association request.
//
// The caller owns rw: a Read may still be pending in Run's reader
// goroutine when Run returns, until the caller closes rw.
func (d *Device) Run(ctx context.Context, rw io.ReadWriter) error {
	now := d.opts.Now()
	if !d.started {
		d.started, d.start, d.boot = true, now, now.Add(-uptime)
	}
	var enc *json.Encoder
	if d.opts.Values != nil {
		enc = json.NewEncoder(d.opts.Values)
	}
	done := make(chan struct{})
	defer close(done)
	chunks := make(chan drivers.Chunk, 16)
	go drivers.ReadChunks(rw, readSize, chunks, done)
	buf := make([]byte, 0, 2*driver.MaxFrameSize)

	a := &association{}
	silence := time.NewTimer(d.cfg.Silence)
	silence.Stop()
	defer silence.Stop()
	log := d.opts.Logger
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-silence.C:
			if a.phase == idle {
				continue
			}
			log.Info("intellivue simulator: host silent; association aborted", "silence", d.cfg.Silence)
			a.phase = idle
			if err := send(rw, driver.AppendAssociationAbort(nil)); err != nil {
				return err
			}
		case c := <-chunks:
			if c.Err != nil {
				return fmt.Errorf("intellivue simulator: read: %w", c.Err)
			}
			var msgs []driver.Message
			msgs, buf = d.messages(append(buf, c.Data...))
			for _, m := range msgs {
				if a.phase != idle || isRequest(m) {
					silence.Reset(d.cfg.Silence)
				}
				reading, err := d.handle(rw, a, m)
				if err != nil {
					return err
				}
				if a.phase == idle {
					silence.Stop()
				}
				if reading != nil && enc != nil {
					if err := enc.Encode(reading); err != nil {
						return fmt.Errorf("intellivue simulator: log values: %w", err)
					}
				}
			}
		}
	}
}

func isRequest(m driver.Message) bool {
	_, ok := m.(*driver.AssociationRequest)
	return ok
}

// handle answers one message from the host. It returns the reading the
// host decodes from the answer, if it holds numerics.
func (d *Device) handle(rw io.Writer, a *association, msg driver.Message) (*drivers.Reading, error) {
	log := d.opts.Logger
	switch m := msg.(type) {
	case *driver.AssociationRequest:
		return nil, d.associate(rw, a, m)
	case *driver.ReleaseRequest:
		if a.phase == idle {
			return nil, nil
		}
		a.phase = idle
		log.Info("intellivue simulator: released")
		return nil, send(rw, driver.AppendReleaseResult(nil))
	case *driver.AssociationAbort:
		if a.phase != idle {
			log.Info("intellivue simulator: host aborted the association")
		}
		a.phase = idle
	case *driver.Result:
		if a.phase == awaitingMDS && m.EventReport != nil && m.EventReport.EventType == driver.EventMDSCreate && m.InvokeID == a.invoke {
			a.phase = associated
			log.Debug("intellivue simulator: MDS Create Event confirmed")
		}
	case *driver.Invoke:
		if m.Action == nil || m.Action.Poll == nil {
			log.Debug("intellivue simulator: operation not simulated; ignored", "command", m.Command)
			return nil, nil
		}
		if a.phase != associated {
			log.Debug("intellivue simulator: poll outside an association; ignored")
			return nil, nil
		}
		return d.answerPoll(rw, a, m.InvokeID, m.Action.Poll)
	}
	return nil, nil
}

// associate answers an association request (in any phase: a host that
// lost the previous association starts again) and sends the MDS Create
// Event.
func (d *Device) associate(rw io.Writer, a *association, m *driver.AssociationRequest) error {
	a.phase = awaitingMDS
	a.mtu = d.cfg.MTU
	if p, err := m.UserInfo.PollProfile(); err == nil && p.MaxMTURx > 0 && int64(p.MaxMTURx) < int64(a.mtu) {
		a.mtu = int(p.MaxMTURx)
	}
	err := send(rw, driver.AppendAssociationResult(nil, driver.NewUserInfo(true, driver.PollProfile{
		Revision:      driver.PollProfileRevision0,
		MinPollPeriod: driver.RelativeTimeOf(d.cfg.MinPollPeriod),
		MaxMTURx:      uint32(d.cfg.MTU), MaxMTUTx: uint32(d.cfg.MTU), MaxBWTx: 0xFFFFFFFF,
		Options: driver.PollOptDynamic,
		HasExt:  true, ExtOptions: driver.PollExtPeriodNU1s | driver.PollExtPeriodRTSA | driver.PollExtEnum | driver.PollExtNUPrioList,
	})))
	if err != nil {
		return err
	}
	now := d.opts.Now()
	info := d.info
	info.AbsTime = driver.NewAbsoluteTime(now)
	info.RelTime = d.relTime(now)
	info.HasTime = true
	a.relTime = info.RelTime
	a.absTime, _ = info.AbsTime.Time(now.Location()) // as the host reads it
	a.invoke++
	d.opts.Logger.Info("intellivue simulator: associated", "mtu", a.mtu)
	return send(rw, driver.AppendMDSCreateEvent(nil, a.invoke, info.RelTime, driver.NewMDSCreate(info)))
}

// answerPoll sends the poll result for request p with invoke id id.
func (d *Device) answerPoll(rw io.Writer, a *association, id uint16, p *driver.PollRequest) (*drivers.Reading, error) {
	now := d.opts.Now()
	rel := d.relTime(now)
	d.seq++
	reply := driver.PollReply{
		Extended:   p.Extended,
		PollNumber: p.PollNumber,
		SequenceNo: d.seq,
		RelTime:    rel,
		AbsTime:    driver.NoAbsoluteTime(), // as real monitors: the host derives it
		ObjectType: p.ObjectType,
		AttrGroup:  p.AttrGroup,
	}
	if p.ObjectType == (driver.Type{Partition: driver.PartitionObject, Code: driver.ClassNumeric}) {
		reply.Contexts = contexts(d.objects(now.Sub(d.start), d.start))
	}
	msgs, err := splitResult(id, reply, a.mtu)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := send(rw, m); err != nil {
			return nil, err
		}
	}
	// The device time the host derives: the MDS Create Event's absolute
	// time advanced by the relative time since, step by step.
	a.absTime = a.absTime.Add(time.Duration(int32(rel-a.relTime)) * (time.Second / driver.TicksPerSecond))
	a.relTime = rel
	values := meantValues(reply.Contexts, now.Location())
	if len(values) == 0 {
		return nil, nil
	}
	d.opts.Logger.Debug("intellivue simulator: numerics sent", "values", len(values), "messages", len(msgs))
	return &drivers.Reading{Device: d.id, DeviceTime: a.absTime, Values: values}, nil
}

// relTime returns the monitor's relative time at device time t, always
// later than the last one it gave (a host drops a poll result with the
// same time stamp as the previous one).
func (d *Device) relTime(t time.Time) driver.RelativeTime {
	rel := driver.RelativeTimeOf(t.Sub(d.boot))
	if int32(rel-d.lastRel) <= 0 && d.lastRel != 0 {
		rel = d.lastRel + 1
	}
	d.lastRel = rel
	return rel
}

// send frames and writes one message.
func send(w io.Writer, userData []byte) error {
	frame, err := driver.AppendFrame(nil, userData)
	if err != nil {
		return fmt.Errorf("intellivue simulator: %w", err)
	}
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("intellivue simulator: write: %w", err)
	}
	return nil
}

// readSize is the most the simulator reads at once.
const readSize = 1024

// messages cuts the complete frames from buf and decodes them. It returns
// the messages that decode and, reusing buf, the bytes of the unfinished
// frame at its end. Frames that do not decode are dropped, as a monitor
// drops them.
func (d *Device) messages(buf []byte) ([]driver.Message, []byte) {
	var msgs []driver.Message
	rest := buf
	for {
		adv, token, _ := driver.SplitFrames(rest, false)
		if adv == 0 {
			break
		}
		rest = rest[adv:]
		if token == nil {
			continue
		}
		m, err := decode(token)
		if err != nil {
			d.opts.Logger.Debug("intellivue simulator: bad frame from host; dropped", "err", err)
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, append(buf[:0], rest...)
}

func decode(token []byte) (driver.Message, error) {
	f, err := driver.DecodeFrame(token)
	if err != nil {
		return nil, err
	}
	return driver.DecodeMessage(f.UserData)
}
