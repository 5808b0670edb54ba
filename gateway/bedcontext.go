package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/bedgate/bedgate/buffer"
	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
)

// bedContexts stores each bed's context record (its location, its device
// and the device's metrics: what the observation messages of a
// record.ContextEncoder refer to by identifier) in the outbox before the
// first observation record that needs it. A bed's context is stored again
// when it may not reach the EPR before the observation:
//
//   - the bed's device is first seen since the gateway started (the context
//     is kept in memory only: after a restart it is sent once again, which
//     the EPR's conditional creates make idempotent), or another device
//     (another device key: another serial number) appears at the bed;
//   - its content changed (the device's model or serial under the same
//     device key, a metric not in it, another unit): the hash of the
//     content differs;
//   - it lies in the backlog of the publisher's latest connection, which
//     readings stored since may overtake (split);
//   - the outbox dropped entries (full or expired) and it is no longer
//     stored: it may have been one of them.
//
// A context that was delivered (acknowledged) serves until its content
// changes.
type bedContexts struct {
	enc    record.ContextEncoder
	outbox *buffer.Buffer
	// splitting is held shared by store, from its look at the split
	// until its record has a sequence number, and exclusively by split:
	// a connection cannot split a record from the context it checked.
	splitting sync.RWMutex
	// splitAt is the latest split handed to the publisher as its
	// connection's boundary (0: no connection yet). A connection lost
	// before the publisher took it only makes contexts be stored again
	// needlessly.
	splitAt atomic.Uint64

	mu   sync.Mutex
	beds map[contextKey]*bedContext
}

// contextKey names a bed's context: its observation topic and the device.
// A bed fed by several devices (a central station's HL7 may name a monitor
// and a pump) has one context per device, so that readings alternating
// between them do not each send a context.
type contextKey struct{ topic, device string }

// bedContext is the context last stored for one bed and device.
type bedContext struct {
	mu      sync.Mutex
	rec     record.Record
	hash    [sha256.Size]byte
	seq     buffer.Seq
	dropped uint64 // the outbox's drops when it was stored
	stored  bool
}

// maxContextTries bounds how often one observation record is stored again
// because its context was overtaken while it was being stored (the outbox
// dropped it at that very moment; a connection cannot split them: split).
const maxContextTries = 3

func newBedContexts(enc record.ContextEncoder, outbox *buffer.Buffer) *bedContexts {
	return &bedContexts{enc: enc, outbox: outbox, beds: map[contextKey]*bedContext{}}
}

func (c *bedContexts) bed(rec record.Record) *bedContext {
	key := contextKey{rec.Topic, rec.DeviceKey}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.beds[key]
	if b == nil {
		b = &bedContext{}
		c.beds[key] = b
	}
	return b
}

// serves reports whether b's stored context still reaches the EPR before
// an entry stored now.
func (c *bedContexts) serves(b *bedContext) bool {
	if !b.stored {
		return false
	}
	dropped, oldest := c.outbox.Dropped()
	switch {
	case b.seq < oldest:
		// Gone from the outbox: delivered, unless the outbox dropped it.
		return dropped == b.dropped
	case b.seq < buffer.Seq(c.splitAt.Load()):
		// Still stored, in the latest connection's backlog.
		return false
	}
	return true
}

// split returns where a new connection splits the outbox (the publisher's
// publish.Options.Split): its next sequence number once no store is
// between its look at the boundary and its record's sequence number.
// Without it a record numbered after the split could go out on the new
// connection's live lane while the context it checked waits in the
// backlog: the EPR would get a reading whose references resolve to
// nothing (its copy stored again after a fresh context comes later).
func (c *bedContexts) split() buffer.Seq {
	c.splitting.Lock()
	defer c.splitting.Unlock()
	at := c.outbox.NextSeq()
	c.splitAt.Store(uint64(at))
	return at
}

// errContextRefused is returned by store when the outbox refused the
// context for want of space: the record was not stored either.
var errContextRefused = errors.New("the context was refused for want of space")

