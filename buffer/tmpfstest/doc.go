// Package tmpfstest mounts small tmpfs filesystems for tests that need a
// real full disk.
package tmpfstest
