package fhir

import (
	"strconv"

	"github.com/google/uuid"

	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/terminology"
)

// Blood-pressure panels: the rule is in the package documentation.

// ComponentIDExtension is the URL of the extension on each component of a
// blood-pressure panel that carries the record observation the component
// holds, as valueIdentifier {urn:ietf:rfc:3986, "urn:uuid:<id>"}: the same
// identifier that observation would have as an Observation of its own, so
// a receiver can still match every value by its observation id.
const ComponentIDExtension = "urn:bedgate:fhir:extension:component-observation-id"

// panelNamespace is the UUIDv5 namespace of panel identifiers.
const panelNamespace = "9d2f6c1e-4a7b-5c3d-8e0f-1b2a3c4d5e6f"

// PanelID returns the identifier of the blood-pressure panel with MDC code
// panel (150020 NIBP, 150032 invasive arterial) made of the observations
// systolicID and diastolicID: the UUIDv5, in a namespace of this package, of
// the panel code and the two ids. A re-delivered reading gives the same
// panel id; the mean, which is optional, does not change it.
func PanelID(panel uint32, systolicID, diastolicID string) uuid.UUID {
	name := strconv.FormatUint(uint64(panel), 10) + "\x00" + systolicID + "\x00" + diastolicID
	return uuid.NewSHA1(uuid.MustParse(panelNamespace), []byte(name))
}

// bpPanel is one blood-pressure reading of one pressure source.
type bpPanel struct {
	vital terminology.Vital // the panel entry of the table
	id    uuid.UUID
	parts []panelPart // systolic, diastolic, then mean when present
}

type panelPart struct {
	vital terminology.Vital
	obs   record.Observation
}

// item is one Observation of the Bundle: a record observation (index obs)
// or a panel.
type item struct {
	obs   int
	o     record.Observation
	panel *bpPanel
}

// metricKey names the DeviceMetric of the item ("" for none): the decimal
// MDC code, the panel's code for a panel, "label:<label>" for a value known
// only by the device's label.
func (it item) metricKey() string {
	switch {
	case it.panel != nil:
		return strconv.FormatUint(uint64(it.panel.vital.MDC), 10)
	case it.o.MDC != 0:
		return strconv.FormatUint(uint64(it.o.MDC), 10)
	case it.o.Label != "":
		return "label:" + pathPart(it.o.Label)
	}
	return ""
}

// planItems returns the Observations of r in record order: each
// blood-pressure source that forms a panel becomes one item at the place of
// its first part, every other observation its own item.
func planItems(r record.Record) []item {
	groups := map[uint32][]int{} // panel MDC -> record indexes of its parts
	for i, o := range r.Observations {
		if p, ok := terminology.PanelOf(o.MDC); ok {
			groups[p.MDC] = append(groups[p.MDC], i)
		}
	}
	inPanel := map[int]*bpPanel{} // first part's index -> panel
	member := map[int]bool{}
	for _, idx := range groups {
		p := formPanel(r, idx)
		if p == nil {
			continue
		}
		inPanel[idx[0]] = p
		for _, i := range idx {
			member[i] = true
		}
	}
	items := make([]item, 0, len(r.Observations))
	for i, o := range r.Observations {
		switch {
		case inPanel[i] != nil:
			items = append(items, item{obs: -1, panel: inPanel[i]})
		case !member[i]:
			items = append(items, item{obs: i, o: o})
		}
	}
	return items
}

