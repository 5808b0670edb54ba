// Package terminology maps IEEE 11073-10101 (MDC) measurement codes to the
// codes and units the gateway's encoders publish: LOINC and SNOMED CT codings,
// UCUM units with their MDC dimension codes, a display name, and the FHIR R4
// vital-signs profile that applies.
//
// The table covers the vital signs bedside monitors report: heart and pulse
// rates, SpO2, respiratory rates, non-invasive and invasive blood pressure,
// body temperatures (unspecified and by site) and end-tidal CO2, plus the
// device observations the drivers emit next to them (perfusion index). Codes
// come from the project's standards research (output-standards.md §2.1):
// MDC codes and RefIDs as in the DK Core IEEE value set and published IHE
// PCD-01 messages, MDC unit term codes from the IEEE 11073-20601 agent
// headers, LOINC from the FHIR R4 value set observation-vitalsignresult and
// the per-vital core profiles, SNOMED CT from the UK Core value sets and
// examples.
//
// A [Vital] with no LOINC coding is a device observation, not a vital sign
// (perfusion index has no LOINC vital-signs code): encoders publish it with
// its MDC code only. A panel (blood pressure, MDC_PRESS_BLD_NONINV) lists its
// component codes in [Vital.Components]; each component names its [Role], and
// [PanelOf] finds the panel of a component code. The invasive arterial panel
// (MDC_PRESS_BLD_ART) is listed the same way.
//
// Not covered: MDC codes outside the table (encoders still publish them by
// MDC code), value-set membership checks, and unit conversion.
package terminology
