package publish

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/buffer"
)

// publication is one publish awaiting its PUBACK.
type publication struct {
	seq   buffer.Seq
	tok   mqtt.Token
	sent  time.Time
	epoch uint64
	lost  <-chan struct{} // the connection it was sent on was lost
}

// Lanes (see Order in the package documentation), by index.
const (
	liveLane = iota
	backlogLane
	lanes
)

// laneBatch is the next entries of a lane, opened, taken for one
// connection.
type laneBatch struct {
	c    laneConn
	msgs []laneMsg
}

// laneMsg is an outbox entry ready to publish.
type laneMsg struct {
	seq   buffer.Seq
	topic string
	body  []byte
}

// sender publishes on one goroutine, as a bare publish loop does: it sends
// the lanes' entries while the window has room (the live lane's first) and
// settles the oldest publication when its PUBACK comes (a broker
// acknowledges the QoS 1 publishes of one connection in order). A goroutine
// per lane reads its entries from the outbox and opens them meanwhile, a
// batch ahead: it hands the batch over once the sender has sent the last.
// The live lane going first, a live lane that kept the window full would
// hold the backlog back; it would be taking readings as fast as the broker
// acknowledges them, a gateway beyond its means either way.
//
// Before, each lane's goroutine read a batch between two publishes and a
// third goroutine settled: a backlog drained at a median 0.83 times a bare
// paho loop's rate (0.80-0.89), and 0.87 (0.85-0.92) with this sender, a
// window's worth a read and dialBroker's cheap write deadlines, the sender
// about half of the gain (BenchmarkDrainVsBarePaho, eight alternated runs
// of ten drains each, on a 2-core machine).
type sender struct {
	p     *Publisher
	ready [lanes]chan laneBatch // unbuffered: a reader waits with its batch
	cur   [lanes]laneBatch      // what is left to send of each lane's batch
	win   window
}

func (p *Publisher) newSender() *sender {
	s := &sender{p: p, win: window{ring: make([]publication, p.opts.Window)}}
	for l := range s.ready {
		s.ready[l] = make(chan laneBatch)
	}
	return s
}

// run publishes until ctx ends or reading the outbox fails, then returns
// every entry read and not sent to the outbox. The window's publications
// are left to finish (finish, settleAcked).
func (s *sender) run(ctx context.Context) error {
	readCtx, stopReading := context.WithCancel(ctx)
	failed := make(chan error, lanes)
	var readers sync.WaitGroup
	for l := range s.ready {
		readers.Go(func() {
			if err := s.p.read(readCtx, l == liveLane, s.ready[l]); readCtx.Err() == nil {
				failed <- err
			}
		})
	}
	err := s.loop(ctx, failed)
	stopReading()
	readers.Wait() // each returns the batch it holds
	for l := range s.cur {
		s.giveBack(s.cur[l])
		s.cur[l] = laneBatch{}
	}
	return err
}

// giveBack returns a batch's unsent entries to the outbox.
func (s *sender) giveBack(b laneBatch) {
	if len(b.msgs) > 0 {
		s.p.release(b.c.epoch, msgSeqs(b.msgs)...)
	}
}

func (s *sender) loop(ctx context.Context, failed <-chan error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err // nothing more is sent once ctx ends
		}
		s.send()
		var acked, lost <-chan struct{}
		if s.win.n > 0 {
			acked, lost = s.win.head().tok.Done(), s.win.head().lost
		}
		var next [lanes]chan laneBatch // nil (never ready) while a batch is left
		for l := range next {
			if len(s.cur[l].msgs) == 0 {
				next[l] = s.ready[l]
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-failed:
			return err
		case s.cur[liveLane] = <-next[liveLane]:
		case s.cur[backlogLane] = <-next[backlogLane]:
		case <-acked:
			s.retireHead(true)
		case <-lost:
			s.retireHead(false)
		}
	}
}

// send publishes the lanes' entries while the window has room, the live
// lane's first.
func (s *sender) send() {
	p := s.p
	for !s.win.full() {
		l := liveLane
		if len(s.cur[l].msgs) == 0 {
			l = backlogLane
		}
		b := &s.cur[l]
		if len(b.msgs) == 0 {
			return
		}
		if b.c.conn.Err() != nil {
			// Lost: the loss returned them to the outbox.
			p.resent.Add(int64(len(b.msgs)))
			*b = laneBatch{}
			continue
		}
		m := b.msgs[0]
		b.msgs = b.msgs[1:]
		s.win.push(publication{seq: m.seq, sent: time.Now(), tok: b.c.client.Publish(m.topic, 1, false, m.body), epoch: b.c.epoch, lost: b.c.conn.Done()})
		p.published.Add(1)
		if l == liveLane {
			p.publishedLive.Add(1)
		}
	}
}

