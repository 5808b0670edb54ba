package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/serialport"
	"github.com/bedgate/bedgate/gateway/assoc"
	"github.com/bedgate/bedgate/gateway/filed"
	"github.com/bedgate/bedgate/gateway/news2"
	"github.com/bedgate/bedgate/gateway/news2/tracker"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/tlsconfig"
	"github.com/bedgate/bedgate/gateway/validate"
)

// Config is the whole gateway configuration.
type Config struct {
	Gateway Gateway `mapstructure:"gateway"`
	MQTT    MQTT    `mapstructure:"mqtt"`
	Buffer  Buffer  `mapstructure:"buffer"`
	// Validation tunes the plausibility rules; Association the handling of
	// readings from a bed with no patient.
	Validation  Validation  `mapstructure:"validation"`
	Association Association `mapstructure:"association"`
	// NEWS2 tunes the advisory NEWS2 scores.
	NEWS2 NEWS2 `mapstructure:"news2"`
	// MLLP is the HL7 v2 listener for beds with driver hl7.
	MLLP MLLP `mapstructure:"mllp"`
	// HTTP is the local status server; off unless http.listen is set.
	HTTP HTTP  `mapstructure:"http"`
	Beds []Bed `mapstructure:"beds"`
}

// NEWS2 tunes the advisory NEWS2 scores.
type NEWS2 struct {
	// Window is the longest time any input of a score may precede the
	// newest. The default is 15m (news2.DefaultWindow).
	Window time.Duration `mapstructure:"window"`
	// NurseEntryFor is how long a nurse entry (consciousness, air or
	// oxygen) is used after its assessment time. The default is 15m
	// (tracker.DefaultNurseFor).
	NurseEntryFor time.Duration `mapstructure:"nurse_entry_for"`
	// Windows override Window per input, keyed by respiration, spo2,
	// temperature, systolic_bp, heart_rate, consciousness and
	// supplemental_oxygen: the longest time the input may precede the
	// newest. The defaults are Window for each, except systolic_bp and
	// temperature, 1h (news2.DefaultWindows: they are measured
	// episodically, see news2.DefaultEpisodicWindow).
	Windows map[string]time.Duration `mapstructure:"windows"`
}

// NEWS2Inputs are the keys of news2.windows, in chart order.
var NEWS2Inputs = []string{"respiration", "spo2", "supplemental_oxygen", "systolic_bp", "heart_rate", "consciousness", "temperature"}

// InputWindows returns the per-input windows of the scores:
// news2.DefaultWindows() overridden by Windows. Keys that are not inputs
// are ignored here (Validate reports them).
func (n NEWS2) InputWindows() news2.Windows {
	w := news2.DefaultWindows()
	fields := map[string]*time.Duration{
		"respiration": &w.RespRate, "spo2": &w.SpO2, "supplemental_oxygen": &w.AirOrOxygen, "systolic_bp": &w.SystolicBP,
		"heart_rate": &w.Pulse, "consciousness": &w.Consciousness, "temperature": &w.Temperature,
	}
	for key, d := range n.Windows {
		if f, ok := fields[key]; ok {
			*f = d
		}
	}
	return w
}

// HTTP is the local status server: the status page, Prometheus metrics,
// /healthz and /readyz (see gateway/web). It is off by default.
type HTTP struct {
	// Listen is host:port, for example 127.0.0.1:8080 (the box only) or
	// :8080 (the ward network, then with a token). Empty: no server.
	Listen string `mapstructure:"listen"`
	// CertFile and KeyFile, both or neither, serve HTTPS.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// TokenFile names a file holding the token every path but /healthz and
	// /readyz then asks for (one line). Load reads it into Token.
	TokenFile string `mapstructure:"token_file"`
	// Token comes from TokenFile or from the environment variable
	// BEDGATE_HTTP_TOKEN, never from the configuration file.
	Token Secret `mapstructure:"token"`
}

// TokenEnv is the environment variable that may hold the status server's
// token.
const TokenEnv = "BEDGATE_HTTP_TOKEN"

