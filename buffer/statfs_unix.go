//go:build unix

package buffer

import "golang.org/x/sys/unix"

// systemStatfs returns the bytes available to an unprivileged user and the
// filesystem's size.
func systemStatfs(path string) (free, total int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}
