//go:build !linux

package pty

import "errors"

type terminal struct{}

func open() (*PTY, error) { return nil, errors.ErrUnsupported }

func (terminal) flushInput() error { return errors.ErrUnsupported }

func (terminal) queued() (int, error) { return 0, errors.ErrUnsupported }
