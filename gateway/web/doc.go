// Package web serves a running gateway's status over HTTP, for the biomed
// engineer at the ward box and for monitoring:
//
//   - / is the status page: one tile per bed (device state and its reason,
//     the age of the last reading, SpO2, pulse, respiration rate, blood
//     pressure, temperature, an hour's trend, quarantines, whether a patient
//     is admitted: never who), the outbox, the broker link, clock sync and
//     the version. Plain HTML with a little JavaScript that polls
//     /status.json every second; no external assets (the box is offline).
//   - /status.json is the gateway's snapshot (gateway/stats) with its
//     readiness.
//   - /metrics is the Prometheus exposition (see Metrics).
//   - /healthz answers 200 while the process serves; /readyz 200 while the
//     gateway is ready (stats.Snapshot.Ready), else 503 with the reason.
//
// With a token, every path but /healthz and /readyz asks for it: as a
// bearer token (Prometheus' authorization setting) or as the password of
// HTTP basic authentication (a browser asks for it; any user name).
package web
