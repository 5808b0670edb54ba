package demo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bedgate/bedgate/gateway/epr"
	"github.com/bedgate/bedgate/gateway/stats"
)

// legend explains the reading lines, printed once at the start.
const legend = "one line per reading (a repeat within the same second is not shown): bed, device time,\n" +
	"         key vitals, outbox sequence number;\n" +
	"         ? marks a value flagged questionable, — a value the device did not send (with why);\n" +
	"         NEWS2 lines are the gateway's advisory score, not a clinical assessment (--all: every observation)"

// contextLine formats a bed's context Bundle: the device and how many
// metrics it describes, which the readings that follow refer to.
func contextLine(bed string, m epr.Message) string {
	device, metrics := "", 0
	for _, c := range m.Creates {
		switch {
		case strings.HasPrefix(c, "Device?"):
			_, device, _ = strings.Cut(c, "|")
		case strings.HasPrefix(c, "DeviceMetric?"):
			metrics++
		}
	}
	return fmt.Sprintf("context  %-6s device %s, %d metrics: the bed's Location, Device and DeviceMetrics, which its readings refer to  seq=%d",
		bed, device, metrics, m.Seq)
}

// readingOrder is the order of the vitals on a reading line.
var readingOrder = []string{
	stats.KeySpO2, stats.KeyPulse, stats.KeyHeartRate, stats.KeyRespImpeda, stats.KeyRespAirway,
	stats.KeySystolic, stats.KeyTemperature,
}

// readingLine formats the observations of one published reading as one
// line: the bed, the time, its key vitals and its sequence number. A NEWS2
// score has a line of its own, labelled advisory.
func readingLine(bed string, obs []epr.Observation) string {
	if len(obs) == 0 {
		return fmt.Sprintf("EPR      %-6s (a reading without observations)", bed)
	}
	if len(obs) == 1 && obs[0].IsNEWS2() {
		o := obs[0]
		band := ""
		if len(o.Interpretation) > 0 {
			band = ", " + o.Interpretation[0] + " risk"
		}
		return fmt.Sprintf("NEWS2    %-6s %s  score %s%s (advisory: the gateway's calculation for clinical review)  seq=%d",
			bed, o.Time.Format("15:04:05"), number(o), band, o.Seq)
	}
	byKey := map[string]epr.Observation{}
	for _, o := range obs {
		if key, _, _, ok := stats.KeyVital(o.MDC); ok {
			if _, seen := byKey[key]; !seen {
				byKey[key] = o
			}
		}
	}
	var parts []string
	for _, key := range readingOrder {
		o, ok := byKey[key]
		if !ok {
			continue
		}
		if key == stats.KeySystolic {
			parts = append(parts, "BP "+pressure(o, byKey[stats.KeyDiastolic]))
			continue
		}
		_, label, _, _ := stats.KeyVital(o.MDC)
		parts = append(parts, label+" "+shown(o))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d other values", len(obs)))
	}
	return fmt.Sprintf("EPR      %-6s %s  %s  seq=%d", bed, obs[0].Time.Format("15:04:05"), strings.Join(parts, "  "), obs[0].Seq)
}

// pressure shows systolic and diastolic as one value, "120/80 mmHg".
func pressure(sys, dia epr.Observation) string {
	if sys.Value == nil || dia.Value == nil {
		return shown(sys)
	}
	text := number(sys) + "/" + number(dia) + " mmHg"
	if sys.Flagged || dia.Flagged {
		text += "?"
	}
	return text
}

// absentReasons say why a value is absent (FHIR dataAbsentReason) in the
// device's terms.
var absentReasons = map[string]string{
	"":              "no value",
	"not-performed": "not measured: sensor off or searching",
	"error":         "device says invalid",
	"unknown":       "unknown",
	"not-a-number":  "not a number",
}

// shown is a value with its unit and marks: "97%", "88%?", "— (not-performed)".
func shown(o epr.Observation) string {
	if o.Value == nil {
		return "— (" + absentReasons[o.Absent] + ")"
	}
	text := number(o)
	unit := map[string]string{"%": "%", "/min": "/min", "mm[Hg]": " mmHg", "Cel": " °C"}[o.Unit]
	if unit == "" && o.Unit != "" {
		unit = " " + o.Unit
	}
	if o.Flagged {
		return text + unit + "?"
	}
	return text + unit
}

func number(o epr.Observation) string {
	if o.Value == nil {
		return "—"
	}
	return strconv.FormatFloat(*o.Value, 'f', -1, 64)
}

// lineFilter leaves out a reading line that repeats the bed's previous one
// (same second, same values): some oximeters send several a second.
type lineFilter map[string]string

// novel reports whether line differs from the bed's previous line, its
// sequence number aside, and remembers it.
func (f lineFilter) novel(bed, line string) bool {
	key := line
	if i := strings.LastIndex(line, "  seq="); i >= 0 {
		key = line[:i]
	}
	if f[bed] == key {
		return false
	}
	f[bed] = key
	return true
}