// finish waits, after run, for the PUBACKs of the window until deadline is
// closed, and reports whether none is left unsettled.
func (s *sender) finish(deadline <-chan struct{}) bool {
	for s.win.n > 0 {
		select {
		case <-s.win.head().tok.Done():
			s.retireHead(true)
		case <-s.win.head().lost:
			s.retireHead(false)
		case <-deadline:
			return false
		}
	}
	return true
}

// settleAcked settles the publications at the head of the window whose
// PUBACK has come: Run calls it last, for those that came after finish
// gave up waiting.
func (s *sender) settleAcked() {
	for s.win.n > 0 && isClosed(s.win.head().tok.Done()) {
		s.retireHead(true)
	}
}

// retireHead takes the oldest publication out of the window: settled when
// its PUBACK came, counted as resent when its connection was lost first
// (loseEpoch returns the entry to the outbox).
func (s *sender) retireHead(acked bool) {
	pub := s.win.pop()
	if acked {
		s.p.settle(pub)
		return
	}
	s.p.resent.Add(1)
}

// window is a ring of the publications awaiting PUBACK, oldest first.
type window struct {
	ring     []publication
	first, n int
}

func (w *window) full() bool { return w.n == len(w.ring) }

func (w *window) head() *publication { return &w.ring[w.first] }

func (w *window) push(pub publication) {
	w.ring[(w.first+w.n)%len(w.ring)] = pub
	w.n++
}

func (w *window) pop() publication {
	pub := w.ring[w.first]
	w.ring[w.first] = publication{}
	w.first = (w.first + 1) % len(w.ring)
	w.n--
	return pub
}

// read takes a lane's entries from the outbox, opens them and hands them
// to the sender a batch at a time, until ctx ends or the outbox fails.
// Each entry is decompressed into a body of its own: bodies recycled once
// the broker acknowledged them allocated 3.5 KB less a message (of 9.6 KB)
// and drained no faster (BenchmarkDrainVsBarePaho, eight alternated pairs:
// ratio medians 0.890 against 0.893).
func (p *Publisher) read(ctx context.Context, live bool, ready chan<- laneBatch) error {
	limit := newLimiter(p.opts.BacklogRate)
	for {
		c, entries, err := p.takeOnConn(ctx, live, limit)
		if err != nil {
			return err
		}
		msgs := make([]laneMsg, 0, len(entries))
		for _, e := range entries {
			topic, body, err := OpenEnvelope(e.Payload)
			if err != nil {
				p.undecodable.Add(1)
				p.log.Error("removing an outbox entry that is not an envelope", "seq", e.Seq, "err", err)
				if err := p.outbox.Ack(e.Seq); err != nil {
					p.release(c.epoch, entrySeqs(entries)...)
					return fmt.Errorf("publish: remove undecodable entry %d: %w", e.Seq, err)
				}
				continue
			}
			msgs = append(msgs, laneMsg{seq: e.Seq, topic: topic, body: body})
		}
		if len(msgs) == 0 {
			continue
		}
		select {
		case ready <- laneBatch{c: c, msgs: msgs}:
		case <-ctx.Done():
			p.release(c.epoch, msgSeqs(msgs)...)
			return ctx.Err()
		}
	}
}

// laneConn is the connection a lane took a batch for, which the sender
// publishes it on.
type laneConn struct {
	epoch  uint64
	conn   context.Context // ends when the connection is lost
	client mqtt.Client
}

