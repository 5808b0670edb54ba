// Package drivers is the contract between bedside devices and the gateway.
//
// A driver package (drivers/masimo, ...) turns the bytes a monitor sends into
// [Reading] values: the device's identity, the device's own clock and the
// gateway's receive time, and a list of [Value]s named by IEEE 11073-10101
// (MDC) nomenclature codes, each with its unit and the device's own status
// flags, and, for a value the device time-stamps itself (a non-invasive
// blood pressure), the time it was measured ([Value].MeasuredAt). Drivers
// know nothing of patients, storage or MQTT.
//
// A [Registry] maps a driver name to its serial line defaults, a session
// constructor and a capture decoder, so that tools such as "bedgate probe"
// and "bedgate decode" can try or use each driver by name. The registry is
// built explicitly (see drivers/all); there is no global registration.
package drivers
