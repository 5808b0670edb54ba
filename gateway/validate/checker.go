package validate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bedgate/bedgate/drivers/mdc"
	"github.com/bedgate/bedgate/gateway/record"
)

// Reason is the code of a rejection or of a questionable flag, as counted
// by [Counts] and carried by a [Rejection].
type Reason string

// Reasons a value is rejected.
const (
	// ReasonImplausibleLow: the value is below its vital's hard minimum.
	ReasonImplausibleLow Reason = "implausible-low"
	// ReasonImplausibleHigh: the value is above its vital's hard maximum.
	ReasonImplausibleHigh Reason = "implausible-high"
	// ReasonNotFinite: a vital's value is NaN or infinite.
	ReasonNotFinite Reason = "not-finite"
	// ReasonUnit: the value's unit does not convert to its vital's unit.
	ReasonUnit Reason = "unit"
	// ReasonStale: the reading's device time is not newer than the last
	// accepted reading's, and its values differ (an old value re-sent).
	ReasonStale Reason = "stale"
	// ReasonDuplicate: the reading repeats the last accepted reading: the
	// same device time and the same values.
	ReasonDuplicate Reason = "duplicate"
	// ReasonInconsistent: the parts of one blood pressure contradict each
	// other (systolic not above diastolic, or a mean outside them), or an
	// episodic measurement is stamped after the reading that reports it.
	ReasonInconsistent Reason = "inconsistent"
)

// ReasonRepeat counts an episodic measurement seen again (the same
// measurement time and values as the last time its codes were seen): it
// is not forwarded again and not quarantined, only counted
// ([Counts.Repeats]). A monitor reports its last blood pressure in every
// poll until the next cuff measurement.
const ReasonRepeat Reason = "repeat"

// Reasons a value is forwarded flagged questionable.
const (
	// ReasonQuestionableLow: below its vital's soft minimum.
	ReasonQuestionableLow Reason = "questionable-low"
	// ReasonQuestionableHigh: above its vital's soft maximum.
	ReasonQuestionableHigh Reason = "questionable-high"
	// ReasonClockOffset: the device clock differs from the gateway's by
	// more than Options.MaxClockOffset.
	ReasonClockOffset Reason = "clock-offset"
	// ReasonClockJump: the device clock went backwards.
	ReasonClockJump Reason = "clock-jump"
)

// Rejection is one value that must not be published as an observation; the
// gateway sends it to the bed's quarantine topic.
type Rejection struct {
	// Observation is the value as it was given to Check, before any unit
	// conversion.
	Observation record.Observation
	// Reason is the code of why it was rejected.
	Reason Reason
	// Text says why in words, for example
	// "spo2 45 % below the plausible minimum 50 %".
	Text string
}

// Defaults of [Options].
const (
	DefaultCycle          = time.Second
	DefaultMaxClockOffset = 5 * time.Minute
	// DefaultMaxMeasurementAge is the oldest an episodic measurement may
	// be when first seen and still be forwarded (at its own time): one
	// hour. It covers an hourly automatic blood pressure cycle, the
	// tightest a ward sets (RCP NEWS2 chart 4: at least hourly at a score
	// of 5 or more, or a 3 in one parameter), so a gateway restarted
	// between two cuff measurements forwards the last one again, under the
	// same identifier, and the EPR files it once; anything older the
	// monitor still shows (a measurement of a previous stay, a monitor
	// left on) is quarantined as stale, never sent as new.
	DefaultMaxMeasurementAge = time.Hour
)

// Options configure a [Checker]. The zero value gives the defaults.
type Options struct {
	// Rules are the plausibility rules. The default (nil) is DefaultRules().
	Rules *Rules
	// Cycle is the device's reading period: a reading whose device time is
	// at least one cycle older than the last accepted reading's is stale.
	// Set it from the driver's poll period. The default is 1 s.
	Cycle time.Duration
	// Episodic lists the MDC codes the device measures episodically, each
	// measurement at its own time (NIBP; drivers.Driver.Episodic). A record
	// of only such codes is a measurement of its own: its time is judged
	// against the previous measurement of the same codes, not against the
	// periodic readings, which are often newer. The default is none.
	Episodic []uint32
	// MaxClockOffset is the largest device clock offset (device time minus
	// receive time, either sign) that is not flagged. The default is 5 min.
	MaxClockOffset time.Duration
	// MaxMeasurementAge is the oldest an episodic measurement
	// (record.Record.Episodic) may be, measured on the device's clock from
	// its time to the reading that reports it, and not be stale. The
	// default is DefaultMaxMeasurementAge (1 h).
	MaxMeasurementAge time.Duration
	// Counts receives the rejections and flags, so several checkers can
	// report into one. The default (nil) is a Counts of the checker's own.
	Counts *Counts
}

