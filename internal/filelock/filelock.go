// Package filelock takes an exclusive flock(2) on a file that is already
// open, waiting while a context allows. Locks by path use
// github.com/gofrs/flock (svc's action lock); this is for files opened
// through an os.Root, which must not be reopened by path.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Wait locks f exclusively, trying again every interval until ctx ends.
// The returned func unlocks and closes f. On error f is closed.
func Wait(ctx context.Context, f *os.File, every time.Duration) (func(), error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), ctx.Err())
		case <-time.After(every):
		}
	}
}
