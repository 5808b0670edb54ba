package hl7

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bedgate/bedgate/drivers/hl7v2"
	"github.com/bedgate/bedgate/simulators/scenario"
)

// Monitor is one simulated monitor behind the station.
type Monitor struct {
	// Bed is PV1-3's bed component; Unit its point of care.
	Bed, Unit string
	// Serial is the monitor's serial number; OBX-18 carries EUI64(Serial).
	Serial string
	// Engine computes the patient's vitals.
	Engine *scenario.Engine
	// PID, when set, is sent as the patient's NHS number in PID-3; else
	// PID-3 is a local number of the station (type MR).
	PID string
}

// Message encodes one reading of m at at as a PCD-01 ORU^R01 with control
// id id. Values a sensor that is off or searching does not measure are
// sent without a number, flagged NAV; erratic ones are flagged QUES.
func Message(m Monitor, id string, at time.Time, v scenario.Vitals) []byte {
	ts := at.UTC().Format("20060102150405.000-0700")
	eui := EUI64(m.Serial)
	var b strings.Builder
	fmt.Fprintf(&b, "MSH|^~\\&|BEDSIM^%s^EUI-64|%s|BEDGATE|RXX|%s||ORU^R01^ORU_R01|%s|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r",
		eui, esc(m.Unit), ts, esc(id))
	if m.PID != "" {
		fmt.Fprintf(&b, "PID|1||%s^^^NHS^NH\r", esc(m.PID))
	} else {
		// PCD-01 requires PID-3: a local number of the station's own.
		fmt.Fprintf(&b, "PID|1||SIM-%s^^^BEDSIM^MR\r", eui)
	}
	fmt.Fprintf(&b, "PV1|1|I|%s^^%s\r", esc(m.Unit), esc(m.Bed))
	fmt.Fprintf(&b, "OBR|1|%s^BEDSIM|%s^BEDSIM|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||%s\r", esc(id), esc(id), ts)
	fmt.Fprintf(&b, "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||%s||||%s^^%s^EUI-64\r", ts, eui, eui)
	oximetry := ""
	switch {
	case v.SensorOff || v.NoSignal:
		oximetry = "NAV"
	case v.Artefact:
		oximetry = "QUES"
	}
	n := 1
	row := func(code, sub string, value float64, unit, flag string) {
		n++
		val, status := strconv.FormatFloat(value, 'f', 1, 64), "R"
		if flag == "NAV" {
			val, status = "", "X"
		}
		fmt.Fprintf(&b, "OBX|%d|NM|%s|%s|%s|%s||%s|||%s|||%s\r", n, code, sub, val, unit, flag, status, ts)
	}
	row("150456^MDC_PULS_OXIM_SAT_O2^MDC", "1.2.1.1", v.SpO2, "262688^MDC_DIM_PERCENT^MDC", oximetry)
	row("149530^MDC_PULS_OXIM_PULS_RATE^MDC", "1.2.1.2", v.PulseRate, "264864^MDC_DIM_BEAT_PER_MIN^MDC", oximetry)
	row("150448^MDC_PULS_OXIM_PERF_REL^MDC", "1.2.1.3", v.PerfusionIndex, "262688^MDC_DIM_PERCENT^MDC", oximetry)
	row("151562^MDC_RESP_RATE^MDC", "1.1.2.1", v.RespRate, "264928^MDC_DIM_RESP_PER_MIN^MDC", "")
	row("150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "1.3.1.1", v.SysBP, "266016^MDC_DIM_MMHG^MDC", "")
	row("150022^MDC_PRESS_BLD_NONINV_DIA^MDC", "1.3.1.2", v.DiaBP, "266016^MDC_DIM_MMHG^MDC", "")
	row("150364^MDC_TEMP_BODY^MDC", "1.4.1.1", v.TempC, "268192^MDC_DIM_DEGC^MDC", "")
	return []byte(b.String())
}

// EUI64 is the equipment identifier a monitor with this serial number
// sends in OBX-18: an all-digit serial as a 16-digit hex number, any other
// as its FNV-1a hash.
func EUI64(serial string) string {
	n, err := strconv.ParseUint(serial, 10, 64)
	if err != nil {
		h := fnv.New64a()
		h.Write([]byte(serial))
		n = h.Sum64()
	}
	return fmt.Sprintf("%016X", n)
}

func esc(s string) string { return hl7v2.Escape(s, hl7v2.DefaultDelimiters) }

// Station sends its monitors' readings to one MLLP address.
type Station struct {
	// Addr is the receiver's host:port. Required.
	Addr string
	// Monitors send one reading each per Period. Required.
	Monitors []Monitor
	// Period is the time between readings. The default is 10s.
	Period time.Duration
	// Now is the monitors' clock. The default is time.Now.
	Now func() time.Time
	// Record, when set, receives every message sent, MLLP-framed, resends
	// included (what ../shared/conformance/validate-hl7 reads).
	Record io.Writer
	// Logger receives diagnostics. The default is slog.Default().
	Logger *slog.Logger

	sent, aa, ae, ar atomic.Int64
}

// Counts reports messages sent (resends included) and answers by code.
func (s *Station) Counts() (sent, aa, ae, ar int64) {
	return s.sent.Load(), s.aa.Load(), s.ae.Load(), s.ar.Load()
}

// Run sends until ctx ends, then returns nil. A message is sent again,
// over a new connection, until it is answered; one answered AE or AR is
// logged and not sent again.
func (s *Station) Run(ctx context.Context) error {
	if s.Period <= 0 {
		s.Period = 10 * time.Second
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	start := s.Now()
	var c *conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	t := time.NewTicker(s.Period)
	defer t.Stop()
	for seq := 1; ; seq++ {
		at := s.Now()
		for _, m := range s.Monitors {
			msg := Message(m, fmt.Sprintf("%s-%d", m.Serial, seq), at, m.Engine.At(at.Sub(start)))
			var err error
			if c, err = s.deliver(ctx, c, msg); err != nil {
				return nil // only ctx ends deliver
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// deliver sends msg until it is answered, reconnecting as needed; it
// fails only when ctx ends.
func (s *Station) deliver(ctx context.Context, c *conn, msg []byte) (*conn, error) {
	backoff := 100 * time.Millisecond
	for {
		if c == nil {
			var err error
			if c, err = dial(ctx, s.Addr); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				s.Logger.Warn("cannot connect to the MLLP receiver; retrying", "addr", s.Addr, "err", err)
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
		}
		s.sent.Add(1)
		if s.Record != nil {
			s.Record.Write(frame(msg))
		}
		code, text, err := c.send(ctx, msg)
		if err != nil {
			c.Close()
			c = nil
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.Logger.Warn("no acknowledgement; sending again", "err", err)
			continue
		}
		switch code {
		case "AA", "CA":
			s.aa.Add(1)
		case "AR", "CR":
			s.ar.Add(1)
			s.Logger.Warn("message rejected", "code", code, "text", text)
		default:
			s.ae.Add(1)
			s.Logger.Warn("message not accepted", "code", code, "text", text)
		}
		return c, nil
	}
}

func frame(msg []byte) []byte {
	return append(append([]byte{0x0b}, msg...), 0x1c, 0x0d)
}

type conn struct {
	net.Conn
	rd *bufio.Reader
}

func dial(ctx context.Context, addr string) (*conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, rd: bufio.NewReader(c)}, nil
}

// send writes one framed message and reads its acknowledgement's MSA-1
// and MSA-3.
func (c *conn) send(ctx context.Context, msg []byte) (code, text string, err error) {
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := c.Write(frame(msg)); err != nil {
		return "", "", err
	}
	if _, err := c.rd.ReadBytes(0x0b); err != nil {
		return "", "", err
	}
	body, err := c.rd.ReadBytes(0x1c)
	if err != nil {
		return "", "", err
	}
	if _, err := c.rd.ReadByte(); err != nil {
		return "", "", err
	}
	m, err := hl7v2.Parse(body[:len(body)-1])
	if err != nil {
		return "", "", fmt.Errorf("acknowledgement: %w", err)
	}
	msa, ok := m.First("MSA")
	if !ok {
		return "", "", errors.New("acknowledgement without MSA")
	}
	return msa.C(1, 1), msa.C(3, 1), nil
}