// Checker validates the records of one device. It remembers the last
// accepted reading to spot stale and duplicate readings and clock jumps.
//
// Time checks apply only to records with a device time (Record.DeviceTime
// not zero); a device that sends no time is checked for plausibility and
// units only. With T the device time of the last accepted reading and C
// the cycle, a record with device time t is:
//
//   - t > T: new; accepted.
//   - t = T: not new. Every value is rejected, as "duplicate" when the
//     values (code, label, value, unit, status) equal those of the last
//     accepted reading, else as "stale".
//   - T−C < t < T: the device clock stepped back by less than a cycle, so
//     t cannot be an earlier reading re-sent; accepted, every value
//     flagged "clock-jump".
//   - t <= T−C: an old reading re-sent, or the device clock set back;
//     from one reading the two look alike. Every value is rejected as
//     "stale" and the reading kept as a candidate. When the very next
//     reading is also older than T but advances from the candidate by
//     about as much as the gateway clock did (the two steps differ by at
//     most half the device step), the device clock was set back and runs
//     on: that reading is accepted with every value flagged "clock-jump"
//     and becomes the new T. So a clock set back costs one reading, sent
//     to quarantine, never silently; a burst of old readings re-sent
//     faster than real time stays stale.
//
// A record of only episodic codes (Options.Episodic), or one marked
// record.Record.Episodic (one measurement, at the time the device took it),
// keeps a time state of its own per set of codes, under the same rules: a
// new measurement is accepted though a periodic reading is newer, and a
// measurement sent again is a duplicate. For a record marked Episodic,
// first:
//
//   - the same time and values as the last record of its codes (accepted
//     or not) is a repeat: neither accepted nor rejected, counted as
//     ReasonRepeat; the monitor reports a measurement until the next;
//   - a time more than MaxMeasurementAge before the reading's time
//     (DeviceTime older than ReceivedAt+ClockOffset by more) is stale;
//   - a time more than a cycle after the reading's is inconsistent.
//
// Independently, when |Record.ClockOffset| > MaxClockOffset every value
// is flagged "clock-offset" ("device clock offset -420s"); such values are
// not rejected. Clock flags apply to every value that has a number, also
// those whose MDC code has no rule. When Record.DeviceKey changes the time
// state starts afresh (a different device at the bed).
//
// A Checker is not safe for concurrent use: call Check from one goroutine
// (the device's). Its Counts may be read concurrently with Check.
type Checker struct {
	rules     Rules
	cycle     time.Duration
	maxOffset time.Duration
	maxAge    time.Duration
	counts    *Counts

	periodic timeline             // records of periodic readings
	episodic map[uint32]bool      // Options.Episodic
	episodes map[string]*timeline // records of only episodic codes, by their code set
}

// maxEpisodes bounds the code sets with a time state of their own.
const maxEpisodes = 64

// timeline is the time state of one stream of records.
type timeline struct {
	last      *reading // last accepted reading with a device time
	candidate *reading // the previous record, when rejected as stale by t <= T-C
	seen      *reading // the last Episodic record, accepted or not
}

// reading is what a Checker remembers of a record.
type reading struct {
	key              string
	device, received time.Time
	values           []record.Observation
}