// takeOnConn waits for a connection and takes the next entries of a lane
// for it. Entries it returns are in flight for that connection: if it is
// lost, loseEpoch returns them to the outbox (takeMu keeps every take
// either before or after a ReleaseAll). It returns an error only when ctx
// ends or the outbox fails.
func (p *Publisher) takeOnConn(ctx context.Context, live bool, limit *limiter) (laneConn, []buffer.Entry, error) {
	for {
		p.takeMu.RLock()
		p.mu.Lock()
		up, boundary := p.up, p.boundary
		c := laneConn{epoch: p.epoch, conn: p.conn}
		if p.cur != nil {
			c.client = p.cur.client
		}
		p.mu.Unlock()
		if !isClosed(up) {
			p.takeMu.RUnlock()
			select {
			case <-ctx.Done():
				return c, nil, ctx.Err()
			case <-up:
			}
			continue
		}
		if p.testHookLaneUp != nil {
			p.testHookLaneUp(live)
		}
		// The lane's wait ends with the connection: the next one has
		// another boundary.
		wait, endWait := context.WithCancel(ctx)
		stop := context.AfterFunc(c.conn, endWait)
		entries, err := p.take(wait, live, boundary, limit)
		stop()
		endWait()
		p.mu.Lock()
		lost := c.conn.Err() != nil // loseEpoch cancels it under p.mu
		p.mu.Unlock()
		p.takeMu.RUnlock()
		switch {
		case ctx.Err() != nil:
			p.release(c.epoch, entrySeqs(entries)...)
			return c, nil, ctx.Err()
		case lost:
			// The outbox can hand out ready entries after the wait
			// ended; the loss returns them to the outbox.
			p.resent.Add(int64(len(entries)))
			continue
		case err != nil:
			return c, nil, fmt.Errorf("publish: read outbox: %w", err)
		}
		return c, entries, nil
	}
}

// release returns entries taken for the connection of epoch to the
// outbox, unless that connection was lost meanwhile: loseEpoch has then
// returned them, and another lane may already have taken them again.
func (p *Publisher) release(epoch uint64, s ...buffer.Seq) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch == epoch && len(s) > 0 {
		p.outbox.Release(s...)
	}
}

// take reads the next entries of a lane: from boundary on for the live
// lane, below it (paced by limit) for the backlog lane. It takes up to a
// window at a time, at most maxTake: one outbox read per message would cost
// more than the publish (a read is a storage transaction), and a drain went
// about 1 % faster with a window's worth than with half.
func (p *Publisher) take(ctx context.Context, live bool, boundary buffer.Seq, limit *limiter) ([]buffer.Entry, error) {
	n := min(p.opts.Window, maxTake)
	if live {
		return p.outbox.NextFrom(ctx, n, boundary)
	}
	if err := limit.wait(ctx); err != nil {
		return nil, err
	}
	entries, err := p.outbox.NextBefore(ctx, min(n, limit.burst()), boundary)
	limit.spend(len(entries))
	return entries, err
}

// maxTake bounds the entries a lane reads at a time: with its batch being
// sent and the next read ahead, a lane holds at most twice this many
// entries opened in memory (3.2 KB each for a pulse oximeter's reading)
// besides the window.
const maxTake = 128

// limiter paces the backlog lane: rate entries a second, in bursts of at
// most a tenth of a second's worth. A rate of 0 is unlimited.
type limiter struct {
	rate   float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, tokens: 1, last: time.Now()}
}

func (l *limiter) burst() int {
	if l.rate <= 0 {
		return math.MaxInt
	}
	return max(1, int(l.rate/10))
}

func (l *limiter) refill() {
	now := time.Now()
	l.tokens = min(float64(l.burst()), l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
}

// wait blocks until at least one entry may be sent.
func (l *limiter) wait(ctx context.Context) error {
	if l.rate <= 0 {
		return nil
	}
	l.refill()
	if l.tokens >= 1 {
		return nil
	}
	t := time.NewTimer(time.Duration((1 - l.tokens) / l.rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		l.refill()
		return nil
	}
}

// spend takes n tokens (the balance may go below zero after a batch).
func (l *limiter) spend(n int) {
	if l.rate > 0 {
		l.tokens -= float64(n)
	}
}

func (p *Publisher) settle(pub publication) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch != pub.epoch {
		p.resent.Add(1)
		return
	}
	if err := pub.tok.Error(); err != nil {
		p.log.Warn("publish failed; the entry goes back to the outbox", "seq", pub.seq, "err", err)
		p.outbox.Release(pub.seq)
		p.resent.Add(1)
		return
	}
	if err := p.outbox.Ack(pub.seq); err != nil {
		p.log.Error("acknowledging a delivered entry failed; it will be sent again", "seq", pub.seq, "err", err)
		return
	}
	p.acked.Add(1)
	now := time.Now()
	p.lastAck.Store(now.UnixNano())
	if p.opts.OnAck != nil {
		p.opts.OnAck(now.Sub(pub.sent))
	}
}

func entrySeqs(entries []buffer.Entry) []buffer.Seq {
	s := make([]buffer.Seq, len(entries))
	for i, e := range entries {
		s[i] = e.Seq
	}
	return s
}

func msgSeqs(msgs []laneMsg) []buffer.Seq {
	s := make([]buffer.Seq, len(msgs))
	for i, m := range msgs {
		s[i] = m.seq
	}
	return s
}
