//go:build !unix

package serialport

// nodeGroup names the group that owns node; file groups are a Unix notion.
func nodeGroup(string) (string, bool) { return "", false }
