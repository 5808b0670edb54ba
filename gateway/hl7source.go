package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/mllp"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/validate"
)

// maxStreams bounds the validation streams the HL7 source keeps (see
// hl7Source.stream). Past it they all start afresh.
const maxStreams = 4096

// hl7Source takes ORU^R01 messages from the MLLP listener for the beds
// with driver hl7 and puts their readings through the pipeline, returning
// once they are durable (the listener then answers AA).
type hl7Source struct {
	pipe       *pipeline
	bySource   map[string]Bed // bed source ("pv1:..." or "obx18:...") → bed
	opts       hl7v2.Options
	senderWins bool
	log        *slog.Logger
	// links report each bed's device link: connected from its first
	// accepted reading, the sender's equipment as its device.
	links map[string]*bedLink

	mu sync.Mutex
	// streams hold one validation state per bed, equipment and set of
	// codes. A monitor reports continuous values (heart rate, SpO2) with
	// the current time and intermittent ones (NIBP) with the time they
	// were measured, often in one message; each set advances in time on
	// its own, and a repeated NIBP (same time, same values) is a
	// duplicate of its own stream.
	streams map[string]*stream
}

type stream struct {
	mu sync.Mutex // Accept calls for one bedPipeline must not overlap
	bp *bedPipeline
}

// newHL7Source builds the acceptor for cfg's beds with driver hl7.
func newHL7Source(cfg *config.Config, pipe *pipeline, links map[string]*bedLink, loc *time.Location, now func() time.Time, log *slog.Logger) *hl7Source {
	s := &hl7Source{
		links:      links,
		pipe:       pipe,
		bySource:   map[string]Bed{},
		opts:       hl7v2.Options{Codes: cfg.MLLP.Codes, Location: loc, Now: now},
		senderWins: cfg.MLLP.Patient == config.PatientFromSender,
		log:        log,
		streams:    map[string]*stream{},
	}
	for _, b := range cfg.Beds {
		if b.Driver == config.HL7Driver {
			s.bySource[b.Source] = bedOf(cfg, b)
		}
	}
	return s
}

// listenMLLP binds the MLLP listener of cfg, or returns nil when none is
// configured.
func listenMLLP(cfg *config.Config, pipe *pipeline, links map[string]*bedLink, loc *time.Location, now func() time.Time, log *slog.Logger) (*mllp.Listener, error) {
	if cfg.MLLP.Listen == "" {
		return nil, nil
	}
	tlsCfg, err := cfg.MLLP.TLSConfig(time.Now())
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	sources, err := cfg.MLLP.Sources()
	if err != nil {
		return nil, fmt.Errorf("gateway: mllp.allowed_sources: %w", err)
	}
	l, err := mllp.Listen(mllp.Options{
		Addr: cfg.MLLP.Listen, TLS: tlsCfg, AllowedClients: cfg.MLLP.AllowedClients, AllowedSources: sources,
		MaxMessage: cfg.MLLP.MaxMessage, Logger: log.With("component", "mllp"), Now: now,
	}, newHL7Source(cfg, pipe, links, loc, now, log))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return l, nil
}

// Accept implements mllp.Acceptor. Every reading of the message is
// matched to a bed before any is stored, so a message that names an
// unknown bed leaves nothing behind. A message whose storing fails half
// way is answered AE and resent: the readings stored the first time are
// then quarantined as duplicates, not forwarded twice.
func (s *hl7Source) Accept(ctx context.Context, msg []byte) error {
	oru, err := hl7v2.ParseORU(msg, s.opts)
	if err != nil {
		return mllp.FromParseError(err)
	}
	if len(oru.Readings) == 0 {
		return &mllp.Error{Code: mllp.AE, Condition: mllp.CondRequiredMissing, Segment: "OBX",
			Text: "no usable OBX: the message has no numeric observation (NM)"}
	}
	beds := make([]Bed, len(oru.Readings))
	for i, r := range oru.Readings {
		if beds[i], err = s.bedOf(oru, r); err != nil {
			return err
		}
	}
	claim := s.claim(oru.Patient)
	for i, r := range oru.Readings {
		st, err := s.stream(beds[i], r)
		if err != nil {
			return err
		}
		st.mu.Lock()
		err = st.bp.Accept(ctx, r.Reading, claim)
		st.mu.Unlock()
		if errors.Is(err, buffer.ErrDiskFull) {
			return errDiskFull
		}
		if err != nil {
			return err
		}
		if l := s.links[beds[i].Name]; l != nil {
			l.received(r.Reading)
		}
	}
	if oru.NotNumeric > 0 {
		s.log.Debug("HL7 rows with non-numeric values not forwarded", "count", oru.NotNumeric)
	}
	return nil
}

