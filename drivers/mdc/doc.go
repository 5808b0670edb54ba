// Package mdc is the one table of the IEEE 11073-10101 (MDC) codes bedgate
// knows by name: a named constant for each code, and per vital sign its
// canonical UCUM unit, its LOINC code, its default plausibility ranges, its
// NEWS2 parameter and, for blood pressures, each code's part in its panel.
// Validation (gateway/validate), NEWS2 (gateway/news2/tracker) and the
// encoders' terminology (gateway/terminology) derive from it; drivers name
// codes with its constants. It imports nothing of bedgate.
//
// Adding a vital, or a code to one, is a row here.
package mdc
