package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/embedbroker"
	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/gateway/news2/tracker"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/topic"
	"github.com/bedgate/bedgate/simulators"
	"github.com/bedgate/bedgate/simulators/pty"
)

// Options configure a demo run. The zero value is valid.
type Options struct {
	// Beds is the number of simulated monitors. The default is 4.
	Beds int
	// Broker is an external broker URL; empty starts an embedded one.
	Broker string
	// DataDir holds the gateway's outbox. The default is a new temporary
	// directory, removed at the end.
	DataDir string
	// Out receives one line per reading the EPR receives (every
	// observation with All), device status changes and the status page's
	// address. The default is io.Discard.
	Out io.Writer
	// All prints every observation on a line of its own instead of one
	// line per reading with its key vitals.
	All bool
	// Status is the status server's listen address. The default is a free
	// loopback port; "off" serves none.
	Status string
	// Logger receives the components' diagnostics. The default discards
	// everything below warnings.
	Logger *slog.Logger
	// Drivers and Simulators resolve the monitor kind. Required.
	Drivers    *drivers.Registry
	Simulators *simulators.Registry
}

// monitors are assigned to the beds in turn: a kind of simulated monitor
// and its physiology scenario.
var monitors = []struct{ kind, scenario string }{
	{"intellivue", "stable"},
	{"masimo", "deteriorating-fast"},
	{"masimo", "sensor-off-fast"},
	{"nonin", "artefact"},
	{"dri", "stable"},
	{"intellivue", "deteriorating-fast"},
}

