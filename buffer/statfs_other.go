//go:build !unix

package buffer

// systemStatfs is not available here: free space is not watched.
var systemStatfs func(path string) (free, total int64, err error)