// errDiskFull answers a message the outbox refused for space: the sender
// keeps it and sends it again, where a serial reading would be lost.
var errDiskFull = &mllp.Error{Code: mllp.AE, Condition: mllp.CondApplicationError,
	Text: "the gateway's disk is full: the message was not stored; send it again later"}

// bedOf finds the bed of one reading: by its OBX-18 equipment, else by
// the message's PV1-3. Two beds for one reading is an error, as is none.
func (s *hl7Source) bedOf(oru *hl7v2.ORU, r hl7v2.Reading) (Bed, error) {
	byEquipment, okE := s.bySource["obx18:"+r.Equipment]
	byLocation, okL := s.bySource["pv1:"+oru.Location.Key()]
	switch {
	case okE && okL && byEquipment.Name != byLocation.Name:
		return Bed{}, &mllp.Error{Code: mllp.AE, Condition: mllp.CondUnknownKey, Segment: "OBX", Field: 18,
			Text: fmt.Sprintf("equipment %s is configured for bed %s but PV1-3 names bed %s", clipID(r.Equipment), byEquipment.Name, byLocation.Name)}
	case okE:
		return byEquipment, nil
	case okL:
		return byLocation, nil
	}
	return Bed{}, &mllp.Error{Code: mllp.AE, Condition: mllp.CondUnknownKey, Segment: "PV1", Field: 3,
		Text: fmt.Sprintf("no bed is configured for location %s or equipment %s", clipID(oru.Location.Key()), clipID(r.Equipment))}
}

// claim is the patient the message names, NHS number checked.
func (s *hl7Source) claim(p hl7v2.Patient) *Claim {
	c := &Claim{SenderWins: s.senderWins}
	nhs, ok := p.NHSNumber()
	if !ok {
		return c
	}
	n, err := assoc.NormalizeNHSNumber(nhs)
	if err != nil {
		// assoc errors never repeat the number.
		c.Problem = strings.TrimPrefix(err.Error(), "assoc: ")
		return c
	}
	c.Patient = &record.Patient{NHSNumber: n}
	return c
}

// stream returns the validation stream of a reading.
func (s *hl7Source) stream(bed Bed, r hl7v2.Reading) (*stream, error) {
	codes := make([]string, len(r.Values))
	for i, v := range r.Values {
		codes[i] = CodeKey(v.MDC, v.Label)
	}
	slices.Sort(codes)
	key := bed.Name + "\x00" + r.Equipment + "\x00" + strings.Join(codes, ",")
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[key]; ok {
		return st, nil
	}
	if len(s.streams) >= maxStreams {
		s.log.Warn("too many HL7 value streams; their validation state starts afresh", "streams", len(s.streams))
		clear(s.streams)
	}
	bp, err := s.pipe.forBed(bed, validate.DefaultCycle, nil) // a central station relays at its own cadence
	if err != nil {
		return nil, err
	}
	st := &stream{bp: bp}
	s.streams[key] = st
	return st, nil
}

// clipID quotes an identifier from the network for an ERR text, shortened.
func clipID(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

var _ mllp.Acceptor = (*hl7Source)(nil)
