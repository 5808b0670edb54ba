package fhir

// The FHIR R4 JSON shapes the encoder writes. Structs, not maps, so that the
// key order, and with it the bytes, are the same on every run. Only the
// elements the encoder fills are declared.

type bundle struct {
	ResourceType string      `json:"resourceType"`
	Identifier   *identifier `json:"identifier,omitempty"`
	Type         string      `json:"type"`
	Timestamp    string      `json:"timestamp,omitempty"`
	Entry        []entry     `json:"entry"`
}

type entry struct {
	FullURL  string   `json:"fullUrl"`
	Resource any      `json:"resource"` // *observation, *device, *deviceMetric or *location
	Request  *request `json:"request,omitempty"`
}

type request struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	IfNoneExist string `json:"ifNoneExist,omitempty"`
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type codeableConcept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type meta struct {
	Profile  []string `json:"profile,omitempty"`
	Security []coding `json:"security,omitempty"`
	Tag      []coding `json:"tag,omitempty"`
}

type extension struct {
	URL             string      `json:"url"`
	ValueIdentifier *identifier `json:"valueIdentifier,omitempty"`
}

type quantity struct {
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	System string  `json:"system,omitempty"`
	Code   string  `json:"code,omitempty"`
}

type annotation struct {
	Text string `json:"text"`
}

type observation struct {
	ResourceType      string            `json:"resourceType"`
	Meta              *meta             `json:"meta,omitempty"`
	Identifier        []identifier      `json:"identifier"`
	Status            string            `json:"status"`
	Category          []codeableConcept `json:"category,omitempty"`
	Code              codeableConcept   `json:"code"`
	Subject           *reference        `json:"subject,omitempty"`
	EffectiveDateTime string            `json:"effectiveDateTime"`
	Issued            string            `json:"issued,omitempty"`
	ValueQuantity     *quantity         `json:"valueQuantity,omitempty"`
	DataAbsentReason  *codeableConcept  `json:"dataAbsentReason,omitempty"`
	Interpretation    []codeableConcept `json:"interpretation,omitempty"`
	Note              []annotation      `json:"note,omitempty"`
	Device            *reference        `json:"device,omitempty"`
	Component         []bpComponent     `json:"component,omitempty"`
}

// bpComponent is a component of a blood-pressure panel.
type bpComponent struct {
	Extension        []extension       `json:"extension,omitempty"`
	Code             codeableConcept   `json:"code"`
	ValueQuantity    *quantity         `json:"valueQuantity,omitempty"`
	DataAbsentReason *codeableConcept  `json:"dataAbsentReason,omitempty"`
	Interpretation   []codeableConcept `json:"interpretation,omitempty"`
}

type deviceMetric struct {
	ResourceType string           `json:"resourceType"`
	Identifier   []identifier     `json:"identifier"`
	Type         codeableConcept  `json:"type"`
	Unit         *codeableConcept `json:"unit,omitempty"`
	Source       *reference       `json:"source,omitempty"`
	Category     string           `json:"category"`
}

type deviceName struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type device struct {
	ResourceType string           `json:"resourceType"`
	Identifier   []identifier     `json:"identifier"`
	SerialNumber string           `json:"serialNumber,omitempty"`
	DeviceName   []deviceName     `json:"deviceName,omitempty"`
	ModelNumber  string           `json:"modelNumber,omitempty"`
	Type         *codeableConcept `json:"type,omitempty"`
	Location     *reference       `json:"location,omitempty"`
}

type location struct {
	ResourceType string           `json:"resourceType"`
	Identifier   []identifier     `json:"identifier"`
	Name         string           `json:"name"`
	Description  string           `json:"description,omitempty"`
	Mode         string           `json:"mode"`
	PhysicalType *codeableConcept `json:"physicalType,omitempty"`
}