// TLSConfig returns the status server's TLS configuration, or nil without
// a certificate.
func (h HTTP) TLSConfig() (*tls.Config, error) {
	if h.CertFile == "" && h.KeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(h.CertFile, h.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load the certificate and key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Validation tunes the checks every value passes before it is forwarded.
type Validation struct {
	// MaxClockOffset flags every value of a device whose clock is further
	// than this from the gateway's. The default is 5m.
	MaxClockOffset time.Duration `mapstructure:"max_clock_offset"`
	// MaxMeasurementAge is the oldest an episodic measurement (a blood
	// pressure the monitor time-stamps) may be when first seen and still be
	// forwarded, at its own time; an older one is quarantined as stale.
	// The default is 1h (validate.DefaultMaxMeasurementAge).
	MaxMeasurementAge time.Duration `mapstructure:"max_measurement_age"`
	// Ranges override the default plausibility ranges, keyed by vital name
	// (spo2, pulse-rate, resp-rate, bp-systolic, bp-diastolic, bp-mean,
	// temperature, etco2, perfusion-index), MDC reference id or MDC code.
	// A value outside min..max is rejected as an artefact; outside
	// soft_min..soft_max it is forwarded flagged questionable.
	Ranges map[string]validate.RangeConfig `mapstructure:"ranges"`
}

// Association says what happens to readings from a bed with no patient.
type Association struct {
	// Policy is "forward" (with location and device only, flagged; the
	// default), "hold" (wait up to HoldFor for an admission covering the
	// reading) or "quarantine".
	Policy string `mapstructure:"policy"`
	// HoldFor bounds how long a reading is held. The default is 15m.
	HoldFor time.Duration `mapstructure:"hold_for"`
	// AfterHold is what happens when the hold ends without a patient:
	// "forward" (the default) or "quarantine".
	AfterHold string `mapstructure:"after_hold"`
	// Grace is how late an admission message may arrive after its event's
	// time and still be taken into account before readings of that time
	// are decided: every reading waits at least this long. The default is
	// 5s (assoc.DefaultGrace); at least 1s, for the retained messages to
	// arrive after a subscription.
	Grace time.Duration `mapstructure:"grace"`
	// MaxWait bounds how long a reading waits for the admission feed to be
	// known complete up to its time; then it follows Policy with the reason
	// "admission feed unavailable". The default is 15m
	// (assoc.DefaultMaxWait).
	MaxWait time.Duration `mapstructure:"max_wait"`
	// CorrectionWindow is how long after filing a reading stays
	// correctable: an admission event applied later than its time's grace
	// that changes who was in the bed then strikes out the filing and files
	// it again for the right subject (README: Corrections). The default is
	// 24h (filed.DefaultWindow); at most 168h, within the history the
	// admission register keeps.
	CorrectionWindow time.Duration `mapstructure:"correction_window"`
}

// Gateway names this gateway and where it keeps its state.
type Gateway struct {
	// ID names this gateway in topics and identifiers; it must never change
	// for a given box. Letters, digits, '-', '_' and '.'.
	ID string `mapstructure:"id"`
	// Site and Ward locate the gateway in topics.
	Site string `mapstructure:"site"`
	Ward string `mapstructure:"ward"`
	// DataDir holds the durable outbox. The default is /var/lib/bedgate.
	DataDir string `mapstructure:"data_dir"`
	// Format of published observations: "fhir" (FHIR R4 transaction
	// Bundles) or "hl7v2" (HL7 v2.6 ORU^R01 per IHE PCD-01). The default
	// is "fhir".
	Format string `mapstructure:"format"`
	// DeviceTimezone is the IANA zone of device clocks that send local time
	// without an offset. The default is "UTC".
	DeviceTimezone string `mapstructure:"device_timezone"`
	// ForwardEvery is the ward's charting cadence, which a bed's own
	// forward_every overrides: at most one complete, unflagged reading of
	// a monitor per interval is forwarded, while episodic measurements,
	// device status changes and flagged values always are (see the
	// gateway's cadence). The default, 0, forwards every reading.
	ForwardEvery time.Duration `mapstructure:"forward_every"`
}

// MQTT is the link to the broker that forwards to the EPR.
type MQTT struct {
	// Broker is the broker URL: ssl://, tls:// or mqtts://host:port (TLS),
	// or tcp://host:port (plaintext, only with Plaintext). It is the
	// one-node form of Brokers; exactly one of the two is required.
	Broker string `mapstructure:"broker"`
	// Brokers lists the nodes of one broker cluster, each a URL as Broker.
	// The gateway connects to the first that accepts it, trying them in
	// order, and fails over to the next when a connection is lost, with
	// the same client id and persistent session (the cluster must share
	// sessions between its nodes). All are TLS or all plaintext; the TLS
	// settings apply to every node.
	Brokers []string `mapstructure:"brokers"`
	// Plaintext must be true to allow a tcp:// broker: an unencrypted link
	// is a deliberate choice, never a default.
	Plaintext bool `mapstructure:"plaintext"`
	// ClientID is the MQTT client id. The default is "bedgate-<gateway id>".
	ClientID string `mapstructure:"client_id"`
	// KeepAlive is the MQTT keep-alive; it is never 0. The default is 30s.
	KeepAlive time.Duration `mapstructure:"keepalive"`
	// Window is the most publishes awaiting PUBACK at once, at most 1024.
	// The default is 64.
	Window int `mapstructure:"window"`
	// BacklogRate is the most backlog messages (read while the broker was
	// unreachable) sent a second after a reconnect; fresh readings go
	// first regardless. 0 means unlimited. The default is 500.
	BacklogRate float64 `mapstructure:"backlog_rate"`

	// CAFile is a PEM bundle of the CAs that sign the broker's
	// certificate; when set, only these are trusted. The default is the
	// system roots. TLS only.
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile are the PEM client certificate and its key, for
	// mutual TLS. Both or neither. TLS only.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ServerName is the name verified in the broker's certificate. The
	// default is the host of the URL dialled, per node. TLS only.
	ServerName string `mapstructure:"server_name"`
	// Username authenticates to the broker when set.
	Username string `mapstructure:"username"`
	// PasswordFile names a file holding the password (one line; a final
	// newline is ignored). Load reads it into Password.
	PasswordFile string `mapstructure:"password_file"`
	// Password comes from PasswordFile or from the environment variable
	// BEDGATE_MQTT_PASSWORD, never from the configuration file. It is never
	// sent over a plaintext link.
	Password Secret `mapstructure:"password"`
}

// Secret is a value that must never be printed or logged: it formats as
// "[redacted]" with fmt, slog and encoding/json. Reveal returns the value.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns "[redacted]" for the %#v verb.
func (s Secret) GoString() string { return s.String() }

// LogValue returns "[redacted]" for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText returns "[redacted]" for encoding/json and similar.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// PasswordEnv is the environment variable that may hold the broker password.
const PasswordEnv = "BEDGATE_MQTT_PASSWORD"

// URLs returns the broker URLs: Brokers, or Broker alone.
func (m MQTT) URLs() []string {
	if len(m.Brokers) > 0 || m.Broker == "" {
		return m.Brokers
	}
	return []string{m.Broker}
}

// IsTLS reports whether the broker URLs ask for TLS (validation makes
// them all TLS or all plaintext).
func (m MQTT) IsTLS() bool {
	urls := m.URLs()
	return len(urls) > 0 && isTLSURL(urls[0])
}

func isTLSURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "ssl", "tls", "mqtts":
		return true
	}
	return false
}

