package epr

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bedgate/bedgate/gateway/terminology"
	"github.com/bedgate/bedgate/gateway/topic"
)

// MDCSystem is the FHIR code system of IEEE 11073-10101 codes.
const MDCSystem = "urn:iso:std:iso:11073:10101"

// ComponentIDExtension is the extension on a panel component that holds the
// gateway observation identifier of the component's value.
const ComponentIDExtension = "urn:bedgate:fhir:extension:component-observation-id"

// Observation is one observation as the EPR receives it.
type Observation struct {
	// Seq is the gateway sequence number of the Bundle it came in.
	Seq uint64
	// ID is the observation's identifier value.
	ID string
	// MDC and Ref are the MDC coding's code and display; without a
	// display (the gateway leaves it out for a code its terminology
	// table knows), Ref is that table's RefID of the code, as an EPR
	// that knows the MDC nomenclature would name it.
	MDC uint32
	Ref string
	// Display is the first coding's display, else the code's text, else
	// the first code, for people.
	Display string
	// Value is nil when the observation has a dataAbsentReason (Absent).
	Value  *float64
	Unit   string
	Absent string
	// Time is effectiveDateTime.
	Time time.Time
	// Subject and Device are the Observation's subject and device
	// references ("" for a logical reference, such as a patient's by
	// identifier); a component reports its panel's.
	Subject, Device string
	// Flagged is true when the observation carries an interpretation.
	Flagged bool
	// Interpretation lists the interpretations' codes: measurement
	// statuses ("questionable", "in-alarm", ...) or a NEWS2 risk band
	// ("low", "medium", ...).
	Interpretation []string
}

type bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Identifier   *struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
		Request  *struct {
			URL         string `json:"url"`
			IfNoneExist string `json:"ifNoneExist"`
		} `json:"request"`
	} `json:"entry"`
}

