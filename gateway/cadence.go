package gateway

import (
	"bytes"
	"slices"
	"strconv"
	"time"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/record"
)

// cadence decides which of one bed's readings are charted, that is
// forwarded to the EPR, when the ward charts a continuous monitor at a
// cadence (forward_every) rather than every reading.
//
// Time is cut into intervals of the cadence, aligned to whole multiples of
// it in UTC on the reading's device time (its receive time when the device
// sends none): with a one-minute cadence, 10:00:00 to 10:00:59.999, then
// 10:01:00, and so on. The charted reading of an interval is its first
// complete one: no value flagged. That is the value
// the monitor showed at the charting time, the latest complete reading
// there is when the interval begins. It is a real reading, forwarded with
// the device's own time, values and identifiers, so the EPR files what the
// device measured; a median of the interval would be a number no device
// gave, at a time of nobody's choosing, with the flags of its inputs lost.
// The latest reading *of* the interval would be known only when the
// interval ends: it would have to wait in memory meanwhile (not durable: a
// kill -9 would lose the charted value) and reach the EPR a whole interval
// late. Deciding each reading as it arrives keeps the outbox's guarantee:
// every reading is either stored durably or counted at once.
//
// Whatever the cadence, these are always charted:
//   - a measurement of its own, made once (the validator counts one sent
//     again as a repeat): a record the measurements split off a reading
//     (record.Record.Episodic: values the device stamped with their own
//     time, or the driver's Episodic codes), or a reading with an
//     episodic value (non-invasive blood pressure from any source);
//   - a reading with a flagged value (questionable, sensor off, invalid,
//     out of range, alarm, demo, calibrating, or flagged by validation)
//     or with values quarantined (a reading quarantined whole is not
//     charted, having nothing left to chart, but counts as flagged for
//     the recovery below: quarantinedAll);
//   - a reading whose device status word, or whose set of values sent
//     without a number (and without a flag: a monitor showing dashes for
//     a probe not connected), differs from the previous reading's;
//   - the first complete reading after a flagged one (the recovery).
//
// A reading not charted is not stored: it is not accepted for the EPR,
// which is all the outbox feeds, and storing it would spend the disk and
// the link the cadence is there to save. It is counted, per bed, as
// "not_charted" on the status topic, in /status.json and the metrics, and
// the status page still shows it as the bed's latest values.
//
// A cadence is one bed's: its calls must not overlap (bedPipeline).
type cadence struct {
	every    time.Duration
	episodic map[uint32]bool

	charted    bool   // an interval's reading has been charted
	slot       int64  // the interval of the last charted complete reading
	state      []byte // the previous reading's device status and unavailable codes
	seen       bool   // state holds the previous reading's
	wasFlagged bool   // the previous reading was charted for a flag
}

// alwaysEpisodic are the codes charted whatever the device: non-invasive
// blood pressure is measured on a cuff cycle or on demand, never
// continuously (a central station relays them without saying so).
var alwaysEpisodic = []uint32{mdc.NIBP, mdc.NIBPSys, mdc.NIBPDia, mdc.NIBPMean}

// newCadence returns the cadence of a bed charting every interval (0:
// every reading) whose device measures episodic codes episodically.
func newCadence(every time.Duration, episodic []uint32) *cadence {
	c := &cadence{every: every, episodic: map[uint32]bool{}}
	for _, code := range slices.Concat(episodic, alwaysEpisodic) {
		c.episodic[code] = true
	}
	return c
}

// Why a reading is charted; "" when it is not.
const (
	chartEvery     = "every"         // no cadence: every reading
	chartEpisodic  = "episodic"      // an episodic measurement
	chartFlagged   = "flagged"       // a flagged or quarantined value
	chartStatus    = "device-status" // the device status word changed
	chartRecovered = "recovered"     // first complete reading after a flagged one
	chartInterval  = "interval"      // the first complete reading of its interval
)

// chart decides whether rec, the accepted values of a reading, is
// forwarded; partial says values of the same reading were quarantined.
// It returns why, or "" for a reading not charted.
func (c *cadence) chart(rec record.Record, partial bool) string {
	if c.every <= 0 {
		return chartEvery
	}
	if c.isEpisodic(rec) {
		return chartEpisodic
	}
	// The reading's state: the device's status word and the codes it
	// sent no number for without a flag (a probe unplugged on a monitor
	// that shows dashes).
	state := append(make([]byte, 0, 64), rec.DeviceStatus...)
	flagged := partial
	for _, o := range rec.Observations {
		if o.Questionable || o.Status&^drivers.Unavailable != 0 {
			flagged = true
		}
		if o.Value == nil {
			state = strconv.AppendUint(append(state, ' '), uint64(o.MDC), 10)
		}
	}
	statusChanged := c.seen && !bytes.Equal(state, c.state)
	c.state, c.seen = state, true
	wasFlagged := c.wasFlagged
	c.wasFlagged = flagged
	switch {
	case flagged:
		return chartFlagged
	case statusChanged:
		c.take(rec)
		return chartStatus
	case wasFlagged:
		c.take(rec)
		return chartRecovered
	}
	if slot := c.slotOf(rec); !c.charted || slot != c.slot {
		// Any other interval, later or (a device clock set back) earlier:
		// never hold back a reading for an interval already charted by a
		// clock that has since moved.
		c.take(rec)
		return chartInterval
	}
	return ""
}

// isEpisodic reports whether rec is a measurement of its own rather than
// a continuous monitor's reading.
func (c *cadence) isEpisodic(rec record.Record) bool {
	if rec.Episodic {
		return true
	}
	for _, o := range rec.Observations {
		if c.episodic[o.MDC] {
			return true
		}
	}
	return false
}

// quarantinedAll notes that none of rec's values was accepted: the next
// complete reading is charted as the recovery, as after a flagged one
// (a reading with some values quarantined is charted, and flagged, by
// chart itself).
func (c *cadence) quarantinedAll(rec record.Record) {
	if c.every > 0 && !c.isEpisodic(rec) {
		c.wasFlagged = true
	}
}

// take records a complete reading as its interval's charted one.
func (c *cadence) take(rec record.Record) {
	c.charted, c.slot = true, c.slotOf(rec)
}

// slotOf is the interval of rec's time.
func (c *cadence) slotOf(rec record.Record) int64 {
	t := rec.DeviceTime
	if t.IsZero() {
		t = rec.ReceivedAt
	}
	n := t.UnixNano()
	slot := n / int64(c.every)
	if n < 0 && n%int64(c.every) != 0 {
		slot-- // floor, for times before 1970
	}
	return slot
}
