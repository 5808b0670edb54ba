package assoc

import "errors"

// Errors of ParseAdmission. Each is wrapped with the detail; none carries a
// patient identifier, so they may be logged at any level.
var (
	// ErrMalformed is returned when the payload is not one JSON object of
	// the admission shape (bad syntax, a field of the wrong type, trailing
	// data), is larger than MaxAdmissionLen or is not valid UTF-8.
	ErrMalformed = errors.New("assoc: malformed admission message")
	// ErrEvent is returned when "event" is missing or is not one of admit,
	// transfer-in, transfer-out, discharge.
	ErrEvent = errors.New("assoc: unknown admission event")
	// ErrNHSNumber is returned when an NHS number is not 10 digits or
	// fails the Modulus 11 check.
	ErrNHSNumber = errors.New("assoc: invalid NHS number")
	// ErrLocalID is returned when "local_id" is too long, not valid UTF-8
	// or holds control characters.
	ErrLocalID = errors.New("assoc: invalid local identifier")
	// ErrNoPatient is returned when an admit or transfer-in names neither
	// an NHS number nor a local identifier.
	ErrNoPatient = errors.New("assoc: admission names no patient")
	// ErrTime is returned when "time" is missing or not RFC 3339 with a
	// zone offset.
	ErrTime = errors.New("assoc: missing or invalid time")
	// ErrID is returned when "id" is missing, too long or holds control
	// characters.
	ErrID = errors.New("assoc: missing or invalid message id")
)

// Errors of the Register. Apply leaves the register unchanged when it
// returns one of them.
var (
	// ErrTopic is returned by HandleMessage for a topic that is not this
	// gateway's admission topic of one bed.
	ErrTopic = errors.New("assoc: not an admission topic of this gateway")
	// ErrUnknownBed is returned for a bed not in Options.Beds.
	ErrUnknownBed = errors.New("assoc: unknown bed")
	// ErrPatientMismatch is returned for a transfer-out or discharge that
	// names a patient other than the one in the bed at its time.
	ErrPatientMismatch = errors.New("assoc: closing event names a patient not in the bed")
	// ErrConflict is returned for a late (out-of-order) event that would
	// make an event already applied name a patient not in the bed.
	ErrConflict = errors.New("assoc: late event contradicts a later event")
	// ErrBeforeHistory is returned for an admit or transfer-in older than
	// the history the register still keeps for the bed (see
	// Options.Horizon and Options.MaxEvents), or a closing event older than
	// it while a patient was in the bed at its end: its effect on the
	// present cannot be known.
	ErrBeforeHistory = errors.New("assoc: admission older than the kept history")
	// ErrIDReused is returned when a message id already applied arrives
	// with different content.
	ErrIDReused = errors.New("assoc: message id reused with different content")
)
