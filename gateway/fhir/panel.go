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

// metric is the DeviceMetric of the item: for a panel the panel's code in
// its unit, else the observation's code, label and unit; false for a value
// with neither code nor label.
func (it item) metric() (record.Metric, bool) {
	if it.panel != nil {
		v := it.panel.vital
		return record.Metric{MDC: v.MDC, Ref: v.Ref, Unit: v.Units[0].UCUM}, true
	}
	m := record.Metric{MDC: it.o.MDC, Ref: it.o.Ref, Label: it.o.Label, Unit: it.o.Unit}
	return m, metricKey(m) != ""
}

// planItems returns the Observations of r in record order: each
// blood-pressure source that forms a panel becomes one item at the place of
// its first part, every other observation its own item.
func planItems(r record.Record) []item {
	var groups map[uint32][]int // panel MDC -> record indexes of its parts
	for i, o := range r.Observations {
		if p, ok := terminology.PanelOf(o.MDC); ok {
			if groups == nil {
				groups = map[uint32][]int{}
			}
			groups[p.MDC] = append(groups[p.MDC], i)
		}
	}
	items := make([]item, 0, len(r.Observations))
	if groups == nil { // no pressure parts: most readings
		for i, o := range r.Observations {
			items = append(items, item{obs: i, o: o})
		}
		return items
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

// metricKey names a DeviceMetric within its device ("" for none): the
// decimal MDC code, or "label:<label>" for a value known only by the
// device's label.
func metricKey(m record.Metric) string {
	switch {
	case m.MDC != 0:
		return strconv.FormatUint(uint64(m.MDC), 10)
	case m.Label != "":
		return "label:" + pathPart(m.Label)
	}
	return ""
}

// sameMetric reports whether a and b have the same metricKey.
func sameMetric(a, b record.Metric) bool {
	if a.MDC != 0 || b.MDC != 0 {
		return a.MDC == b.MDC
	}
	return a.Label == b.Label
}

// metricIdentifier is the identifier of metric m of the device with
// identifier dev.
func metricIdentifier(dev identifier, m record.Metric) identifier {
	return identifier{System: metricSystem(dev.System), Value: pathPart(dev.Value) + "/" + metricKey(m)}
}

// metricEntry is the DeviceMetric entry of metric m of the device with
// identifier dev and entry devURL (PoCD IG): type the MDC coding (or the
// driver's parameter coding), unit the MDC dimension of m's unit when the
// terminology knows the code.
func (e *Encoder) metricEntry(r record.Record, dev identifier, devURL string, m record.Metric) entry {
	id := metricIdentifier(dev, m)
	v, known := terminology.Lookup(m.MDC)
	dm := &deviceMetric{
		ResourceType: "DeviceMetric",
		Identifier:   []identifier{id},
		Type:         deviceCode(r, record.Observation{MDC: m.MDC, Ref: m.Ref, Label: m.Label}, v, known),
		Source:       &reference{Reference: devURL, Type: "Device"},
		Category:     "measurement",
	}
	if u, ok := v.Unit(m.Unit); known && ok {
		dm.Unit = &codeableConcept{Coding: []coding{{System: terminology.SystemMDC, Code: strconv.FormatUint(uint64(u.MDC), 10), Display: u.MDCRef}}, Text: u.UCUM}
	}
	return createEntry(entryURL(e.ns, "DeviceMetric", id.System+"|"+id.Value), "DeviceMetric", dm, id)
}
