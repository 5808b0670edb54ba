package gateway

import (
	"context"
	"crypto/tls"
	"net/url"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/news2/tracker"
	"github.com/bedgate/bedgate/gateway/topic"
)

// feedClientSuffix is appended to mqtt.client_id for the connection the
// gateway listens on (admissions, nurse entries).
const feedClientSuffix = "-feed"

// listen keeps a connection of its own to the broker for what the gateway
// listens to (the admission feed and nurse entries), until ctx ends. It is
// separate from the publisher's so that the admission watermark (assoc.Feed)
// knows exactly when the subscription was in place, and whether the broker
// kept the persistent session across a break (then it queued every message
// published meanwhile). Messages are handled one at a time, in order, and
// acknowledged once handled.
func (p *pipeline) listen(ctx context.Context, cfg *config.Config, tlsCfg *tls.Config) {
	// lost carries when the connection broke, to this goroutine, the only
	// one that tells the feed it is up or down: the loss of a connection
	// whose feed is not up yet must not be told before its Up.
	lost := make(chan time.Time, 1)
	var attempted atomic.Value // string: the node of the latest connection attempt
	co := mqtt.NewClientOptions()
	for _, u := range cfg.MQTT.URLs() {
		co.AddBroker(u) // the nodes of one cluster, tried in order
	}
	co.SetClientID(cfg.MQTT.ClientID + feedClientSuffix).
		SetCleanSession(false).
		SetKeepAlive(cfg.MQTT.KeepAlive).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetProtocolVersion(4).
		SetOrderMatters(true).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { p.dispatch(m) }).
		SetConnectionAttemptHandler(func(broker *url.URL, tc *tls.Config) *tls.Config {
			attempted.Store(broker.Redacted())
			return tc
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			at := p.now()
			p.log.Warn("admission feed connection lost; readings from now on wait for it", "err", err)
			select {
			case lost <- at:
			default:
			}
		})
	if cfg.MQTT.Username != "" {
		co.SetUsername(cfg.MQTT.Username).SetPassword(cfg.MQTT.Password.Reveal())
	}
	if tlsCfg != nil {
		co.SetTLSConfig(tlsCfg)
	}
	c := mqtt.NewClient(co)
	admissions := assoc.AdmissionFilter(cfg.Gateway.Site, cfg.Gateway.Ward)
	nurses := tracker.NurseFilter(cfg.Gateway.Site, cfg.Gateway.Ward)
	backoff := serialport.Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}
	var node string // the node of the previous connection
	for ctx.Err() == nil {
		select {
		case <-lost:
		default:
		}
		tok := c.Connect()
		select {
		case <-ctx.Done():
			return
		case <-tok.Done():
		}
		if tok.Error() == nil {
			backoff.Reset()
			prev := node
			node, _ = attempted.Load().(string)
			session := sessionKept(tok.(*mqtt.ConnectToken).SessionPresent(), prev, node)
			sub := c.Subscribe(admissions, 1, func(_ mqtt.Client, m mqtt.Message) { p.dispatch(m) })
			granted := p.awaitSubscription(ctx, admissions, sub)
			// The broker sends the retained admissions after the SUBACK: the
			// feed is not complete until they are in the register. A second
			// subscription's SUBACK comes after them on the connection, and
			// paho hands messages to their handler in order, so waiting for
			// it keeps readings from being decided before the retained
			// admissions are applied (the nurse entries' subscription, or
			// the gateway's own sync topic when NEWS2 is off).
			barrier := nurses
			if p.scores == nil {
				barrier = topic.GatewaySync(cfg.Gateway.Site, cfg.Gateway.ID)
			}
			btok := c.Subscribe(barrier, 1, func(_ mqtt.Client, m mqtt.Message) { p.dispatch(m) })
			select {
			case <-ctx.Done():
			case <-btok.Done():
			case <-time.After(30 * time.Second):
			}
			if p.scores != nil {
				p.watchSubscription(nurses, btok)
			}
			gone := granted && !p.upOn(ctx, c, btok, session, lost)
			if !gone {
				select {
				case <-ctx.Done():
					c.Disconnect(250)
					return
				case at := <-lost:
					p.feed.Down(at) // nothing when the feed was not up
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff.Next()):
		}
	}
}

// upOn tells the feed it is up on connection c, whose admission
// subscription was granted, once the barrier subscription (btok) was
// answered: the retained admissions before its SUBACK are then in. It
// reports whether it did. Otherwise c is over: lost meanwhile (paho then
// completes the token with an error, or the loss is waiting on lost), or
// dropped here because the barrier went unanswered or failed (paho gives
// up handing a subscription over after its write timeout), so that a new
// connection tries again, or because ctx ended. (A refused admission subscription is reported,
// and waited out on its connection.)
func (p *pipeline) upOn(ctx context.Context, c mqtt.Client, btok mqtt.Token, session bool, lost <-chan time.Time) bool {
	if isDone(btok) && btok.Error() == nil {
		select {
		case <-lost:
			return false
		default:
		}
		p.feed.Up(p.now(), session)
		// Filings the feed did not know complete become correctable once
		// the retained admissions are in (the grace).
		p.rechecks.request(time.Time{}, p.now().Add(p.grace+100*time.Millisecond))
		p.wakeHeld()
		p.log.Info("admission feed subscribed", "session_present", session)
		return true
	}
	if ctx.Err() == nil {
		p.log.Warn("admission feed: no answer to the subscription that follows the retained admissions; reconnecting", "err", btok.Error())
	}
	c.Disconnect(250)
	return false
}

// isDone reports whether a token has completed.
func isDone(t mqtt.Token) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

// sessionKept reports whether a connection to node continues the session
// of the previous one, to prev, so that the broker queued every admission
// published in between: it must say so (present), and be the same node. A
// session another node says it has may be one it kept from an earlier
// connection, without what was published while the gateway was elsewhere
// (nodes that do not share sessions): the break is then a gap in the feed.
func sessionKept(present bool, prev, node string) bool {
	return present && (prev == "" || prev == node)
}

// awaitSubscription waits for the broker's answer to the admission
// subscription and reports whether it was granted (a refusal is recorded
// for the status topic).
func (p *pipeline) awaitSubscription(ctx context.Context, filter string, tok mqtt.Token) bool {
	select {
	case <-ctx.Done():
		return false
	case <-tok.Done():
	case <-time.After(30 * time.Second):
		p.setSubscriptionError(filter, "no answer from the broker")
		return false
	}
	p.watchSubscription(filter, tok) // records the outcome for the status
	if tok.Error() != nil {
		return false
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code >= 0x80 {
				return false
			}
		}
	}
	return true
}

// dispatch hands a message to its handler by topic.
func (p *pipeline) dispatch(m mqtt.Message) {
	if _, _, _, err := assoc.ParseAdmissionTopic(m.Topic()); err == nil {
		p.admission(m.Topic(), m.Payload())
		return
	}
	if p.scores != nil {
		if _, err := tracker.ParseNurseTopic(m.Topic()); err == nil {
			p.nurse(m.Topic(), m.Payload())
			return
		}
	}
	p.log.Warn("message on a topic the gateway does not listen to", "topic", m.Topic())
}
