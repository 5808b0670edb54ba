package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/capture"
	"github.com/bedgate/bedgate/drivers/ratelog"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/hl7"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/stats"
	"github.com/bedgate/bedgate/gateway/web"
)

// Options configure Run.
type Options struct {
	// Config is the validated configuration. Required.
	Config *config.Config
	// Drivers resolves each bed's driver. Required.
	Drivers *drivers.Registry
	// Logger receives diagnostics. The default is slog.Default().
	Logger *slog.Logger
	// Now is the gateway clock. The default is time.Now.
	Now func() time.Time
	// Version is the program's version, shown on the status page.
	Version string
	// OnStart, when set, is called once the gateway runs (outbox open,
	// beds started, status server listening) with its handle: what a
	// service manager's readiness and watchdog notifications read.
	OnStart func(*Gateway)
}

// Run runs the gateway until ctx ends: it opens the outbox, starts the
// publisher and one supervisor per bed. After ctx ends it stops reading
// devices first (each bed sets its final "disconnected" device status), then
// stops the publisher, which forwards what is in flight, confirms the final
// statuses and disconnects within its bounded wait, and closes the outbox.
// It returns nil after a clean stop.
func Run(ctx context.Context, opts Options) error {
	cfg := opts.Config
	if cfg == nil || opts.Drivers == nil {
		return errors.New("gateway: Config and Drivers are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	// Per-event lines (bad frames, quarantined readings, ...) are
	// rate-limited per bed and reason; what was suppressed is reported.
	limited := ratelog.New(log.Handler(), ratelog.Options{})
	defer limited.Flush(context.WithoutCancel(ctx))
	log = slog.New(limited)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	loc, err := time.LoadLocation(cfg.Gateway.DeviceTimezone)
	if err != nil {
		return fmt.Errorf("gateway: device time zone: %w", err)
	}

	// The outbox is opened first: its lock keeps a second gateway off the
	// data directory before anything in it is touched. Its commits sync
	// the ledger of filings (ledgerSync), which is closed after it.
	syncer := &ledgerSync{log: log}
	outbox, err := buffer.Open(filepath.Join(cfg.Gateway.DataDir, "outbox"), buffer.Options{
		MaxBytes:    cfg.Buffer.MaxBytes,
		MaxAge:      cfg.Buffer.MaxAge,
		Logger:      log,
		Now:         now,
		BeforeWrite: syncer.beforeWrite,
	})
	if err != nil {
		return fmt.Errorf("gateway: open outbox: %w", err)
	}
	bd := &board{gateway: cfg.Gateway.ID, site: cfg.Gateway.Site, ward: cfg.Gateway.Ward, version: opts.Version,
		started: now(), now: now, outbox: outbox, maxBytes: cfg.Buffer.MaxBytes, maxAge: cfg.Buffer.MaxAge}
	defer func() {
		bd.closed.Store(true)
		if err := outbox.Close(); err != nil {
			log.Error("closing the outbox failed; entries appended are already synced", "err", err)
		}
		if err := syncer.close(); err != nil {
			log.Error("closing the ledger of filings failed", "err", err)
		}
	}()
	ledger, err := filed.Open(filepath.Join(cfg.Gateway.DataDir, "filed"), filed.Options{Window: cfg.Association.CorrectionWindow, Now: now})
	if err != nil {
		return fmt.Errorf("gateway: ledger of filings: %w", err)
	}
	syncer.ledger.Store(ledger)

	pipe, err := newPipeline(cfg, outbox, ledger, now, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := pipe.close(); err != nil {
			log.Error("closing the held readings failed; they are synced", "err", err)
		}
	}()
	bd.pipe = pipe
	health := &healthReport{board: bd}
	metrics := web.NewMetrics(bd.snapshot)
	// Certificates are checked against the real clock, whatever opts.Now.
	tlsCfg, err := cfg.MQTT.TLSConfig(time.Now())
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	var split func() buffer.Seq // the default: the outbox's next
	if pipe.contexts != nil {
		split = pipe.contexts.split
	}
	pub, err := publish.New(outbox, publish.Options{
		Split:       split,
		Brokers:     cfg.MQTT.URLs(),
		ClientID:    cfg.MQTT.ClientID,
		Username:    cfg.MQTT.Username,
		Password:    cfg.MQTT.Password.Reveal(),
		TLS:         tlsCfg,
		KeepAlive:   cfg.MQTT.KeepAlive,
		Window:      cfg.MQTT.Window,
		BacklogRate: cfg.MQTT.BacklogRate,
		StatusTopic: StatusTopic(cfg.Gateway.Site, cfg.Gateway.ID),
		Status:      health.payload,
		Logger:      log,
		OnAck:       metrics.ObservePublishLatency,
	})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	bd.pub.Store(pub)
	if st := outbox.Stats(); st.RecoveredFrom != "" {
		log.Error("the outbox was unreadable and was moved aside; the gateway continues with a fresh one holding what could be salvaged",
			"moved_to", st.RecoveredFrom, "recovered", st.Salvage.Recovered, "unreadable", st.Salvage.Unreadable,
			"missing", st.Salvage.Missing)
	}

	beds := make([]*supervisor, 0, len(cfg.Beds))
	hl7Beds := map[string]*bedLink{} // fed by the MLLP listener
	for _, b := range cfg.Beds {
		if b.Driver == config.HL7Driver {
			bed := Bed{Gateway: cfg.Gateway.ID, Site: cfg.Gateway.Site, Ward: cfg.Gateway.Ward, Name: b.Name, Device: b.Device}
			track := newBedTracker(b.Name, config.HL7Driver, b.Source, now())
			track.setState(stats.Listening, "", 0, now())
			bd.beds = append(bd.beds, track)
			hl7Beds[b.Name] = &bedLink{bed: bed, track: track, status: pub, log: log.With("bed", b.Name, "driver", b.Driver), now: now}
			continue
		}
		drv, err := opts.Drivers.Lookup(b.Driver)
		if err != nil {
			return fmt.Errorf("gateway: bed %s: %w", b.Name, err)
		}
		bed := bedOf(cfg, b)
		bp, err := pipe.forBed(bed, drv.ReadingPeriod(), drv.Episodic)
		if err != nil {
			return err
		}
		track := newBedTracker(b.Name, drv.Name, b.Port, now())
		bd.beds = append(bd.beds, track)
		beds = append(beds, &supervisor{
			bedLink:    bedLink{bed: bed, track: track, status: pub, log: log.With("bed", b.Name, "driver", b.Driver), now: now},
			pipe:       bp,
			captureDir: b.Capture,
			port:       b.Port,
			line:       b.Line(drv.Line),
			driver:     drv,
			dopts:      drivers.Options{Logger: log.With("bed", b.Name), Now: now, DeviceLocation: loc},
		})
	}

	listener, err := listenMLLP(cfg, pipe, hl7Beds, loc, now, log)
	if err != nil {
		return err
	}
	if listener != nil {
		bd.mllp.Store(listener)
	}
	srv, err := serveStatus(cfg.HTTP, metrics, bd, log)
	if err != nil {
		return err
	}
	handle := &Gateway{board: bd}
	if srv != nil {
		defer srv.Close()
		handle.httpAddr = srv.Addr()
	}

	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	var wg sync.WaitGroup
	if listener != nil {
		wg.Add(1)
		for _, l := range hl7Beds {
			l.publish()
		}
		go func() {
			defer wg.Done()
			err := listener.Serve(readCtx)
			if err != nil {
				log.Error("the MLLP listener stopped; HL7 beds receive nothing", "err", err)
			}
			reason := "gateway stopping"
			if readCtx.Err() == nil {
				reason = "the MLLP listener stopped"
			}
			for _, l := range hl7Beds {
				l.setState(stats.Disconnected, reason, 0)
			}
		}()
		log.Info("MLLP listener running", "addr", listener.Addr().String())
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		pipe.releaseHeld(readCtx, len(cfg.Beds))
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		pipe.storeScores(readCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		pipe.listen(readCtx, cfg, tlsCfg)
	}()
	for _, s := range beds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(readCtx)
		}()
	}
	log.Info("gateway running", "gateway", cfg.Gateway.ID, "beds", len(beds), "brokers", cfg.MQTT.URLs())
	if opts.OnStart != nil {
		opts.OnStart(handle)
	}

	go func() {
		// Report the counters (drops above all) on the status topic.
		t := time.NewTicker(statusInterval)
		defer t.Stop()
		for {
			select {
			case <-readCtx.Done():
				return
			case <-t.C:
				pub.RefreshStatus()
			}
		}
	}()

	// The publisher outlives the readers, so that their last readings and
	// final statuses go out on its connection.
	pubCtx, stopPublishing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPublishing()
	pubDone := make(chan error, 1)
	go func() { pubDone <- pub.Run(pubCtx) }()
	var pubErr error
	select {
	case <-ctx.Done():
		stopReading()
		wg.Wait()
		stopPublishing()
		pubErr = <-pubDone
	case pubErr = <-pubDone: // the publisher failed
		stopReading()
		wg.Wait()
	}
	st := outbox.Stats()
	log.Info("gateway stopped", "published", pub.Stats().Published, "acked", pub.Stats().Acked, "outbox_entries", st.Entries)
	if pubErr != nil && !errors.Is(pubErr, context.Canceled) && !errors.Is(pubErr, context.DeadlineExceeded) {
		return fmt.Errorf("gateway: %w", pubErr)
	}
	return nil
}

// statusInterval is how often the gateway status topic is refreshed.
const statusInterval = 5 * time.Second

// NewEncoder returns the encoder of a configured format: "fhir" (FHIR R4
// transaction Bundles) or "hl7v2" (HL7 v2.6 ORU^R01, IHE PCD-01), for the
// sequence numbers of the outbox incarnation given (buffer.Buffer.Incarnation).
func NewEncoder(format, incarnation string) (record.Encoder, error) {
	switch format {
	case "fhir", "":
		return fhir.New(fhir.Options{Incarnation: incarnation})
	case "hl7v2":
		return hl7.New(hl7.Options{Incarnation: incarnation})
	default:
		return nil, fmt.Errorf("unknown format %q: use fhir or hl7v2", format)
	}
}

// GatewayStatus is published retained on the gateway status topic: on
// connect, every few seconds while connected, and (state "offline") as the
// MQTT last will and on a clean stop.
type GatewayStatus struct {
	State   string    `json:"state"` // "online" or "offline"
	Gateway string    `json:"gateway"`
	Time    time.Time `json:"time"`
	Beds    int       `json:"beds,omitempty"`
	// Broker is the broker node the gateway is connected through (one of
	// mqtt.brokers, or mqtt.broker).
	Broker string        `json:"broker,omitempty"`
	Outbox *OutboxStatus `json:"outbox,omitempty"`
	// Rejected and Flagged count values quarantined and values forwarded
	// flagged, by reason, since the gateway started; Held counts readings
	// waiting for a patient association.
	Rejected map[string]uint64 `json:"rejected,omitempty"`
	Flagged  map[string]uint64 `json:"flagged,omitempty"`
	Held     int               `json:"held,omitempty"`
	// Repeats counts values of episodic measurements (a blood pressure a
	// monitor reports until the next) seen again and not forwarded again.
	Repeats uint64 `json:"repeats,omitempty"`
	// Lost counts held readings and NEWS2 scores that could not be stored
	// (see the log for why).
	Lost int64 `json:"lost,omitempty"`
	// Corrections counts readings corrected since the start: filed for a
	// subject a late admission event showed was not in the bed.
	Corrections int64 `json:"corrections,omitempty"`
	// NotCharted counts readings left out by the beds' charting cadence
	// (forward_every): not stored, not forwarded.
	NotCharted int64 `json:"not_charted,omitempty"`
	// SubscriptionError says why the broker refused a subscription the
	// gateway needs (admissions, nurse entries); empty when all are in place.
	SubscriptionError string `json:"subscription_error,omitempty"`
	// MLLP counts what the HL7 listener received and answered, when
	// mllp.listen is set.
	MLLP *stats.MLLP `json:"mllp,omitempty"`
}

// OutboxStatus reports the durable outbox.
type OutboxStatus struct {
	Entries      int64             `json:"entries"`
	Bytes        int64             `json:"bytes"`
	OldestAgeSec float64           `json:"oldest_age_s"`
	InFlight     int64             `json:"in_flight"`
	Dropped      map[string]uint64 `json:"dropped"` // by reason: "full", "age", "disk-full"
	Quarantined  int64             `json:"quarantined"`
	// RecoveredFrom names where an unreadable store was moved at start.
	RecoveredFrom string `json:"recovered_from,omitempty"`
	// Salvage, when the store was unreadable at start, counts what was
	// recovered from it, found unreadable, or missing.
	Salvage *SalvageStatus `json:"salvage,omitempty"`
	// Incarnation identifies the outbox store; NextSeq is the sequence
	// number its next entry gets. A new incarnation means the outbox was
	// replaced: its sequence numbers are a new series, not a gap.
	Incarnation string `json:"incarnation"`
	NextSeq     uint64 `json:"next_seq"`
	// DiskFree is the free space on the outbox's filesystem, DiskReserve
	// the part kept for the storage engine, LimitBytes the effective bound
	// on Bytes (max_bytes or what the disk can take, whichever is
	// smaller). Readings refused for space count as dropped "disk-full".
	DiskFree    int64 `json:"disk_free"`
	DiskReserve int64 `json:"disk_reserve"`
	LimitBytes  int64 `json:"limit_bytes"`
}

// SalvageStatus reports the salvage of an unreadable outbox at start.
type SalvageStatus struct {
	Recovered  int64 `json:"recovered"`
	Unreadable int64 `json:"unreadable"`
	Missing    int64 `json:"missing"`
}

// healthReport builds GatewayStatus payloads from the gateway's snapshot.
type healthReport struct {
	board *board
}

func (h *healthReport) payload(online bool) []byte {
	st := GatewayStatus{State: "offline", Gateway: h.board.gateway, Time: h.board.now().UTC()}
	if online {
		st = gatewayStatus(h.board.snapshot())
	}
	b, err := json.Marshal(st)
	if err != nil { // cannot happen: plain fields only
		return []byte(`{"state":"` + st.State + `"}`)
	}
	return b
}

// gatewayStatus is the "online" status of a snapshot.
func gatewayStatus(s stats.Snapshot) GatewayStatus {
	o := s.Outbox
	st := GatewayStatus{
		State: "online", Gateway: s.Gateway, Time: s.Time, Beds: len(s.Beds), Broker: s.Link.Broker,
		Outbox: &OutboxStatus{
			Entries: o.Entries, Bytes: o.Bytes, OldestAgeSec: o.OldestAge.Std().Seconds(), InFlight: o.InFlight,
			Dropped: o.Dropped, Quarantined: o.Quarantined, RecoveredFrom: o.RecoveredFrom,
			Incarnation: o.Incarnation, NextSeq: o.NextSeq,
			DiskFree: o.DiskFree, DiskReserve: o.DiskReserve, LimitBytes: o.LimitBytes,
		},
		Rejected: s.Readings.Quarantined, Flagged: s.Readings.Flagged, Held: s.Readings.Held, Repeats: s.Readings.Repeats,
		Lost: s.Readings.Lost, Corrections: s.Readings.Corrections, NotCharted: s.Readings.NotCharted,
		SubscriptionError: s.SubscriptionError, MLLP: s.MLLP,
	}
	if sv := o.Salvage; sv != nil {
		st.Outbox.Salvage = &SalvageStatus{Recovered: sv.Recovered, Unreadable: sv.Unreadable, Missing: sv.Missing}
	}
	return st
}

// DeviceStatus is published retained on a bed's device topic whenever the
// state of its device link changes.
type DeviceStatus struct {
	// State is "opening" (trying the port), "port-missing" (no such
	// port: the adapter is not plugged in), "port-error" (the port cannot
	// be opened), "listening" (port open, no reading yet), "connected"
	// (readings arriving) or "disconnected" (see stats.DeviceState).
	State  string    `json:"state"`
	Since  time.Time `json:"since"`
	Reason string    `json:"reason,omitempty"`
	// RetryIn is the delay before the next attempt to open the port
	// ("1s", "10s"), while the port is missing or the link lost.
	RetryIn string `json:"retry_in,omitempty"`
	Driver  string `json:"driver"`
	Port    string `json:"port"`
	// Node is the device node the port resolved to when last opened
	// (for example /dev/ttyUSB3 for a by-path or usb: binding).
	Node   string           `json:"node,omitempty"`
	Device drivers.DeviceID `json:"device"`
	Stats  drivers.Stats    `json:"stats"`
}

// deviceStatus is the device status of a bed's snapshot.
func deviceStatus(b stats.Bed) DeviceStatus {
	st := DeviceStatus{
		State: string(b.State), Since: b.Since, Reason: b.Reason,
		Driver: b.Driver, Port: b.Port, Node: b.Node, Device: b.Device, Stats: b.DriverStats,
	}
	if b.RetryIn > 0 {
		st.RetryIn = b.RetryIn.Std().Round(10 * time.Millisecond).String()
	}
	return st
}

// statusSink receives retained status messages.
type statusSink interface {
	SetRetained(topic string, payload []byte)
}

// supervisor keeps one bed's device link up: it opens the port (retrying
// with backoff), runs the driver session, and starts again when the link is
// lost, publishing each change of state. A device that falls silent keeps
// its port: a new session waits on it for the device's next bytes.
type supervisor struct {
	bedLink
	port   string
	line   drivers.LineSettings
	driver drivers.Driver
	pipe   *bedPipeline
	dopts  drivers.Options

	// captureDir, when set, receives a capture file each time the port is
	// opened.
	captureDir string
}

// bedLink is a bed's device link as the gateway reports it: its state in
// the snapshot and on the bed's retained device topic.
type bedLink struct {
	bed Bed
	// track holds the bed's device state, reported in the snapshot and
	// on the device topic.
	track  *bedTracker
	status statusSink
	log    *slog.Logger
	now    func() time.Time
}

// setState records the device link's state and publishes it when it or
// its reason changed.
func (l *bedLink) setState(state stats.DeviceState, reason string, retryIn time.Duration) {
	if l.track.setState(state, reason, retryIn, l.now()) {
		l.publish()
	}
}

// received records an accepted reading: the link is connected, and the
// device status is published when that or the device is new.
func (l *bedLink) received(r drivers.Reading) {
	newDevice := l.track.reading(r)
	if l.track.setState(stats.Connected, "", 0, l.now()) || newDevice {
		l.publish()
	}
}

// publish publishes the bed's device status from its snapshot.
func (l *bedLink) publish() {
	b, err := json.Marshal(deviceStatus(l.track.snapshot()))
	if err != nil {
		l.log.Error("encode device status", "err", err)
		return
	}
	l.status.SetRetained(l.bed.DeviceTopic(), b)
}

func (s *supervisor) run(ctx context.Context) {
	defer s.setState(stats.Disconnected, "gateway stopping", 0)
	backoff := serialport.Backoff{Min: 500 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		s.setState(stats.Opening, "", 0)
		// Retry at least every second: a biomed engineer re-plugging an
		// adapter expects the bed back at once.
		port, err := serialport.OpenWithRetry(ctx, s.port, s.line, serialport.Options{
			Logger: s.log, Backoff: serialport.Backoff{Max: time.Second},
			OnRetry: func(err error, retryIn time.Duration) {
				if s.track.openFailed(err, retryIn, s.now()) {
					s.publish()
				}
			},
		})
		if err != nil {
			return // only ctx ends OpenWithRetry
		}
		s.track.opened(port.Node())
		s.setState(stats.Listening, "", 0)
		delivered, err := s.serve(ctx, port)
		port.Close()
		if delivered {
			backoff.Reset()
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("device link ended; reopening", "err", err)
		delay := backoff.Next()
		s.setState(stats.Disconnected, plainReason(err), delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// serve runs driver sessions on an open port until the link fails or ctx
// ends; delivered reports whether any reading arrived. A session that ends
// because the device fell silent is followed at once by another on the
// same port, which waits for the device's next bytes: the port is not
// closed and reopened on a timer (nothing polls a silent port), and what a
// monitor switched on again sends first is read (a monitor with a dialog,
// such as IntelliVue, is asked again by each new session). A silent
// device's session ends once per silence limit (10 s for Masimo).
func (s *supervisor) serve(ctx context.Context, port *serialport.Port) (delivered bool, err error) {
	var rw io.ReadWriter = port
	if s.captureDir != "" {
		f, err := s.openCapture(port, port.Node())
		if err != nil {
			s.log.Warn("cannot record a capture of the port; reading on without one", "err", err)
		} else {
			defer f.Close()
			rw = f.tee
		}
	}
	link := drivers.NewLink(rw, drivers.DefaultReadSize)
	defer link.Close()
	for {
		began := time.Now()
		got, err := s.session(ctx, link)
		delivered = delivered || got
		if ctx.Err() != nil || !errors.Is(err, drivers.ErrSilent) || time.Since(began) < minSilence {
			return delivered, err
		}
		if got {
			s.log.Warn("device fell silent; waiting for it on the open port", "err", err)
		} else {
			s.log.Debug("device still silent", "err", err)
		}
		s.setState(stats.Disconnected, plainReason(err), 0)
	}
}

// minSilence is the shortest silent session serve takes for a silence; a
// session that reports silence sooner is treated as a failed link (the port
// is closed and reopened with backoff), so that nothing spins.
const minSilence = 100 * time.Millisecond

// session runs one driver session on link; delivered reports whether any
// reading arrived.
func (s *supervisor) session(ctx context.Context, link *drivers.Link) (delivered bool, err error) {
	sess, err := s.driver.NewSession(link, s.dopts)
	if err != nil {
		return false, fmt.Errorf("start %s session: %w", s.driver.Name, err)
	}
	s.track.startSession(sess)
	connected := false // a reading arrived in this session
	sink := drivers.SinkFunc(func(ctx context.Context, r drivers.Reading) error {
		// A serial device cannot send a reading again: one the outbox
		// refused for space is a loss it has counted, and the session
		// goes on.
		if err := s.pipe.Accept(ctx, r, nil); err != nil && !errors.Is(err, buffer.ErrDiskFull) {
			return err
		}
		connected = true
		s.received(r)
		return nil
	})
	return connected, sess.Run(ctx, sink)
}

// captureFile is the capture of one opening of a port.
type captureFile struct {
	f      *os.File
	tee    io.ReadWriter
	closed atomic.Bool
}

// Close ends the capture. The port is still open then (its reader may be
// recording a last chunk): a write failing after Close is no failure to
// report.
func (c *captureFile) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}

// openCapture starts a capture file for an opening of the port (rw, on
// device node node): every byte read from it is recorded while it goes on
// to the driver.
func (s *supervisor) openCapture(rw io.ReadWriter, node string) (*captureFile, error) {
	if err := os.MkdirAll(s.captureDir, 0o750); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	name := filepath.Join(s.captureDir, s.bed.Name+"-"+now.Format("20060102T150405.000Z")+".cap")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	line := s.line
	w, err := capture.NewWriter(f, capture.Header{Start: now, Port: s.port, Node: node, Driver: s.driver.Name, Line: &line}, s.now)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.log.Info("recording a capture of the port", "file", name)
	c := &captureFile{f: f}
	c.tee = capture.Tee(rw, w, func(err error) {
		if !c.closed.Load() {
			s.log.Warn("capture stopped; the device is still read", "file", name, "err", err)
		}
	})
	return c, nil
}