// formPanel returns the panel of the record observations idx, all parts of
// one pressure source, or nil when they do not form one: a panel needs
// exactly one systolic and one diastolic part, at most one mean, and every
// value in mm[Hg] (a part in another unit is published on its own, as a
// device observation with a note).
func formPanel(r record.Record, idx []int) *bpPanel {
	var sys, dia, mean []panelPart
	var panel terminology.Vital
	for _, i := range idx {
		o := r.Observations[i]
		v, _ := terminology.Lookup(o.MDC)
		if o.Value != nil {
			if _, ok := v.Unit(o.Unit); !ok {
				return nil
			}
		}
		panel, _ = terminology.PanelOf(o.MDC)
		part := panelPart{vital: v, obs: o}
		switch v.Role {
		case terminology.Systolic:
			sys = append(sys, part)
		case terminology.Diastolic:
			dia = append(dia, part)
		case terminology.Mean:
			mean = append(mean, part)
		default:
			return nil
		}
	}
	if len(sys) != 1 || len(dia) != 1 || len(mean) > 1 {
		return nil
	}
	return &bpPanel{
		vital: panel,
		id:    PanelID(panel.MDC, sys[0].obs.ID, dia[0].obs.ID),
		parts: append(append(sys, dia...), mean...),
	}
}

// panelObservation builds the Observation of a blood-pressure panel.
func (e *Encoder) panelObservation(c obsContext, p *bpPanel, id uuid.UUID) *observation {
	obs := newObservation(c, id)
	obs.Category = vitalSignsCategory()
	obs.Code = vitalCode(p.vital)
	obs.Meta = e.profiles(c, p.vital)
	anyDemo := false
	for _, part := range p.parts {
		o := part.obs
		comp := bpComponent{
			Extension: []extension{{URL: ComponentIDExtension, ValueIdentifier: &identifier{
				System: ObservationIdentifierSystem, Value: uuid.MustParse(o.ID).URN()}}},
			Code: vitalCode(part.vital),
		}
		comp.ValueQuantity, comp.DataAbsentReason = value(o)
		interp, notes, demo := flags(o)
		comp.Interpretation = interp
		for _, n := range notes {
			obs.Note = append(obs.Note, annotation{Text: part.vital.Role.String() + ": " + n})
		}
		anyDemo = anyDemo || demo
		obs.Component = append(obs.Component, comp)
	}
	finish(c, obs, anyDemo)
	return obs
}

// metrics returns one DeviceMetric entry per metric of the items, in the
// order of first use, and the reference an Observation of each metric key
// gives as its device.
func (e *Encoder) metrics(r record.Record, dev entry, items []item) ([]entry, map[string]*reference) {
	devID := dev.Resource.(*device).Identifier[0]
	var entries []entry
	refs := map[string]*reference{}
	for _, it := range items {
		key := it.metricKey()
		if key == "" || refs[key] != nil {
			continue
		}
		id := identifier{System: metricSystem(devID.System), Value: pathPart(devID.Value) + "/" + key}
		m := &deviceMetric{
			ResourceType: "DeviceMetric",
			Identifier:   []identifier{id},
			Source:       &reference{Reference: dev.FullURL, Type: "Device"},
			Category:     "measurement",
		}
		var v terminology.Vital
		known := false
		if it.panel != nil {
			v, known = it.panel.vital, true
			m.Type = codeableConcept{Coding: []coding{mdcCoding(v.MDC, v.Ref)}, Text: v.Display}
		} else {
			v, known = terminology.Lookup(it.o.MDC)
			m.Type = deviceCode(r, it.o, v, known)
		}
		if known {
			ucum := v.Units[0].UCUM
			if it.panel == nil {
				ucum = it.o.Unit
			}
			if u, ok := v.Unit(ucum); ok {
				m.Unit = &codeableConcept{Coding: []coding{{System: terminology.SystemMDC, Code: strconv.FormatUint(uint64(u.MDC), 10), Display: u.MDCRef}}, Text: u.UCUM}
			}
		}
		en := entry{
			FullURL:  entryURL(e.ns, "DeviceMetric", id.System+"|"+id.Value),
			Resource: m,
			Request:  &request{Method: "POST", URL: "DeviceMetric", IfNoneExist: ifNoneExist(id)},
		}
		entries = append(entries, en)
		refs[key] = &reference{Reference: en.FullURL, Type: "DeviceMetric"}
	}
	return entries, refs
}
