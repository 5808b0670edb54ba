// Package assoc associates readings with the patient who was in the bed
// when they were read.
//
// # Admission feed
//
// The EPR publishes one retained JSON message per bed on
// bedgate/v1/<site>/<ward>/<bed>/admission ([AdmissionTopic]); the topic
// names the bed, never a patient. [ParseAdmission] defines and checks the
// message ([Admission]): the event (admit, transfer-in, transfer-out,
// discharge), the NHS number (Modulus 11, NHS Data Dictionary "NHS NUMBER"
// steps 1–5, [CheckNHSNumber]), a local identifier, the RFC 3339 time of the
// event and the EPR's message id. [Register.HandleMessage] is the MQTT
// handler: it takes the bed from the topic and applies the message.
//
// # Association windows
//
// A [Register] keeps, per bed, the events in time order and the windows
// [start, end) they imply: a window includes its start and excludes its
// end, and windows of one bed never overlap (an admit while another patient
// is in the bed closes that patient's window at the same instant). A
// patient is in one bed at a time: an admit to a second bed closes the
// first. Late events are inserted at their time unless they contradict the
// events after them. [Register.PatientAt] answers for a reading's time.
// Static assignments from the configuration answer for beds with no
// admission event; the feed takes over a bed at its first event. History is
// kept for Options.Horizon (8 days by default, a day more than the outbox's
// maximum age) and at most Options.MaxEvents events per bed: older events are
// pruned (keeping the one that put the current patient in the bed), a new
// event is never refused for it. An event stamped ahead of the gateway's
// clock takes effect at its time. Events for beds not configured are refused
// before any state is created; messages over MaxAdmissionLen bytes or not
// valid UTF-8 are refused whole.
//
// # Unassociated beds
//
// A [Decider] turns (record, now) into a [Decision]: forward with the
// patient, or, with nobody in the bed, the configured [Policy]: forward
// flagged with location and device only (the default), hold for a bounded
// time in a [Held] queue until an association covers the reading's time,
// then forward flagged or quarantine, or quarantine at once.
//
// # Watermark
//
// A [Feed] says when a reading's association can be decided: when the
// admission feed is known complete up to the reading's time plus a grace
// for the EPR's latency. [Decider.Decide] holds a reading until then, for
// at most Decider.MaxWait, and then applies the policy with
// ReasonFeedUnavailable: never a guessed patient. [Held] keeps held
// readings in a [Store] on disk (gateway/holdfile) so that they survive a
// crash. Measured (README): at 64 beds × 1 Hz the hold is all of a
// gateway's latency (p99 5.07 s with the default grace, 17 ms forwarding
// at once) and about a tenth of its CPU.
//
// Readings already filed are not revisited here: [Decider.Refile] gives
// the subject a filed reading has now, and the gateway corrects the filings
// that differ (gateway/filed keeps what was filed; README, Corrections).
// [Register.Floor] says where the kept history starts. The register's own
// persistence is the gateway's journal of the admission messages applied,
// replayed at start.
//
// Errors name beds and message ids but never a patient identifier, so they
// may be logged at any level.
package assoc