// NewChecker returns a Checker with the given options.
func NewChecker(opts Options) (*Checker, error) {
	if opts.Cycle < 0 {
		return nil, fmt.Errorf("validate: cycle %v is negative", opts.Cycle)
	}
	if opts.MaxClockOffset < 0 {
		return nil, fmt.Errorf("validate: max clock offset %v is negative", opts.MaxClockOffset)
	}
	if opts.MaxMeasurementAge < 0 {
		return nil, fmt.Errorf("validate: max measurement age %v is negative", opts.MaxMeasurementAge)
	}
	c := &Checker{cycle: opts.Cycle, maxOffset: opts.MaxClockOffset, maxAge: opts.MaxMeasurementAge, counts: opts.Counts, episodes: map[string]*timeline{}}
	if len(opts.Episodic) > 0 {
		c.episodic = map[uint32]bool{}
		for _, code := range opts.Episodic {
			c.episodic[code] = true
		}
	}
	if opts.Rules != nil {
		c.rules = *opts.Rules
	} else {
		c.rules = DefaultRules()
	}
	if c.cycle == 0 {
		c.cycle = DefaultCycle
	}
	if c.maxOffset == 0 {
		c.maxOffset = DefaultMaxClockOffset
	}
	if c.maxAge == 0 {
		c.maxAge = DefaultMaxMeasurementAge
	}
	if c.counts == nil {
		c.counts = new(Counts)
	}
	return c, nil
}

// Counts returns the counts the checker adds to.
func (c *Checker) Counts() *Counts { return c.counts }

// flag is a questionable flag to put on a value.
type flag struct {
	reason Reason
	text   string
}

// Check validates one record. accepted is rec with the observations that
// may be published, in their original order, converted to their canonical
// units and flagged where questionable; rejected holds every other
// observation of rec. Each observation of rec is in exactly one of the
// two, except that a repeat of an episodic measurement (see [Checker]) is
// in neither: it is counted, and accepted.Observations and rejected are
// both empty. rec itself is not modified. accepted.Observations is empty
// (not nil) when everything was rejected.
func (c *Checker) Check(rec record.Record) (accepted record.Record, rejected []Rejection) {
	accepted = rec
	accepted.Observations = make([]record.Observation, 0, len(rec.Observations))
	nRejected := map[Reason]uint64{}
	nFlagged := map[Reason]uint64{}
	defer func() { c.counts.add(nRejected, nFlagged) }()

	reject := func(o record.Observation, r Reason, text string) {
		rejected = append(rejected, Rejection{Observation: o, Reason: r, Text: text})
		nRejected[r]++
	}

	clockFlags, timeReason, timeText := c.checkTime(rec)
	if timeReason == ReasonRepeat {
		c.counts.addRepeats(len(rec.Observations))
		return accepted, nil
	}
	if timeReason != "" {
		for _, o := range rec.Observations {
			reject(o, timeReason, timeText)
		}
		return accepted, rejected
	}

	for _, o := range rec.Observations {
		if o.Value == nil {
			accepted.Observations = append(accepted.Observations, o)
			continue
		}
		out, flags, r, text := c.checkValue(o)
		if r != "" {
			reject(o, r, text)
			continue
		}
		for _, f := range append(flags, clockFlags...) {
			out.Questionable = true
			out.Reason = appendReason(out.Reason, f.text)
			nFlagged[f.reason]++
		}
		accepted.Observations = append(accepted.Observations, out)
	}
	inconsistent, rejectText := pressureOrder(accepted.Observations)
	if len(inconsistent) > 0 {
		kept := accepted.Observations[:0:0]
		for i, o := range accepted.Observations {
			if slices.Contains(inconsistent, i) {
				reject(o, ReasonInconsistent, rejectText[i])
				continue
			}
			kept = append(kept, o)
		}
		accepted.Observations = kept
	}
	return accepted, rejected
}

// pressureSources are the systolic, diastolic and mean codes of each blood
// pressure a device may report in one reading (the mdc table's panels).
var pressureSources = func() (out [][3]uint32) {
	for _, p := range mdc.Panels() {
		out = append(out, [3]uint32{p.Systolic, p.Diastolic, p.Mean})
	}
	return out
}()

