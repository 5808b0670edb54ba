package brokertest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on a free loopback port in front of a broker, for
// tests that cut and heal the link between a client and the broker
// (a network partition): the broker and its other clients stay up.
type Proxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	// afterSuback is the client id suffix of the clients whose
	// connections go silent after the broker's first SUBACK
	// (SilenceAfterSuback).
	afterSuback string
	refusing    bool // afterSuback's clients are refused until Heal
}

// NewProxy starts a proxy to the broker URL target (tcp://host:port); it
// stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, target: strings.TrimPrefix(target, "tcp://"), conns: make(map[net.Conn]bool)}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.Cut()
	})
	return p
}

// URL is the broker URL that goes through the proxy.
func (p *Proxy) URL() string { return "tcp://" + p.l.Addr().String() }

// Cut closes every proxied connection and refuses new ones until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Heal lets connections through again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.refusing, p.afterSuback = false, false, ""
}

// SilenceAfterSuback arms a partial partition for the MQTT clients whose
// client id ends with suffix: on the next such connection nothing the
// broker sends after its first SUBACK reaches the client (what the client
// sends still reaches the broker, and the connection stays open until the
// client or the broker closes it), and later connections of those clients
// are refused until Heal. Other clients pass as before.
func (p *Proxy) SilenceAfterSuback(suffix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.afterSuback, p.refusing = suffix, false
}

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

func (p *Proxy) relay(c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	b, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		b.Close()
		return
	}
	p.conns[c], p.conns[b] = true, true
	p.mu.Unlock()
	defer p.forget(c, b)
	client := bufio.NewReader(c)
	toClient := func() { io.Copy(c, b) }
	id, connect, err := readConnect(client)
	if err == nil {
		p.mu.Lock()
		watched := p.afterSuback != "" && strings.HasSuffix(id, p.afterSuback)
		if watched && p.refusing {
			err = errRefused
		}
		p.mu.Unlock()
		if watched && err == nil {
			toClient = func() { p.relayUntilSuback(c, b) }
		}
	}
	if err == nil {
		_, err = b.Write(connect)
	}
	if err != nil {
		c.Close()
		b.Close()
		return
	}
	var both sync.WaitGroup
	both.Go(func() {
		io.Copy(b, client)
		b.Close()
		c.Close()
	})
	both.Go(func() {
		toClient()
		c.Close()
		b.Close()
	})
	both.Wait()
}

var errRefused = errors.New("brokertest: refused until Heal")

func (p *Proxy) forget(c, b net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, b)
	p.mu.Unlock()
}

// relayUntilSuback copies the broker's packets to the client up to and
// including the first SUBACK, then refuses the watched clients until Heal
// and discards what the broker sends on this connection.
func (p *Proxy) relayUntilSuback(c, b net.Conn) {
	broker := bufio.NewReader(b)
	for {
		packet, err := readPacket(broker)
		if err != nil {
			return
		}
		if _, err := c.Write(packet); err != nil {
			return
		}
		if packet[0]>>4 == 9 { // SUBACK
			p.mu.Lock()
			p.refusing = true
			p.mu.Unlock()
			io.Copy(io.Discard, broker)
			return
		}
	}
}

// readPacket reads one MQTT control packet: fixed header, remaining length
// (MQTT 3.1.1, 2.2.3), rest.
func readPacket(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	packet := []byte{head}
	n, shift := 0, 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		packet = append(packet, b)
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		if shift += 7; shift > 21 {
			return nil, errors.New("brokertest: bad remaining length")
		}
	}
	rest := make([]byte, n)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, err
	}
	return append(packet, rest...), nil
}

// readConnect reads the client's CONNECT packet and returns its client id
// (MQTT 3.1.1, 3.1) and the packet's bytes.
func readConnect(r *bufio.Reader) (string, []byte, error) {
	packet, err := readPacket(r)
	if err != nil {
		return "", nil, err
	}
	if packet[0]>>4 != 1 {
		return "", nil, errors.New("brokertest: first packet is not CONNECT")
	}
	i := 1
	for packet[i]&0x80 != 0 {
		i++
	}
	v := packet[i+1:]
	if len(v) < 2 {
		return "", nil, errors.New("brokertest: short CONNECT")
	}
	if name := 2 + int(binary.BigEndian.Uint16(v)); len(v) >= name {
		v = v[name:] // protocol name
	} else {
		return "", nil, errors.New("brokertest: short CONNECT")
	}
	if len(v) < 6 {
		return "", nil, errors.New("brokertest: short CONNECT")
	}
	v = v[4:] // level, flags, keep alive
	n := int(binary.BigEndian.Uint16(v))
	if len(v) < 2+n {
		return "", nil, errors.New("brokertest: short CONNECT")
	}
	return string(v[2 : 2+n]), packet, nil
}
