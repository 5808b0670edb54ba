//go:build unix

package serialport

import (
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// nodeGroup names the group that owns node.
func nodeGroup(node string) (string, bool) {
	info, err := os.Stat(node)
	if err != nil {
		return "", false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	g, err := user.LookupGroupId(strconv.FormatUint(uint64(st.Gid), 10))
	if err != nil {
		return "", false
	}
	return g.Name, true
}
