package embedbroker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure Start. The zero value is valid.
type Options struct {
	// StoreDir is where JetStream keeps sessions, retained messages and
	// messages queued for subscribers. The default is a new temporary
	// directory, removed by Close.
	StoreDir string
	// DenySubscribe lists MQTT topic filters that no client may subscribe
	// to: the broker refuses them in the SUBACK (return code 0x80). Each
	// filter is denied as written and matches subscriptions to the same
	// filter or to topics it covers.
	DenySubscribe []string
	// Logger receives the broker's warnings and errors (notices at debug).
	// The default discards them.
	Logger *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	srv      *server.Server
	url      string
	storeDir string
	ownDir   bool
}

// startTimeout bounds how long Start waits for the listeners and
// JetStream; a start on an idle machine takes about 30 ms.
const startTimeout = 10 * time.Second

// Start starts a broker with its MQTT listener on a free port of 127.0.0.1.
func Start(o Options) (*Broker, error) {
	b := &Broker{storeDir: o.StoreDir}
	if b.storeDir == "" {
		dir, err := os.MkdirTemp("", "bedgate-broker-")
		if err != nil {
			return nil, fmt.Errorf("embedbroker: store directory: %w", err)
		}
		b.storeDir, b.ownDir = dir, true
	}
	opts := &server.Options{
		ServerName: "bedgate-embedded",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT, // the NATS client port, unused but required
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   b.storeDir,
		MQTT:       server.MQTTOpts{Host: "127.0.0.1", Port: server.RANDOM_PORT},
	}
	if len(o.DenySubscribe) > 0 {
		deny := make([]string, len(o.DenySubscribe))
		for i, f := range o.DenySubscribe {
			deny[i] = Subject(f)
		}
		opts.Users = []*server.User{{
			Username: "anyone",
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{">"}},
				Subscribe: &server.SubjectPermission{Allow: []string{">"}, Deny: deny},
			},
		}}
		opts.NoAuthUser = "anyone"
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		b.removeOwnDir()
		return nil, fmt.Errorf("embedbroker: %w", err)
	}
	if o.Logger != nil {
		srv.SetLogger(logger{o.Logger.With("component", "embedded-broker")}, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(startTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		b.removeOwnDir()
		return nil, errors.New("embedbroker: not ready within " + startTimeout.String())
	}
	b.srv = srv
	// Safe to read: the server wrote the port it bound before it reported
	// ready, under the lock ReadyForConnections takes.
	b.url = "tcp://127.0.0.1:" + strconv.Itoa(opts.MQTT.Port)
	return b, nil
}

// URL is the MQTT listener's URL, tcp://127.0.0.1:port.
func (b *Broker) URL() string { return b.url }

// StoreDir is the JetStream store directory in use.
func (b *Broker) StoreDir() string { return b.storeDir }

// Close stops the broker and removes the store directory if Start made it.
func (b *Broker) Close() error {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
	return b.removeOwnDir()
}

func (b *Broker) removeOwnDir() error {
	if !b.ownDir {
		return nil
	}
	if err := os.RemoveAll(b.storeDir); err != nil {
		return fmt.Errorf("embedbroker: remove store: %w", err)
	}
	return nil
}

// Subject returns the NATS subject an MQTT topic filter maps to: levels
// separated by '.' instead of '/', '+' as '*' and '#' as '>'. It is for
// filters made of plain levels (no '.', ' ' or empty levels, which NATS
// escapes in its own way).
func Subject(filter string) string {
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		switch l {
		case "+":
			levels[i] = "*"
		case "#":
			levels[i] = ">"
		}
	}
	return strings.Join(levels, ".")
}

// logger passes the server's log lines to slog. Notices are routine (a
// client connected, a listener opened), so they go to debug.
type logger struct{ log *slog.Logger }

func (l logger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l logger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l logger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l logger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l logger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l logger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