// TLSConfig returns the TLS client configuration of the link, checking
// certificate validity at now, or nil for a plaintext broker.
func (m MQTT) TLSConfig(now time.Time) (*tls.Config, error) {
	if !m.IsTLS() {
		return nil, nil
	}
	c, err := tlsconfig.Client(m.tlsFiles(), now)
	if err != nil {
		return nil, fmt.Errorf("config: mqtt: %w", err)
	}
	return c, nil
}

func (m MQTT) tlsFiles() tlsconfig.Files {
	return tlsconfig.Files{CA: m.CAFile, Cert: m.CertFile, Key: m.KeyFile, ServerName: m.ServerName}
}

// Buffer bounds the durable outbox.
type Buffer struct {
	// MaxBytes is the most payload bytes kept. The default is 256 MiB.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// MaxAge drops entries older than this (counted and reported). The
	// default is 168h (7 days).
	MaxAge time.Duration `mapstructure:"max_age"`
}

// Bed is one bed space with one device on one serial port.
type Bed struct {
	// Name of the bed as the ward knows it, used in topics. Required.
	Name string `mapstructure:"name"`
	// Driver is the protocol, a name from the driver registry. Required.
	Driver string `mapstructure:"driver"`
	// Port binds the bed to a serial port. It is a path (prefer
	// /dev/serial/by-path/..., which follows the physical USB socket
	// whatever adapter is plugged into it, or /dev/serial/by-id/... for
	// an adapter with its own serial number), or an adapter identity
	// "usb:VID:PID:SERIAL" (see USB). One of Port and USB is required.
	Port string `mapstructure:"port"`
	// USB binds the bed to a USB serial adapter by identity,
	// "VID:PID:SERIAL[:INTERFACE]" (for example 0403:6001:A50285BI), found
	// under whatever ttyUSB number it has at each open. Only adapters with
	// a unique serial number (FTDI) can be told apart this way. Load sets
	// Port to "usb:" and this value, the binding the gateway opens.
	USB string `mapstructure:"usb"`
	// Device names the device when it reports no serial number. The
	// default is the bed name.
	Device string `mapstructure:"device"`
	// Baud, DataBits, Parity and StopBits override the driver's defaults.
	Baud     int    `mapstructure:"baud"`
	DataBits int    `mapstructure:"data_bits"`
	Parity   string `mapstructure:"parity"`
	StopBits int    `mapstructure:"stop_bits"`
	// NHSNumber assigns a patient statically, for sites without an
	// admission feed. Checked with Modulus 11.
	NHSNumber string `mapstructure:"nhs_number"`
	// NEWS2Scale2 marks a bed whose patient is scored on SpO2 scale 2
	// (hypercapnic respiratory failure, on clinical advice).
	NEWS2Scale2 bool `mapstructure:"news2_scale2"`
	// Source says which HL7 v2 messages are this bed's, for a bed with
	// driver hl7 (fed by the MLLP listener, no port): "pv1:" and the
	// PV1-3 location as point of care^room^bed (for example
	// "pv1:ICU^^BED3"), or "obx18:" and the OBX-18 equipment identifier
	// (for example "obx18:0800190B4020"). Exact match.
	Source string `mapstructure:"source"`
	// Capture, when set, is a directory where every byte read from the
	// bed's port is recorded, one capture file per port session (see
	// drivers/capture), while the stream goes on to the gateway: for
	// diagnosing a device. The files are not rotated or removed.
	Capture string `mapstructure:"capture"`
	// ForwardEvery is the bed's charting cadence; unset, the ward's
	// (gateway.forward_every); 0 forwards every reading.
	ForwardEvery *time.Duration `mapstructure:"forward_every"`
}

// Cadence is the bed's charting cadence: its own forward_every, else the
// ward's.
func (b Bed) Cadence(ward time.Duration) time.Duration {
	if b.ForwardEvery != nil {
		return *b.ForwardEvery
	}
	return ward
}

// Defaults for unset values.
const (
	DefaultDataDir     = "/var/lib/bedgate"
	DefaultFormat      = "fhir"
	DefaultKeepAlive   = 30 * time.Second
	DefaultWindow      = 64
	DefaultBacklogRate = 500
	DefaultMaxBytes    = 256 << 20
	DefaultMaxAge      = 7 * 24 * time.Hour
)

