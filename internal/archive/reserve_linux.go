package archive

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// reserveFd allocates n bytes at off of the file behind rc without
// changing its size (fallocate with FALLOC_FL_KEEP_SIZE), so that a
// following write of them cannot fail for want of space. File systems
// without fallocate report nothing.
func reserveFd(rc syscall.RawConn, off, n int64) error {
	var err error
	cerr := rc.Control(func(fd uintptr) {
		err = unix.Fallocate(int(fd), unix.FALLOC_FL_KEEP_SIZE, off, n)
	})
	if cerr != nil {
		return nil
	}
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		return nil
	}
	return err
}