// pressureOrder finds the parts of a blood pressure that contradict each
// other (diastolic < mean < systolic must hold): when systolic is not above
// diastolic all parts are rejected; a mean outside them alone. It returns
// the positions of the parts to reject and the text for each.
func pressureOrder(obs []record.Observation) ([]int, map[int]string) {
	var bad []int
	texts := map[int]string{}
	for _, src := range pressureSources {
		pos := [3]int{-1, -1, -1}
		for i, o := range obs {
			if o.Value == nil {
				continue
			}
			for part, code := range src {
				if o.MDC == code && pos[part] < 0 {
					pos[part] = i
				}
			}
		}
		sys, dia, mean := pos[0], pos[1], pos[2]
		if sys < 0 || dia < 0 {
			continue
		}
		s, d := *obs[sys].Value, *obs[dia].Value
		if s <= d {
			text := fmt.Sprintf("systolic %s not above diastolic %s", num(s), num(d))
			for _, i := range pos {
				if i >= 0 {
					bad = append(bad, i)
					texts[i] = text
				}
			}
			continue
		}
		if mean >= 0 {
			if m := *obs[mean].Value; m <= d || m >= s {
				bad = append(bad, mean)
				texts[mean] = fmt.Sprintf("mean %s not between diastolic %s and systolic %s", num(m), num(d), num(s))
			}
		}
	}
	return bad, texts
}

// checkTime applies the time rules (see [Checker]) and updates the state.
// It returns the flags for every value, or the reason and text to reject
// every value with.
func (c *Checker) checkTime(rec record.Record) (flags []flag, reject Reason, text string) {
	if rec.DeviceTime.IsZero() {
		return nil, "", ""
	}
	tl := c.timelineOf(rec)
	if rec.Episodic {
		if r, text := c.checkMeasurement(tl, rec); r != "" {
			return nil, r, text
		}
	}
	candidate := tl.candidate
	tl.candidate = nil
	if tl.last != nil && tl.last.key != rec.DeviceKey {
		tl.last, candidate = nil, nil
	}
	cur := &reading{key: rec.DeviceKey, device: rec.DeviceTime, received: rec.ReceivedAt, values: rec.Observations}
	if tl.last != nil {
		back := tl.last.device.Sub(rec.DeviceTime)
		switch {
		case back < 0:
		case back == 0:
			if sameValues(rec.Observations, tl.last.values) {
				return nil, ReasonDuplicate, "duplicate: same device time and values as the previous reading"
			}
			return nil, ReasonStale, "stale: device time did not advance from the previous reading"
		case back < c.cycle:
			flags = append(flags, flag{ReasonClockJump, "device clock stepped back " + seconds(back)})
		case confirmsJump(candidate, rec):
			flags = append(flags, flag{ReasonClockJump, "device clock jumped back " + seconds(back)})
		default:
			tl.candidate = cur
			return nil, ReasonStale, "stale: device time " + seconds(back) + " older than the previous reading"
		}
	}
	tl.last = cur
	tl.last.values = append([]record.Observation(nil), rec.Observations...)
	if off := rec.ClockOffset; off > c.maxOffset || off < -c.maxOffset {
		flags = append(flags, flag{ReasonClockOffset, "device clock offset " + seconds(off)})
	}
	return flags, "", ""
}

// checkMeasurement applies the rules of an Episodic record that come
// before the others (see [Checker]): repeat, too old, after the reading.
// It remembers rec as the last seen of its codes.
func (c *Checker) checkMeasurement(tl *timeline, rec record.Record) (Reason, string) {
	seen := tl.seen
	tl.seen = &reading{key: rec.DeviceKey, device: rec.DeviceTime, values: append([]record.Observation(nil), rec.Observations...)}
	if seen != nil && seen.key == rec.DeviceKey && seen.device.Equal(rec.DeviceTime) && sameValues(seen.values, rec.Observations) {
		return ReasonRepeat, ""
	}
	reported := rec.ReceivedAt.Add(rec.ClockOffset) // the reading's time on the device clock
	if rec.ReceivedAt.IsZero() {
		return "", ""
	}
	switch age := reported.Sub(rec.DeviceTime); {
	case age > c.maxAge:
		return ReasonStale, "stale: measured " + seconds(age) + " before the reading that reports it, more than " + seconds(c.maxAge)
	case age < -c.cycle:
		return ReasonInconsistent, "measured " + seconds(-age) + " after the reading that reports it"
	}
	return "", ""
}

