package web

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bedgate/bedgate/gateway/stats"
)

// Metrics are the gateway's Prometheus metrics: every family but the
// publish latency histogram is read from a snapshot at each scrape, so
// that the metrics, the status page and the status topics agree.
type Metrics struct {
	snapshot func() stats.Snapshot
	latency  prometheus.Histogram
	registry *prometheus.Registry
}

// NewMetrics returns the metrics of the gateway whose snapshot is given,
// registered with the Go runtime and process collectors.
func NewMetrics(snapshot func() stats.Snapshot) *Metrics {
	m := &Metrics{
		snapshot: snapshot,
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bedgate_publish_latency_seconds",
			Help: "Time from publishing an outbox entry to the broker's PUBACK.",
			// 1 ms to about 33 s: a loopback broker acknowledges in about
			// a millisecond, a failover takes seconds.
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		registry: prometheus.NewRegistry(),
	}
	m.registry.MustRegister(m, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObservePublishLatency records one publish's time to its PUBACK (for
// publish.Options.OnAck).
func (m *Metrics) ObservePublishLatency(d time.Duration) { m.latency.Observe(d.Seconds()) }

var (
	descBuild        = desc("bedgate_build_info", "The gateway's version (value 1).", "version", "gateway")
	descRead         = desc("bedgate_readings_read_total", "Readings the drivers delivered.", "bed")
	descStored       = desc("bedgate_records_stored_total", "Records appended to the outbox: obs (observations), news2 (scores), rejected (quarantines).", "kind")
	descPublished    = desc("bedgate_messages_published_total", "Outbox entries published to the broker (resends included).")
	descAcked        = desc("bedgate_messages_acknowledged_total", "Outbox entries the broker acknowledged (PUBACK) and the outbox removed.")
	descNotCharted   = desc("bedgate_readings_not_charted_total", "Readings not forwarded because of the bed's charting cadence (forward_every).", "bed")
	descQuarantined  = desc("bedgate_values_quarantined_total", "Values not forwarded, by bed and reason.", "bed", "reason")
	descFlagged      = desc("bedgate_values_flagged_total", "Values forwarded flagged questionable, by reason.", "reason")
	descRepeats      = desc("bedgate_values_repeated_total", "Values of episodic measurements (a blood pressure) reported again and not forwarded again.")
	descHeld         = desc("bedgate_readings_held", "Readings waiting for a patient association.")
	descLost         = desc("bedgate_records_lost_total", "Held readings and NEWS2 scores that could not be stored.")
	descCorrections  = desc("bedgate_readings_corrected_total", "Filed readings corrected after a late admission event.")
	descEntries      = desc("bedgate_outbox_entries", "Entries in the outbox, in flight included.")
	descBytes        = desc("bedgate_outbox_bytes", "Payload bytes in the outbox.")
	descMaxBytes     = desc("bedgate_outbox_max_bytes", "The outbox's size bound (buffer.max_bytes).")
	descOldest       = desc("bedgate_outbox_oldest_age_seconds", "Age of the oldest entry in the outbox (0 when empty).")
	descInFlight     = desc("bedgate_outbox_in_flight", "Entries published and awaiting PUBACK.")
	descDropped      = desc("bedgate_outbox_dropped_total", "Entries the outbox dropped, by reason (full, age).", "reason")
	descConnected    = desc("bedgate_broker_connected", "1 while connected to the broker.")
	descReconnects   = desc("bedgate_broker_reconnects_total", "Connections to the broker after the first.")
	descConnFailures = desc("bedgate_broker_connect_failures_total", "Failed connection attempts.")
	descLastAck      = desc("bedgate_broker_last_ack_timestamp_seconds", "Unix time of the latest PUBACK (0 before the first).")
	descState        = desc("bedgate_device_state", "1 for the bed's current device state, 0 for the others.", "bed", "state")
	descLastReading  = desc("bedgate_device_last_reading_timestamp_seconds", "Unix time of the bed's latest reading (0 before the first).", "bed")
	descAdmitted     = desc("bedgate_bed_patient_admitted", "1 while a patient is associated with the bed.", "bed")
	descMLLPConns    = desc("bedgate_mllp_connections_total", "Connections the MLLP listener served.")
	descMLLPRefused  = desc("bedgate_mllp_connections_refused_total", "Connections the MLLP listener refused (source, certificate, too many).")
	descMLLPAcks     = desc("bedgate_mllp_acks_total", "HL7 acknowledgements sent, by code: AA accepted, AE not accepted (sent again by the sender), AR rejected.", "code")
	descMLLPDups     = desc("bedgate_mllp_duplicates_total", "Resent HL7 messages answered AA without storing them again.")
	descClockSync    = desc("bedgate_clock_synchronised", "1 while the kernel reports the clock synchronised (NTP).")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Describe sends the descriptors of the snapshot's families.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBuild, descRead, descNotCharted, descStored, descPublished, descAcked, descQuarantined,
		descFlagged, descRepeats, descHeld, descLost, descCorrections, descEntries, descBytes, descMaxBytes, descOldest, descInFlight, descDropped,
		descConnected, descReconnects, descConnFailures, descLastAck, descState, descLastReading, descAdmitted, descClockSync,
		descMLLPConns, descMLLPRefused, descMLLPAcks, descMLLPDups} {
		ch <- d
	}
}

// Collect reads one snapshot and sends its metrics.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	s := m.snapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descBuild, 1, s.Version, s.Gateway)
	for kind, n := range s.Readings.Stored {
		counter(descStored, float64(n), kind)
	}
	counter(descPublished, float64(s.Link.Published))
	counter(descAcked, float64(s.Link.Acked))
	for reason, n := range s.Readings.Flagged {
		counter(descFlagged, float64(n), reason)
	}
	counter(descRepeats, float64(s.Readings.Repeats))
	gauge(descHeld, float64(s.Readings.Held))
	counter(descLost, float64(s.Readings.Lost))
	counter(descCorrections, float64(s.Readings.Corrections))

	o := s.Outbox
	gauge(descEntries, float64(o.Entries))
	gauge(descBytes, float64(o.Bytes))
	gauge(descMaxBytes, float64(o.MaxBytes))
	gauge(descOldest, o.OldestAge.Std().Seconds())
	gauge(descInFlight, float64(o.InFlight))
	for reason, n := range o.Dropped {
		counter(descDropped, float64(n), reason)
	}

	gauge(descConnected, boolValue(s.Link.Connected))
	counter(descReconnects, float64(s.Link.Reconnects))
	counter(descConnFailures, float64(s.Link.ConnectFailures))
	gauge(descLastAck, unixSeconds(s.Link.LastAck))
	gauge(descClockSync, boolValue(s.Clock.Synchronised))
	if l := s.MLLP; l != nil {
		counter(descMLLPConns, float64(l.Connections))
		counter(descMLLPRefused, float64(l.Refused))
		counter(descMLLPAcks, float64(l.AA), "AA")
		counter(descMLLPAcks, float64(l.AE), "AE")
		counter(descMLLPAcks, float64(l.AR), "AR")
		counter(descMLLPDups, float64(l.Duplicates))
	}

	for _, b := range s.Beds {
		counter(descRead, float64(b.Readings), b.Name)
		counter(descNotCharted, float64(b.NotCharted), b.Name)
		for reason, n := range b.Quarantined {
			counter(descQuarantined, float64(n), b.Name, reason)
		}
		for _, st := range stats.States() {
			gauge(descState, boolValue(b.State == st), b.Name, string(st))
		}
		gauge(descLastReading, unixSeconds(b.LastReading), b.Name)
		gauge(descAdmitted, boolValue(b.Admitted), b.Name)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
