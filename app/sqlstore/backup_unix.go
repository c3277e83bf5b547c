//go:build unix

package sqlstore

import (
	"io/fs"
	"os"
	"syscall"
)

// chownLike gives path the owner and group of dir.
func chownLike(path string, dir fs.FileInfo) error {
	st, ok := dir.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}
