package buffer

import "errors"

// ErrClosed is returned by Append, Next and Ack once Close has been called,
// and by every call of Close after the first.
var ErrClosed = errors.New("buffer: closed")

// ErrFull is returned by Append when the payload alone is larger than
// Options.MaxBytes (or than the largest value the store can hold), so that no
// amount of dropping older entries could make room for it. Errors returned
// for this reason wrap ErrFull; test with errors.Is.
var ErrFull = errors.New("buffer: payload larger than the buffer")