type reference struct {
	Reference string `json:"reference"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// valued is what an Observation and a component share.
type valued struct {
	Code struct {
		Coding []coding `json:"coding"`
		Text   string   `json:"text"`
	} `json:"code"`
	ValueQuantity *struct {
		Value *float64 `json:"value"`
		Unit  string   `json:"unit"`
		Code  string   `json:"code"`
	} `json:"valueQuantity"`
	DataAbsentReason *struct {
		Coding []coding `json:"coding"`
	} `json:"dataAbsentReason"`
	Interpretation []struct {
		Coding []coding `json:"coding"`
		Text   string   `json:"text"`
	} `json:"interpretation"`
}

type observation struct {
	valued
	ResourceType      string       `json:"resourceType"`
	Identifier        []identifier `json:"identifier"`
	EffectiveDateTime string       `json:"effectiveDateTime"`
	Subject           *reference   `json:"subject"`
	Device            *reference   `json:"device"`
	Component         []struct {
		valued
		Extension []struct {
			URL             string      `json:"url"`
			ValueIdentifier *identifier `json:"valueIdentifier"`
		} `json:"extension"`
	} `json:"component"`
}

// Parse reads one published message: a FHIR Bundle of Observations.
func Parse(payload []byte) ([]Observation, error) {
	m, err := ParseMessage(payload)
	return m.Observations, err
}

// Message is one published Bundle as the EPR reads it.
type Message struct {
	// Seq is the gateway sequence number of the Bundle.
	Seq uint64
	// Observations are its Observations (a panel's as its components).
	Observations []Observation
	// Creates are the conditional references that resolve to the
	// resources its conditional creates make ("<type>?<ifNoneExist>"): a
	// context Bundle's Location, Device and DeviceMetrics.
	Creates []string
}

// IsContext reports whether m creates resources other Bundles refer to
// and holds no Observation: a bed's context Bundle.
func (m Message) IsContext() bool { return len(m.Observations) == 0 && len(m.Creates) > 0 }

// References returns the conditional references of m's Observations
// (subjects and devices containing "?"), each once, in order.
func (m Message) References() []string {
	var out []string
	seen := map[string]bool{}
	for _, o := range m.Observations {
		for _, r := range []string{o.Subject, o.Device} {
			if strings.Contains(r, "?") && !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// ParseMessage reads one published message: a FHIR transaction Bundle.
func ParseMessage(payload []byte) (Message, error) {
	var msg Message
	var b bundle
	if err := json.Unmarshal(payload, &b); err != nil {
		return msg, fmt.Errorf("epr: not JSON: %w", err)
	}
	if b.ResourceType != "Bundle" {
		return msg, fmt.Errorf("epr: resourceType %q, want Bundle", b.ResourceType)
	}
	var seq uint64
	if b.Identifier != nil {
		s, err := strconv.ParseUint(b.Identifier.Value, 10, 64)
		if err != nil {
			return msg, fmt.Errorf("epr: bundle identifier %q is not a sequence number: %w", b.Identifier.Value, err)
		}
		seq = s
	}
	msg.Seq = seq
	var out []Observation
	for i, e := range b.Entry {
		var o observation
		if err := json.Unmarshal(e.Resource, &o); err != nil {
			return msg, fmt.Errorf("epr: entry %d: %w", i, err)
		}
		if o.ResourceType != "Observation" {
			if r := e.Request; r != nil && r.IfNoneExist != "" {
				msg.Creates = append(msg.Creates, r.URL+"?"+r.IfNoneExist)
			}
			continue
		}
		var at time.Time
		if o.EffectiveDateTime != "" {
			t, err := time.Parse(time.RFC3339Nano, o.EffectiveDateTime)
			if err != nil {
				return msg, fmt.Errorf("epr: entry %d: effectiveDateTime: %w", i, err)
			}
			at = t
		}
		// An Observation with a value of its own (a NEWS2 total, whose
		// components are its sub-scores) is reported as itself; a panel
		// without one (blood pressure) as its components.
		if len(o.Component) == 0 || o.ValueQuantity != nil {
			obs := Observation{Seq: seq, Time: at, Subject: o.Subject.ref(), Device: o.Device.ref()}
			if len(o.Identifier) > 0 {
				obs.ID = strings.TrimPrefix(o.Identifier[0].Value, "urn:uuid:")
			}
			if err := fill(&obs, o.valued); err != nil {
				return msg, fmt.Errorf("epr: entry %d: %w", i, err)
			}
			out = append(out, obs)
			continue
		}
		for j, c := range o.Component {
			obs := Observation{Seq: seq, Time: at, Subject: o.Subject.ref(), Device: o.Device.ref()}
			for _, x := range c.Extension {
				if x.URL == ComponentIDExtension && x.ValueIdentifier != nil {
					obs.ID = strings.TrimPrefix(x.ValueIdentifier.Value, "urn:uuid:")
				}
			}
			if err := fill(&obs, c.valued); err != nil {
				return msg, fmt.Errorf("epr: entry %d component %d: %w", i, j, err)
			}
			out = append(out, obs)
		}
	}
	msg.Observations = out
	return msg, nil
}

func (r *reference) ref() string {
	if r == nil {
		return ""
	}
	return r.Reference
}

// Contexts remembers, per topic, what the context Bundles published on it
// created, as an EPR that files them in order does.
type Contexts struct {
	known map[string]map[string]bool
}

// Add files m, received on topic, and returns the references of its
// Observations that no Bundle received earlier on the topic created.
func (c *Contexts) Add(topic string, m Message) (unresolved []string) {
	if c.known == nil {
		c.known = map[string]map[string]bool{}
	}
	known := c.known[topic]
	for _, r := range m.References() {
		if !known[r] {
			unresolved = append(unresolved, r)
		}
	}
	if len(m.Creates) > 0 && known == nil {
		known = map[string]bool{}
		c.known[topic] = known
	}
	for _, r := range m.Creates {
		known[r] = true
	}
	return unresolved
}

// fill sets the code, value and flag of obs from an Observation or a
// component.
func fill(obs *Observation, v valued) error {
	for j, c := range v.Code.Coding {
		if j == 0 {
			obs.Display = cmp.Or(c.Display, v.Code.Text, c.Code)
		}
		if c.System == MDCSystem {
			code, err := strconv.ParseUint(c.Code, 10, 32)
			if err != nil {
				return fmt.Errorf("MDC code %q: %w", c.Code, err)
			}
			obs.MDC, obs.Ref = uint32(code), c.Display
			if v, ok := terminology.Lookup(obs.MDC); ok && obs.Ref == "" {
				obs.Ref = v.Ref
			}
		}
	}
	if q := v.ValueQuantity; q != nil {
		obs.Value, obs.Unit = q.Value, q.Code
	}
	if a := v.DataAbsentReason; a != nil && len(a.Coding) > 0 {
		obs.Absent = a.Coding[0].Code
	}
	obs.Flagged = len(v.Interpretation) > 0
	for _, in := range v.Interpretation {
		if len(in.Coding) > 0 && in.Coding[0].Code != "" {
			obs.Interpretation = append(obs.Interpretation, in.Coding[0].Code)
		} else if in.Text != "" {
			obs.Interpretation = append(obs.Interpretation, in.Text)
		}
	}
	return nil
}

// BedOf returns the bed name of an observation topic
// (bedgate/v1/<site>/<ward>/<bed>/obs), or the topic itself.
func BedOf(t string) string {
	if _, _, bed, err := topic.ParseBed(t, topic.Obs); err == nil {
		return bed
	}
	return t
}

// IsNEWS2 reports whether o is a NEWS2 score (the gateway's advisory
// calculation, not a device's measurement).
func (o Observation) IsNEWS2() bool { return strings.Contains(o.Display, "NEWS2") }

// Line formats one observation for people: bed, vital, value, unit, time,
// and its interpretations in brackets. A NEWS2 score reads "NEWS2
// (advisory)" with its risk band.
func Line(bed string, o Observation) string {
	name := o.Ref
	if o.Display != "" {
		name = o.Display
	}
	flag := ""
	switch {
	case o.IsNEWS2():
		name = "NEWS2 score (advisory)"
		if len(o.Interpretation) > 0 {
			flag = "  [" + o.Interpretation[0] + " risk]"
		}
	case len(o.Interpretation) > 0:
		flag = "  [" + strings.Join(o.Interpretation, ", ") + "]"
	case o.Flagged:
		flag = "  [flagged]"
	}
	val := "—"
	if o.Value != nil {
		val = strconv.FormatFloat(*o.Value, 'f', -1, 64)
	} else if o.Absent != "" {
		val = "(" + o.Absent + ")"
	}
	return fmt.Sprintf("%-6s %s  %-38s %8s %-6s seq=%d%s", bed, o.Time.Format("15:04:05"), name, val, o.Unit, o.Seq, flag)
}