// defaults lists every scalar key, so that BEDGATE_<KEY> environment variables
// override them (for example BEDGATE_MQTT_BROKER).
var defaults = map[string]any{
	"gateway.id":                     "",
	"gateway.site":                   "",
	"gateway.ward":                   "",
	"gateway.data_dir":               DefaultDataDir,
	"gateway.format":                 DefaultFormat,
	"gateway.device_timezone":        "UTC",
	"gateway.forward_every":          time.Duration(0),
	"mqtt.broker":                    "",
	"mqtt.brokers":                   []string{}, // BEDGATE_MQTT_BROKERS: URLs separated by commas
	"mqtt.plaintext":                 false,
	"mqtt.client_id":                 "",
	"mqtt.keepalive":                 DefaultKeepAlive,
	"mqtt.window":                    DefaultWindow,
	"mqtt.backlog_rate":              float64(DefaultBacklogRate),
	"mqtt.ca_file":                   "",
	"mqtt.cert_file":                 "",
	"mqtt.key_file":                  "",
	"mqtt.server_name":               "",
	"mqtt.username":                  "",
	"mqtt.password_file":             "",
	"mqtt.password":                  "", // only from BEDGATE_MQTT_PASSWORD
	"buffer.max_bytes":               int64(DefaultMaxBytes),
	"buffer.max_age":                 DefaultMaxAge,
	"validation.max_clock_offset":    validate.DefaultMaxClockOffset,
	"validation.max_measurement_age": validate.DefaultMaxMeasurementAge,
	"association.policy":             string(assoc.PolicyForward),
	"association.hold_for":           assoc.DefaultHoldFor,
	"association.after_hold":         string(assoc.PolicyForward),
	"association.grace":              assoc.DefaultGrace,
	"association.max_wait":           assoc.DefaultMaxWait,
	"association.correction_window":  filed.DefaultWindow,
	"news2.window":                   news2.DefaultWindow,
	"news2.nurse_entry_for":          tracker.DefaultNurseFor,
	"mllp.listen":                    "",
	"mllp.cert_file":                 "",
	"mllp.key_file":                  "",
	"mllp.client_ca_file":            "",
	"mllp.max_message":               DefaultMLLPMaxMessage,
	"mllp.patient":                   PatientFromBed,
	"http.listen":                    "",
	"http.cert_file":                 "",
	"http.key_file":                  "",
	"http.token_file":                "",
	"http.token":                     "", // only from BEDGATE_HTTP_TOKEN
}

// Default returns a configuration holding every default value, from the
// same table Load applies, for programs that build a configuration in code
// (the demo): they set what they need, then call Validate.
func Default() (Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return Config{}, fmt.Errorf("config: defaults: %w", err)
	}
	return c, nil
}

// Load reads the YAML file at path, applies BEDGATE_* environment
// overrides and defaults, and validates the result against known driver
// names. It reads the broker password from mqtt.password_file or
// BEDGATE_MQTT_PASSWORD. It returns every problem found, joined; no
// problem quotes the password.
func Load(path string, knownDrivers []string) (*Config, error) {
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	v.SetEnvPrefix("BEDGATE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	// Every problem is reported in one pass: values of the wrong kind are
	// reported and replaced by their defaults, then the rest is decoded
	// and validated.
	errs := checkValues(v)
	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		errs = append(errs, undecodable(err)...)
	}
	c.applyDefaults()
	if v.InConfig("mqtt.password") {
		// Configuration files are copied, shared and committed; passwords
		// belong in a file only root can read, or in the environment.
		errs = append(errs, fmt.Errorf("mqtt.password: do not write the password in the configuration file: use mqtt.password_file or %s", PasswordEnv))
		c.MQTT.Password = ""
	}
	if c.MQTT.PasswordFile != "" {
		if c.MQTT.Password != "" {
			errs = append(errs, fmt.Errorf("mqtt.password_file: %s is set too: use one or the other", PasswordEnv))
		} else if pw, err := readPassword(c.MQTT.PasswordFile); err != nil {
			errs = append(errs, fmt.Errorf("mqtt.password_file: %w", err))
		} else {
			c.MQTT.Password = pw
		}
	}
	if v.InConfig("http.token") {
		errs = append(errs, fmt.Errorf("http.token: do not write the token in the configuration file: use http.token_file or %s", TokenEnv))
		c.HTTP.Token = ""
	}
	if c.HTTP.TokenFile != "" {
		if c.HTTP.Token != "" {
			errs = append(errs, fmt.Errorf("http.token_file: %s is set too: use one or the other", TokenEnv))
		} else if tok, err := readPassword(c.HTTP.TokenFile); err != nil {
			errs = append(errs, fmt.Errorf("http.token_file: %w", err))
		} else {
			c.HTTP.Token = tok
		}
	}
	errs = append(errs, c.Validate(knownDrivers))
	if err := errors.Join(withSources(errs)...); err != nil {
		return nil, fmt.Errorf("%s:\n%w", path, err)
	}
	return &c, nil
}

// readPassword reads a password file: one line, a final newline ignored.
// Its errors never quote the file's content.
func readPassword(path string) (Secret, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	switch {
	case pw == "":
		return "", fmt.Errorf("%s is empty", path)
	case strings.ContainsAny(pw, "\r\n"):
		return "", fmt.Errorf("%s has more than one line", path)
	}
	return Secret(pw), nil
}

