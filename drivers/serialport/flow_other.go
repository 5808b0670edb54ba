//go:build unix && !linux

package serialport

import "errors"

// setRTSCTS supports only turning flow control off outside Linux.
func (c *control) setRTSCTS(on bool) error {
	if on {
		return errors.ErrUnsupported
	}
	return nil
}