// timelineOf returns the time state rec is judged on: that of its code set
// when it is Episodic or every value's code is episodic, else the periodic
// readings'.
func (c *Checker) timelineOf(rec record.Record) *timeline {
	if len(rec.Observations) == 0 || len(c.episodic) == 0 && !rec.Episodic {
		return &c.periodic
	}
	codes := make([]uint32, 0, len(rec.Observations))
	for _, o := range rec.Observations {
		if !c.episodic[o.MDC] && !rec.Episodic {
			return &c.periodic
		}
		codes = append(codes, o.MDC)
	}
	slices.Sort(codes)
	key := fmt.Sprint(slices.Compact(codes))
	tl, ok := c.episodes[key]
	if !ok {
		if len(c.episodes) >= maxEpisodes {
			clear(c.episodes)
		}
		tl = &timeline{}
		c.episodes[key] = tl
	}
	return tl
}

// confirmsJump reports whether rec advances from the stale candidate by
// about as much as the gateway clock did: the device clock was set back
// and runs on.
func confirmsJump(candidate *reading, rec record.Record) bool {
	if candidate == nil || candidate.key != rec.DeviceKey {
		return false
	}
	dDev := rec.DeviceTime.Sub(candidate.device)
	dRecv := rec.ReceivedAt.Sub(candidate.received)
	diff := dDev - dRecv
	return dDev > 0 && diff <= dDev/2 && diff >= -dDev/2
}

// checkValue applies the rule of o's code to o, which has a value. It
// returns the observation to forward and its flags, or a reason to reject.
func (c *Checker) checkValue(o record.Observation) (out record.Observation, flags []flag, reject Reason, text string) {
	rule, ok := c.rules.Lookup(o.MDC)
	if !ok {
		return o, nil, "", "" // no rule: passed through unchanged
	}
	v := *o.Value
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return o, nil, ReasonNotFinite, fmt.Sprintf("%s value %v is not a finite number", rule.Name, v)
	}
	from := o.Unit
	if slices.Contains(rule.Same, from) {
		from = rule.Unit
	}
	x, statement, err := Convert(v, from, rule.Unit)
	if ue := (*UnitError)(nil); errors.As(err, &ue) {
		return o, nil, ReasonUnit, ue.text()
	}
	out = o
	from = ""
	if o.Unit != rule.Unit {
		// Keep what the device sent beside the normalised value.
		out.Unit, out.OriginalValue, out.OriginalUnit = rule.Unit, o.Value, o.Unit
	}
	if statement != "" {
		out.Value = &x
		out.Reason = appendReason(out.Reason,
			fmt.Sprintf("unit converted: %s %s = %s %s (%s)", num(v), o.Unit, num(x), rule.Unit, statement))
		from = fmt.Sprintf(" (converted from %s %s)", num(v), o.Unit)
	}
	r := rule.Range
	u := rule.Unit
	switch {
	case x < r.Min:
		return o, nil, ReasonImplausibleLow, fmt.Sprintf("%s %s %s%s below the plausible minimum %s %s", rule.Name, num(x), u, from, num(r.Min), u)
	case x > r.Max:
		return o, nil, ReasonImplausibleHigh, fmt.Sprintf("%s %s %s%s above the plausible maximum %s %s", rule.Name, num(x), u, from, num(r.Max), u)
	case x < r.SoftMin:
		flags = append(flags, flag{ReasonQuestionableLow, fmt.Sprintf("%s %s %s below %s %s", rule.Name, num(x), u, num(r.SoftMin), u)})
	case x > r.SoftMax:
		flags = append(flags, flag{ReasonQuestionableHigh, fmt.Sprintf("%s %s %s above %s %s", rule.Name, num(x), u, num(r.SoftMax), u)})
	}
	return out, flags, "", ""
}

// sameValues reports whether two readings carry the same values.
func sameValues(a, b []record.Observation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.MDC != y.MDC || x.Label != y.Label || x.Unit != y.Unit || x.Status != y.Status || x.Absent != y.Absent {
			return false
		}
		if (x.Value == nil) != (y.Value == nil) || (x.Value != nil && *x.Value != *y.Value) {
			return false
		}
	}
	return true
}

// appendReason appends text to an observation's reason, "; "-separated.
func appendReason(reason, text string) string {
	if reason == "" {
		return text
	}
	return reason + "; " + text
}

// seconds formats a duration in seconds, to the millisecond: "-420s",
// "0.25s".
func seconds(d time.Duration) string {
	return num(d.Round(time.Millisecond).Seconds()) + "s"
}