// store stores the context rec refers to when the EPR may not have it,
// then rec, with store. Should the context be overtaken while rec is being
// stored (the outbox dropped it at that moment), both are stored again:
// the same observation identifiers, so the EPR files the reading once,
// after its context. It returns rec's store error
// (buffer.ErrDiskFull included), or errContextRefused.
func (c *bedContexts) store(ctx context.Context, rec record.Record, store func(context.Context, record.Record) (buffer.Seq, error)) error {
	c.splitting.RLock()
	defer c.splitting.RUnlock()
	for try := 1; ; try++ {
		if err := c.ensure(ctx, rec, store); errors.Is(err, buffer.ErrDiskFull) {
			return errContextRefused
		} else if err != nil {
			return fmt.Errorf("store context: %w", err)
		}
		if _, err := store(ctx, rec); err != nil {
			return err
		}
		if c.stillServes(rec) || try == maxContextTries {
			return nil
		}
	}
}

// ensure stores the context rec refers to, with store, unless the one
// stored for rec's bed serves. It returns an error wrapping
// buffer.ErrDiskFull when the context was refused for want of space.
func (c *bedContexts) ensure(ctx context.Context, rec record.Record, store func(context.Context, record.Record) (buffer.Seq, error)) error {
	b := c.bed(rec)
	b.mu.Lock()
	defer b.mu.Unlock()
	metrics := c.enc.Metrics(rec)
	if covers(b, rec, metrics) && c.serves(b) {
		return nil // the steady state, without building or hashing a context
	}
	next := next(b, rec, metrics)
	hash := contextHash(next)
	if hash == b.hash && c.serves(b) {
		return nil
	}
	dropped, _ := c.outbox.Dropped()
	seq, err := store(ctx, next)
	if err != nil {
		return err
	}
	b.rec, b.hash, b.seq, b.dropped, b.stored = next, hash, seq, dropped, true
	return nil
}

// stillServes reports whether the context of rec's bed still serves after
// rec was stored: false when it was overtaken meanwhile.
func (c *bedContexts) stillServes(rec record.Record) bool {
	b := c.bed(rec)
	b.mu.Lock()
	defer b.mu.Unlock()
	return c.serves(b)
}

// next is the context rec needs: rec's bed and device with the metrics
// rec refers to, added to those of the stored context when the device is
// the same (so that readings with different sets of values do not send a
// context each), a metric's unit the latest. The device key is the same:
// it is part of the context's key.
func next(b *bedContext, rec record.Record, metrics []record.Metric) record.Record {
	ctx := record.Record{
		Kind: record.KindContext, Gateway: rec.Gateway, Site: rec.Site, Ward: rec.Ward, Bed: rec.Bed,
		Topic: rec.Topic, Device: rec.Device, DeviceKey: rec.DeviceKey, ReceivedAt: rec.ReceivedAt,
	}
	if b.stored && b.rec.Device == rec.Device && b.rec.DeviceKey == rec.DeviceKey {
		ctx.Metrics = slices.Clone(b.rec.Metrics)
	}
	for _, m := range metrics {
		i := slices.IndexFunc(ctx.Metrics, func(o record.Metric) bool { return o.MDC == m.MDC && o.Label == m.Label })
		if i < 0 {
			ctx.Metrics = append(ctx.Metrics, m)
		} else {
			ctx.Metrics[i] = m
		}
	}
	return ctx
}

// covers reports whether b's stored context holds rec's device and every
// metric rec refers to, units included.
func covers(b *bedContext, rec record.Record, metrics []record.Metric) bool {
	if !b.stored || b.rec.Device != rec.Device || b.rec.Gateway != rec.Gateway || b.rec.Bed != rec.Bed {
		return false
	}
	for _, m := range metrics {
		if !slices.Contains(b.rec.Metrics, m) {
			return false
		}
	}
	return true
}

// contextHash is the hash of a context's content: everything but its time.
func contextHash(r record.Record) [sha256.Size]byte {
	content := struct {
		Gateway, Site, Ward, Bed, Topic, DeviceKey string
		Device                                     drivers.DeviceID
		Metrics                                    []record.Metric
	}{r.Gateway, r.Site, r.Ward, r.Bed, r.Topic, r.DeviceKey, r.Device, r.Metrics}
	b, _ := json.Marshal(content) // plain strings and numbers: cannot fail
	return sha256.Sum256(b)
}