func (c *Config) applyDefaults() {
	if c.MQTT.ClientID == "" && c.Gateway.ID != "" {
		c.MQTT.ClientID = "bedgate-" + c.Gateway.ID
	}
	for i := range c.Beds {
		if c.Beds[i].Device == "" {
			c.Beds[i].Device = c.Beds[i].Name
		}
		if c.Beds[i].Port == "" && c.Beds[i].USB != "" {
			c.Beds[i].Port = "usb:" + c.Beds[i].USB
		}
	}
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks every value and returns all problems joined, each naming
// its key.
func (c *Config) Validate(knownDrivers []string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	checkName := func(key, val string) {
		switch {
		case val == "":
			bad(key, "required")
		case !namePattern.MatchString(val):
			bad(key, "%q: use letters, digits, '.', '-' or '_' (at most 64, no spaces or MQTT wildcards)", val)
		}
	}
	checkName("gateway.id", c.Gateway.ID)
	checkName("gateway.site", c.Gateway.Site)
	checkName("gateway.ward", c.Gateway.Ward)
	if c.Gateway.DataDir == "" {
		bad("gateway.data_dir", "required")
	}
	if c.Gateway.Format != "fhir" && c.Gateway.Format != "hl7v2" {
		bad("gateway.format", "%q: must be fhir or hl7v2", c.Gateway.Format)
	}
	if _, err := time.LoadLocation(c.Gateway.DeviceTimezone); err != nil {
		bad("gateway.device_timezone", "%q: not an IANA time zone (for example Europe/London)", c.Gateway.DeviceTimezone)
	}

	checkCadence("gateway.forward_every", c.Gateway.ForwardEvery, bad)
	c.validateBrokers(bad)
	c.validateLinkSecurity(bad)
	c.HTTP.validate(bad)
	for _, r := range c.ranges() {
		r.check(bad)
	}
	if _, err := validate.NewRules(validate.Config{Ranges: c.Validation.Ranges}); err != nil {
		bad("validation.ranges", "%w", err)
	}
	if _, err := c.Association.Decider(nil); err != nil {
		bad("association", "%w", err)
	}
	if c.Association.Grace < time.Second || c.Association.Grace > 10*time.Minute {
		bad("association.grace", "%v: must be between 1s and 10m", c.Association.Grace)
	}
	if c.Association.MaxWait < c.Association.Grace || c.Association.MaxWait > 24*time.Hour {
		bad("association.max_wait", "%v: must be between association.grace and 24h", c.Association.MaxWait)
	}
	if c.Association.CorrectionWindow < time.Minute || c.Association.CorrectionWindow > 168*time.Hour {
		bad("association.correction_window", "%v: must be between 1m and 168h", c.Association.CorrectionWindow)
	}
	if c.NEWS2.Window < time.Minute || c.NEWS2.Window > 24*time.Hour {
		bad("news2.window", "%v: must be between 1m and 24h", c.NEWS2.Window)
	}
	if c.NEWS2.NurseEntryFor < time.Minute || c.NEWS2.NurseEntryFor > 24*time.Hour {
		bad("news2.nurse_entry_for", "%v: must be between 1m and 24h", c.NEWS2.NurseEntryFor)
	}
	for _, key := range slices.Sorted(maps.Keys(c.NEWS2.Windows)) {
		switch d := c.NEWS2.Windows[key]; {
		case !slices.Contains(NEWS2Inputs, key):
			bad("news2.windows."+key, "not a NEWS2 input: use %s", strings.Join(NEWS2Inputs, ", "))
		case d < time.Minute || d > 24*time.Hour:
			bad("news2.windows."+key, "%v: must be between 1m and 24h", d)
		}
	}

	if len(c.Beds) == 0 {
		bad("beds", "at least one bed is required")
	}
	names := map[string]int{}
	ports := map[string]int{}
	sources := map[string]int{}
	c.MLLP.validate(bad)
	for i, b := range c.Beds {
		key := fmt.Sprintf("beds[%d]", i)
		checkName(key+".name", b.Name)
		if j, dup := names[b.Name]; dup && b.Name != "" {
			bad(key+".name", "%q is also beds[%d]", b.Name, j)
		}
		names[b.Name] = i
		if b.Driver == "" {
			bad(key+".driver", "required (one of %v or %s)", knownDrivers, HL7Driver)
		} else if !slices.Contains(knownDrivers, b.Driver) && b.Driver != HL7Driver {
			bad(key+".driver", "%q: unknown driver (one of %v or %s)", b.Driver, knownDrivers, HL7Driver)
		}
		if b.Driver == HL7Driver || b.Source != "" {
			c.checkSource(i, b, sources, bad)
		} else if port := checkBinding(key, b, bad); port != "" {
			if j, dup := ports[port]; dup {
				bad(key+".port", "%q is also the port of beds[%d]: one port carries one device", b.Port, j)
			} else if node, err := filepath.EvalSymlinks(port); err == nil && node != port {
				// Two names of one device node (a by-path and a by-id
				// link, or a link and the node itself).
				if j, dup := ports[node]; dup {
					bad(key+".port", "%q is the device %s, which is also the port of beds[%d]: one port carries one device", b.Port, node, j)
				}
				ports[node] = i
			}
			ports[port] = i
		}
		if b.Device != "" {
			checkName(key+".device", b.Device)
		}
		if b.Baud != 0 {
			inRange(key+".baud", int64(b.Baud), 50, 4_000_000, "serial line speeds lie between 50 and 4,000,000 baud (Linux termios); leave it unset for the driver's").check(bad)
		}
		if b.DataBits != 0 && (b.DataBits < 5 || b.DataBits > 8) {
			bad(key+".data_bits", "%d: must be 5, 6, 7 or 8", b.DataBits)
		}
		switch drivers.Parity(b.Parity) {
		case "", drivers.NoParity, drivers.EvenParity, drivers.OddParity:
		default:
			bad(key+".parity", "%q: must be none, even or odd", b.Parity)
		}
		if b.StopBits != 0 && b.StopBits != 1 && b.StopBits != 2 {
			bad(key+".stop_bits", "%d: must be 1 or 2", b.StopBits)
		}
		if b.NEWS2Scale2 && c.Gateway.Format == "hl7v2" {
			bad(key+".news2_scale2", "NEWS2 is published only with gateway.format fhir (HL7 v2 PCD-01 has no place for it)")
		}
		if b.ForwardEvery != nil {
			checkCadence(key+".forward_every", *b.ForwardEvery, bad)
		}
		if b.Capture != "" && !strings.HasPrefix(b.Capture, "/") {
			bad(key+".capture", "%q: must be an absolute directory path", b.Capture)
		}
		if b.NHSNumber != "" {
			if _, err := assoc.NormalizeNHSNumber(b.NHSNumber); err != nil {
				bad(key+".nhs_number", "%w", err)
			}
		}
	}
	return errors.Join(errs...)
}

// maxForwardEvery is the longest charting cadence: a ward charts
// observations at least hourly.
const maxForwardEvery = time.Hour

// checkCadence checks a forward_every: 0 (every reading), or 1s to 1h.
func checkCadence(key string, d time.Duration, bad func(key, format string, args ...any)) {
	if d != 0 && (d < time.Second || d > maxForwardEvery) {
		bad(key, "%v: must be 0 (every reading) or between 1s and 1h: a ward charts observations at least hourly", d)
	}
}

// bound is the sane range of one numeric setting, with the reason for it.
type bound struct {
	key  string
	in   bool      // the value lies within the range
	text [3]string // the value, the minimum and the maximum, as written
	why  string
}

func (b bound) check(bad func(key, format string, args ...any)) {
	if !b.in {
		bad(b.key, "%s: must be between %s and %s: %s", b.text[0], b.text[1], b.text[2], b.why)
	}
}

func inRange(key string, v, lo, hi int64, why string) bound {
	f := func(n int64) string { return strconv.FormatInt(n, 10) }
	return bound{key, v >= lo && v <= hi, [3]string{f(v), f(lo), f(hi)}, why}
}

func durationIn(key string, v, lo, hi time.Duration, why string) bound {
	return bound{key, v >= lo && v <= hi, [3]string{v.String(), lo.String(), hi.String()}, why}
}

func floatIn(key string, v, lo, hi float64, why string) bound {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return bound{key, v >= lo && v <= hi, [3]string{f(v), f(lo), f(hi)}, why}
}

// Limits of the settings that have one beyond their type.
const (
	// maxKeepAlive is the longest MQTT keep-alive: the protocol carries it
	// in seconds in a 16-bit field.
	maxKeepAlive = 65535 * time.Second
	// maxOutboxBytes bounds buffer.max_bytes by the outbox's memory: about
	// 32 bytes of index per entry of about 2.1 KB on disk.
	maxOutboxBytes = 16 << 30
	// maxWindow leaves 64,511 of MQTT's 65,535 packet identifiers to the
	// retained statuses and subscriptions of a connection.
	maxWindow = 1024
)

// ranges lists the sane range of every duration, size and rate, each with
// its reason.
func (c *Config) ranges() []bound {
	rs := []bound{
		durationIn("mqtt.keepalive", c.MQTT.KeepAlive, time.Second, maxKeepAlive,
			"MQTT sends the keep-alive in whole seconds in a 16-bit field, and 0 (or a value that wraps to 0) would let a dead link and the last will go unnoticed"),
		inRange("mqtt.window", int64(c.MQTT.Window), 1, maxWindow,
			"MQTT numbers the publishes awaiting PUBACK with 16-bit packet identifiers, which the retained statuses of every bed and the gateway share on the same connection"),
		inRange("buffer.max_bytes", c.Buffer.MaxBytes, 1<<20, maxOutboxBytes,
			"below 1 MiB the outbox holds a few hundred readings; above 16 GiB (about 8 million readings) its index alone would take some 260 MB of memory"),
		durationIn("buffer.max_age", c.Buffer.MaxAge, time.Minute, 30*24*time.Hour,
			"a reading delivered more than 30 days late is no longer an observation anyone acts on, and the outbox keeps it on disk meanwhile"),
		durationIn("validation.max_clock_offset", c.Validation.MaxClockOffset, time.Second, 24*time.Hour,
			"a device clock more than a day out is wrong, not drifting: its values must be flagged"),
		durationIn("validation.max_measurement_age", c.Validation.MaxMeasurementAge, time.Minute, 24*time.Hour,
			"a monitor shows its last blood pressure until the next, at least every few minutes while measuring; one more than a day old is not a current observation to forward"),
		durationIn("association.hold_for", c.Association.HoldFor, time.Second, 24*time.Hour,
			"held readings wait on disk and go out late by as long as they are held"),
	}
	// 0 is unlimited.
	if c.MQTT.BacklogRate != 0 {
		rs = append(rs, floatIn("mqtt.backlog_rate", c.MQTT.BacklogRate, 1, 1_000_000,
			"messages a second, or 0 for unlimited; below one a second a backlog drains slower than a single bed sending one reading a second fills it"))
	}
	return rs
}

// SecretWarnings names the secrets files (mqtt.key_file,
// mqtt.password_file) that users other than the owner can read, each with
// the chmod that fixes it. A file that cannot be examined is reported by
// Validate, not here.
func (c *Config) SecretWarnings() []string {
	var out []string
	for _, f := range []struct{ key, path string }{
		{"mqtt.key_file", c.MQTT.KeyFile},
		{"mqtt.password_file", c.MQTT.PasswordFile},
		{"http.key_file", c.HTTP.KeyFile},
		{"http.token_file", c.HTTP.TokenFile},
	} {
		if f.path == "" {
			continue
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			continue
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s: %s is readable by group or others (mode %#o): chmod 600 %s", f.key, f.path, mode, f.path))
		}
	}
	return out
}

// checkBinding checks a bed's port or usb binding and returns the key two
// beds must not share (the path, or the adapter identity), or "" when the
// binding is bad.
func checkBinding(key string, b Bed, bad func(key, format string, args ...any)) string {
	switch {
	case b.USB != "" && b.Port != "" && b.Port != "usb:"+b.USB:
		bad(key+".usb", "set, and so is %s.port %q: bind a bed by port or by usb, not both", key, b.Port)
		return ""
	case b.Port == "" && b.USB == "":
		bad(key+".port", "required (prefer /dev/serial/by-path/..., or set usb: VID:PID:SERIAL)")
		return ""
	case b.USB != "" || serialport.IsUSBBinding(b.Port):
		k, v := key+".port", b.Port
		if b.USB != "" {
			k, v = key+".usb", b.USB
		}
		id, err := serialport.ParseUSBID(v)
		if err != nil {
			bad(k, "%s", strings.TrimPrefix(err.Error(), "serialport: "))
			return ""
		}
		return id.String()
	case !strings.HasPrefix(b.Port, "/"):
		bad(key+".port", "%q: must be an absolute path such as /dev/serial/by-path/...", b.Port)
		return ""
	}
	return filepath.Clean(b.Port)
}

// PortWarnings compares the beds' bindings with the serial ports e finds
// and returns what a biomedical engineer should fix, one line each naming
// its key: adapter identities that several adapters share or that name no
// serial number, by-id names of adapters that cannot be told apart,
// ttyUSB numbers that change across reboots, and ports not present now.
// Nothing is opened.
func (c *Config) PortWarnings(e serialport.Enumerator) []string {
	ports, err := e.List()
	if err != nil {
		return []string{fmt.Sprintf("ports: cannot list the serial ports: %v", err)}
	}
	var warns []string
	warn := func(key, format string, args ...any) {
		warns = append(warns, fmt.Sprintf("%s: "+format, append([]any{key}, args...)...))
	}
	sameIdentity := func(p serialport.PortInfo) int {
		n := 0
		for _, q := range ports {
			if q.USB && q.VID == p.VID && q.PID == p.PID && q.Serial == p.Serial && q.Interface == p.Interface {
				n++
			}
		}
		return n
	}
	for i, b := range c.Beds {
		key := fmt.Sprintf("beds[%d]", i)
		if b.Driver == HL7Driver {
			continue // fed over the network
		}
		if serialport.IsUSBBinding(b.Port) {
			if b.USB != "" {
				key += ".usb"
			} else {
				key += ".port"
			}
			id, err := serialport.ParseUSBID(b.Port)
			if err != nil {
				continue // Validate reports it
			}
			var found []serialport.PortInfo
			for _, p := range ports {
				if id.Matches(p) {
					found = append(found, p)
				}
			}
			switch {
			case len(found) > 1:
				warn(key, "%s matches %d adapters present (%s): they cannot be told apart; bind by /dev/serial/by-path", id, len(found), names(found))
			case id.Serial == "":
				warn(key, "%s names no serial number: any such adapter plugged in would match; bind by /dev/serial/by-path", id)
			case len(found) == 0:
				warn(key, "no adapter %s is plugged in now", id)
			case found[0].Serial == "":
				warn(key, "the adapter at %s has no serial number; bind by /dev/serial/by-path", found[0].Name)
			}
			continue
		}
		key += ".port"
		node, err := e.Node(b.Port)
		if err != nil {
			warn(key, "%q: %s is not present now (is the adapter plugged in?)", b.Port, node)
			continue
		}
		var port *serialport.PortInfo
		for j := range ports {
			if ports[j].Name == node {
				port = &ports[j]
			}
		}
		if port == nil || !port.USB {
			continue
		}
		stable := "/dev/serial/by-path/..."
		if len(port.ByPath) > 0 {
			stable = port.ByPath[0]
		}
		switch {
		case strings.HasPrefix(b.Port, "/dev/serial/by-id/") && (port.Serial == "" || sameIdentity(*port) > 1):
			warn(key, "%q: the adapter (%s:%s) has no unique serial number, so another one like it would take this by-id name; use %s", b.Port, port.VID, port.PID, stable)
		case !strings.HasPrefix(b.Port, "/dev/serial/"):
			if b.Port == node {
				warn(key, "%q: ttyUSB and ttyACM numbers change across reboots and replugging; use %s", b.Port, stable)
			}
		}
	}
	return warns
}

func names(ports []serialport.PortInfo) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.Name
	}
	return strings.Join(s, ", ")
}