// Run runs the demo until ctx ends. It returns nil after a clean stop.
func Run(ctx context.Context, opts Options) error {
	if opts.Drivers == nil || opts.Simulators == nil {
		return errors.New("demo: Drivers and Simulators are required")
	}
	if opts.Beds <= 0 {
		opts.Beds = 4
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "bedgate-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dir)
		opts.DataDir = dir
	}

	broker := opts.Broker
	if broker == "" {
		b, err := embedbroker.Start(embedbroker.Options{Logger: log})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer b.Close()
		broker = b.URL()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()

	// The demo's patients were admitted before their monitors' first cuff
	// measurement, which is therefore theirs (a blood pressure measured
	// before an admission is not the admitted patient's).
	admitted := time.Now().UTC().Add(-time.Minute)

	// Simulated monitors on pseudo-terminals.
	cfg, err := demoConfig(opts.DataDir, broker)
	if err != nil {
		return err
	}
	for i := 0; i < opts.Beds; i++ {
		p, err := pty.Open()
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer p.Close()
		name := fmt.Sprintf("bed%d", i+1)
		m := monitors[i%len(monitors)]
		kind, err := opts.Simulators.Lookup(m.kind)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		dev, err := kind.New(simulators.Options{
			Scenario: m.scenario,
			Seed:     int64(i + 1),
			Serial:   fmt.Sprintf("%010d", 9310+i),
			Now:      func() time.Time { return time.Now().UTC() }, // the gateway reads device clocks as UTC here
			Logger:   log,
		})
		if err != nil {
			return fmt.Errorf("demo: simulator %s: %w", name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := dev.Run(ctx, p); err != nil && ctx.Err() == nil {
				log.Warn("simulated monitor stopped", "bed", name, "err", err)
			}
		}()
		cfg.Beds = append(cfg.Beds, config.Bed{Name: name, Driver: kind.Name, Port: p.Path(), Device: name})
		fmt.Fprintf(opts.Out, "monitor  %-6s %s (%s) on %s\n", name, m.kind, m.scenario, p.Path())
	}
	if err := cfg.Validate(opts.Drivers.Names()); err != nil {
		return fmt.Errorf("demo: config: %w", err)
	}

	switch opts.Status {
	case "":
		cfg.HTTP.Listen = "127.0.0.1:0"
	case "off":
	default:
		cfg.HTTP.Listen = opts.Status
	}

	// What the EPR receives.
	sub, err := subscribe(broker, topic.Site(cfg.Gateway.Site), opts.Out, opts.All)
	if err != nil {
		return err
	}
	defer sub.Disconnect(250)
	fmt.Fprintf(opts.Out, "broker   %s; the EPR subscriber prints what it receives,\n", broker)
	if !opts.All {
		fmt.Fprintln(opts.Out, "         "+legend)
	}
	// The EPR admits a (synthetic) patient to each IntelliVue bed, and a
	// nurse records that patient's consciousness and air or oxygen (their
	// monitors measure the rest of NEWS2), both retained, so the gateway
	// scores NEWS2 for them.
	for _, b := range cfg.Beds {
		if b.Driver != "intellivue" {
			continue
		}
		now := time.Now().UTC()
		admit, err := json.Marshal(assoc.Admission{Event: assoc.Admit, Patient: record.Patient{NHSNumber: demoPatient},
			Time: admitted, ID: "demo-adt-" + b.Name + "-" + now.Format(time.RFC3339Nano)})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		sub.Publish(assoc.AdmissionTopic(cfg.Gateway.Site, cfg.Gateway.Ward, b.Name), 1, true, admit)
		entry := fmt.Sprintf(`{"nhs_number":%q,"acvpu":"A","air_or_oxygen":"air","time":%q,"id":"demo-%s"}`, demoPatient, now.Format(time.RFC3339Nano), b.Name)
		sub.Publish(tracker.NurseTopic(tracker.Bed{Site: cfg.Gateway.Site, Ward: cfg.Gateway.Ward, Name: b.Name}), 1, true, entry)
		fmt.Fprintf(opts.Out, "nurse    %-6s patient admitted; alert (ACVPU A), on air: NEWS2 follows once the monitor's readings are in\n", b.Name)
	}

	err = gateway.Run(ctx, gateway.Options{Config: cfg, Drivers: opts.Drivers, Logger: log, Version: "demo",
		OnStart: func(g *gateway.Gateway) {
			if addr := g.HTTPAddr(); addr != "" {
				fmt.Fprintf(opts.Out, "status  http://%s/\n", addr)
			}
		}})
	cancel()
	return err
}

// demoPatient is the NHS number of the demo's patient: 999 numbers are
// never issued to real people.
const demoPatient = "9990000018"

// demoConfig is the defaults with the demo's gateway, broker and data
// directory; the beds are added as their monitors start.
func demoConfig(dataDir, broker string) (*config.Config, error) {
	cfg, err := config.Default()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.Gateway.ID, cfg.Gateway.Site, cfg.Gateway.Ward, cfg.Gateway.DataDir = "demo-gw", "demo", "ward1", dataDir
	cfg.MQTT.Broker, cfg.MQTT.Plaintext, cfg.MQTT.ClientID = broker, true, "bedgate-demo-gw"
	// The demo's EPR publishes at once: a short grace shows readings sooner.
	cfg.Association.Grace = time.Second
	return &cfg, nil
}

// subscribe connects a subscriber that prints every reading (every
// observation with all) and device status change under filter.
func subscribe(broker, filter string, out io.Writer, all bool) (pahomqtt.Client, error) {
	var mu sync.Mutex
	seen := lineFilter{}
	handler := func(_ pahomqtt.Client, m pahomqtt.Message) {
		mu.Lock()
		defer mu.Unlock()
		t := m.Topic()
		switch {
		case strings.HasSuffix(t, "/"+topic.Obs):
			msg, err := epr.ParseMessage(m.Payload())
			if err != nil {
				fmt.Fprintf(out, "EPR      %s: unreadable message: %v\n", t, err)
				return
			}
			if msg.IsContext() {
				fmt.Fprintln(out, contextLine(epr.BedOf(t), msg))
				return
			}
			obs := msg.Observations
			if !all {
				if bed, line := epr.BedOf(t), readingLine(epr.BedOf(t), obs); seen.novel(bed, line) {
					fmt.Fprintln(out, line)
				}
				return
			}
			for _, o := range obs {
				fmt.Fprintln(out, "EPR      "+epr.Line(epr.BedOf(t), o))
			}
		case strings.HasSuffix(t, "/"+topic.Device):
			var st gateway.DeviceStatus
			if err := json.Unmarshal(m.Payload(), &st); err != nil {
				fmt.Fprintf(out, "device   %s: unreadable status: %v\n", t, err)
				return
			}
			_, _, bed, _ := topic.ParseBed(t, topic.Device)
			line := fmt.Sprintf("device   %-6s %s", bed, st.State)
			if st.Device.Serial != "" {
				line += " (" + st.Device.Driver + " SN " + st.Device.Serial + ")"
			}
			if st.Reason != "" {
				line += ": " + st.Reason
			}
			fmt.Fprintln(out, line)
		case strings.HasSuffix(t, "/status"):
			var st gateway.GatewayStatus
			if err := json.Unmarshal(m.Payload(), &st); err != nil {
				fmt.Fprintf(out, "gateway  unreadable status: %v\n", err)
				return
			}
			line := "gateway  " + st.State
			if o := st.Outbox; o != nil {
				line += fmt.Sprintf(" (outbox: %d waiting, %d dropped)", o.Entries, o.Dropped["full"]+o.Dropped["age"])
			}
			fmt.Fprintln(out, line)
		}
	}
	c := pahomqtt.NewClient(pahomqtt.NewClientOptions().
		AddBroker(broker).
		SetClientID(fmt.Sprintf("bedgate-demo-epr-%d", time.Now().UnixNano())).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetOnConnectHandler(func(c pahomqtt.Client) { c.Subscribe(filter, 1, handler) }))
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		c.Disconnect(0)
		return nil, fmt.Errorf("demo: subscriber cannot connect to %s: %v", broker, tok.Error())
	}
	return c, nil
}
