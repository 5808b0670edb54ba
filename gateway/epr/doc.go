// Package epr reads what an electronic patient record receives from the
// gateway: it parses the FHIR R4 Bundles published on the observation
// topics back into flat observations. The demo prints them, and the
// end-to-end tests compare them with what the simulated monitors meant.
//
// A bed's context Bundle (Location, Device, DeviceMetrics, no
// Observation) gives no observations; ParseMessage reports what it creates,
// and Contexts checks, as an EPR filing the Bundles in order would, that
// every conditional reference of a reading's Observations resolves to a
// context published earlier on the same topic.
//
// It reads FHIR generically (it does not share code with gateway/fhir), so
// that it checks the encoder from the outside; like an EPR that knows the
// MDC nomenclature, it names an MDC code sent without a display by the
// gateway/terminology table.
//
// A blood-pressure panel (an Observation with components and no value of
// its own) is reported as one Observation per component: ID from the component's identifier
// extension (ComponentIDExtension) when it has one, code, value and flags
// from the component, time from the panel. The panel itself carries no
// value and is not reported.
package epr