// validateBrokers checks mqtt.broker or mqtt.brokers: one of the two, each
// URL well formed, plaintext only when allowed, no node twice, and all TLS
// or all plaintext (the TLS settings apply to every node).
func (c *Config) validateBrokers(bad func(key, format string, args ...any)) {
	m := c.MQTT
	switch {
	case m.Broker != "" && len(m.Brokers) > 0:
		bad("mqtt.brokers", "set together with mqtt.broker: give the one broker as mqtt.broker or every node as mqtt.brokers")
		return
	case m.Broker == "" && len(m.Brokers) == 0:
		bad("mqtt.broker", "required (for example ssl://epr-broker.trust.nhs.uk:8883), or mqtt.brokers for the nodes of a cluster")
		return
	}
	key := func(int) string { return "mqtt.broker" }
	if len(m.Brokers) > 0 {
		key = func(i int) string { return fmt.Sprintf("mqtt.brokers[%d]", i) }
	}
	seen := make(map[string]int)
	for i, raw := range m.URLs() {
		checkBrokerURL(key(i), raw, m.Plaintext, bad)
		if j, dup := seen[raw]; dup {
			bad(key(i), "%q is also %s: list each node once", redactURL(raw), key(j))
		}
		seen[raw] = i
		if isTLSURL(raw) != m.IsTLS() {
			bad(key(i), "%q: mixes TLS and plaintext nodes: the TLS settings apply to every node, so all must use ssl:// (or all tcp://)", redactURL(raw))
		}
	}
}

