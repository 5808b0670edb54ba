// Package epr reads what an electronic patient record receives from the
// gateway: it parses the FHIR R4 Bundles published on the observation
// topics back into flat observations. The demo prints them, and the
// end-to-end tests compare them with what the simulated monitors meant.
//
// It reads FHIR generically (it does not share code with gateway/fhir), so
// that it checks the encoder from the outside.
package epr

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MDCSystem is the FHIR code system of IEEE 11073-10101 codes.
const MDCSystem = "urn:iso:std:iso:11073:10101"

// Observation is one observation as the EPR receives it.
type Observation struct {
	// Seq is the gateway sequence number of the Bundle it came in.
	Seq uint64
	// ID is the observation's identifier value.
	ID string
	// MDC and Ref are the MDC coding's code and display.
	MDC uint32
	Ref string
	// Display is the first coding's display, for people.
	Display string
	// Value is nil when the observation has a dataAbsentReason (Absent).
	Value  *float64
	Unit   string
	Absent string
	// Time is effectiveDateTime.
	Time time.Time
	// Flagged is true when the observation carries an interpretation.
	Flagged bool
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
	} `json:"entry"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type observation struct {
	ResourceType string `json:"resourceType"`
	Identifier   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Code struct {
		Coding []coding `json:"coding"`
	} `json:"code"`
	ValueQuantity *struct {
		Value *float64 `json:"value"`
		Unit  string   `json:"unit"`
		Code  string   `json:"code"`
	} `json:"valueQuantity"`
	DataAbsentReason *struct {
		Coding []coding `json:"coding"`
	} `json:"dataAbsentReason"`
	EffectiveDateTime string            `json:"effectiveDateTime"`
	Interpretation    []json.RawMessage `json:"interpretation"`
}

// Parse reads one published message: a FHIR Bundle of Observations.
func Parse(payload []byte) ([]Observation, error) {
	var b bundle
	if err := json.Unmarshal(payload, &b); err != nil {
		return nil, fmt.Errorf("epr: not JSON: %w", err)
	}
	if b.ResourceType != "Bundle" {
		return nil, fmt.Errorf("epr: resourceType %q, want Bundle", b.ResourceType)
	}
	var seq uint64
	if b.Identifier != nil {
		s, err := strconv.ParseUint(b.Identifier.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("epr: bundle identifier %q is not a sequence number: %w", b.Identifier.Value, err)
		}
		seq = s
	}
	var out []Observation
	for i, e := range b.Entry {
		var o observation
		if err := json.Unmarshal(e.Resource, &o); err != nil {
			return nil, fmt.Errorf("epr: entry %d: %w", i, err)
		}
		if o.ResourceType != "Observation" {
			continue
		}
		obs := Observation{Seq: seq}
		if len(o.Identifier) > 0 {
			obs.ID = strings.TrimPrefix(o.Identifier[0].Value, "urn:uuid:")
		}
		for j, c := range o.Code.Coding {
			if j == 0 {
				obs.Display = c.Display
				if obs.Display == "" {
					obs.Display = c.Code
				}
			}
			if c.System == MDCSystem {
				code, err := strconv.ParseUint(c.Code, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("epr: entry %d: MDC code %q: %w", i, c.Code, err)
				}
				obs.MDC, obs.Ref = uint32(code), c.Display
			}
		}
		if q := o.ValueQuantity; q != nil {
			obs.Value, obs.Unit = q.Value, q.Code
		}
		if a := o.DataAbsentReason; a != nil && len(a.Coding) > 0 {
			obs.Absent = a.Coding[0].Code
		}
		if o.EffectiveDateTime != "" {
			t, err := time.Parse(time.RFC3339Nano, o.EffectiveDateTime)
			if err != nil {
				return nil, fmt.Errorf("epr: entry %d: effectiveDateTime: %w", i, err)
			}
			obs.Time = t
		}
		obs.Flagged = len(o.Interpretation) > 0
		out = append(out, obs)
	}
	return out, nil
}

// BedOf returns the bed name of an observation topic
// (bedgate/v1/<site>/<ward>/<bed>/obs), or the topic itself.
func BedOf(topic string) string {
	parts := strings.Split(topic, "/")
	if len(parts) == 6 && parts[0] == "bedgate" && parts[5] == "obs" {
		return parts[4]
	}
	return topic
}

// Line formats one observation for people: bed, vital, value, unit, time.
func Line(bed string, o Observation) string {
	name := o.Ref
	if o.Display != "" {
		name = o.Display
	}
	val := "—"
	if o.Value != nil {
		val = strconv.FormatFloat(*o.Value, 'f', -1, 64)
	} else if o.Absent != "" {
		val = "(" + o.Absent + ")"
	}
	flag := ""
	if o.Flagged {
		flag = "  [flagged]"
	}
	return fmt.Sprintf("%-6s %s  %-38s %8s %-6s seq=%d%s", bed, o.Time.Format("15:04:05"), name, val, o.Unit, o.Seq, flag)
}