// checkBrokerURL checks one broker URL.
func checkBrokerURL(key, raw string, plaintext bool, bad func(key, format string, args ...any)) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		bad(key, "%q: not a URL of the form scheme://host:port", raw)
		return
	}
	switch u.Scheme {
	case "tcp", "mqtt":
		if !plaintext {
			bad(key, "%q is unencrypted: use ssl://, or set mqtt.plaintext: true to allow it deliberately", u.Redacted())
		}
	case "ssl", "tls", "mqtts":
	default:
		bad(key, "%q: scheme must be tcp, mqtt, ssl, tls or mqtts", u.Redacted())
	}
	if u.Port() == "" {
		bad(key, "%q: give the port (1883 plaintext, 8883 TLS)", u.Redacted())
	}
	if u.User != nil {
		// The broker URL is logged and printed; credentials must not be in it.
		bad(key, "%q: no user or password in the URL: use mqtt.username and mqtt.password_file", u.Redacted())
	}
}

// validateLinkSecurity checks the TLS files and the credentials.
func (c *Config) validateLinkSecurity(bad func(key, format string, args ...any)) {
	m := c.MQTT
	files := []struct{ key, val string }{
		{"mqtt.ca_file", m.CAFile}, {"mqtt.cert_file", m.CertFile}, {"mqtt.key_file", m.KeyFile}, {"mqtt.server_name", m.ServerName},
	}
	if !m.IsTLS() {
		for _, f := range files {
			if f.val != "" {
				bad(f.key, "set, but the broker %s does not use TLS (use ssl://)", m.redactedURLs())
			}
		}
		if m.Password != "" && len(m.URLs()) > 0 {
			bad("mqtt.password", "would be sent unencrypted to %s: use an ssl:// broker", m.redactedURLs())
		}
	} else {
		if m.CAFile != "" {
			if _, err := tlsconfig.ReadCAs(m.CAFile); err != nil {
				bad("mqtt.ca_file", "%w", err)
			}
		}
		switch {
		case m.CertFile == "" && m.KeyFile != "":
			bad("mqtt.cert_file", "required with mqtt.key_file")
		case m.CertFile != "" && m.KeyFile == "":
			bad("mqtt.key_file", "required with mqtt.cert_file")
		case m.CertFile != "":
			now := time.Now()
			if _, err := tlsconfig.ReadCertificate(m.CertFile, now); err != nil {
				bad("mqtt.cert_file", "%w", err)
			} else if _, err := tlsconfig.ReadKeyPair(m.CertFile, m.KeyFile, now); err != nil {
				bad("mqtt.key_file", "%w", err)
			}
		}
		if m.ServerName != "" && strings.ContainsAny(m.ServerName, " /:") {
			bad("mqtt.server_name", "%q: give a host name or address, without scheme or port", m.ServerName)
		}
	}
	if m.Password != "" && m.Username == "" {
		bad("mqtt.username", "required when a password is given")
	}
}

// Decider returns the unassociated-bed policy as an assoc.Decider over
// lookup, or an error naming the bad value.
func (a Association) Decider(lookup assoc.Lookup) (assoc.Decider, error) {
	policy, err := assoc.ParsePolicy(a.Policy)
	if err != nil {
		return assoc.Decider{}, fmt.Errorf("policy: %w", err)
	}
	after, err := assoc.ParsePolicy(a.AfterHold)
	if err != nil {
		return assoc.Decider{}, fmt.Errorf("after_hold: %w", err)
	}
	d := assoc.Decider{Lookup: lookup, Policy: policy, HoldFor: a.HoldFor, AfterHold: after, MaxWait: a.MaxWait}
	if lookup == nil {
		d.Lookup = noLookup{}
	}
	if err := d.Validate(); err != nil {
		return assoc.Decider{}, err
	}
	return d, nil
}

// noLookup stands in for the register when only the options are checked.
type noLookup struct{}

func (noLookup) PatientAt(string, time.Time) (record.Patient, bool) { return record.Patient{}, false }

// Line returns the bed's serial settings: the driver's defaults with the
// bed's overrides applied.
func (b Bed) Line(defaults drivers.LineSettings) drivers.LineSettings {
	return defaults.Override(drivers.LineSettings{Baud: b.Baud, DataBits: b.DataBits, Parity: drivers.Parity(b.Parity), StopBits: b.StopBits})
}

// redactedURLs returns the broker URLs, quoted and redacted, for messages.
func (m MQTT) redactedURLs() string {
	urls := m.URLs()
	q := make([]string, len(urls))
	for i, u := range urls {
		q[i] = strconv.Quote(redactURL(u))
	}
	return strings.Join(q, ", ")
}

// redactURL returns a URL with any password in it replaced, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}

func (h HTTP) validate(bad func(key, format string, args ...any)) {
	if h.Listen == "" {
		if h.CertFile != "" || h.KeyFile != "" || h.TokenFile != "" {
			bad("http.listen", "required with http.cert_file, http.key_file or http.token_file (for example 127.0.0.1:8080)")
		}
		return
	}
	_, port, err := net.SplitHostPort(h.Listen)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		bad("http.listen", "%q: use host:port, for example 127.0.0.1:8080 or :8080", h.Listen)
	}
	if (h.CertFile == "") != (h.KeyFile == "") {
		bad("http.cert_file", "http.cert_file and http.key_file go together: set both for HTTPS, or neither")
	} else if _, err := h.TLSConfig(); err != nil {
		bad("http.cert_file", "%v", err)
	}
}
