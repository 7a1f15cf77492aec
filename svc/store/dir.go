package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/svckit/svckit/internal/atomicfile"
)

// Dir is a store in a directory: <Path>/<svc>.conf, written atomically,
// with the compare-and-swap done under a file lock (<Path>/.<svc>.lock),
// so that it holds across processes sharing the directory. Its revision
// is the checksum of the content.
type Dir struct {
	Path string
	// LockTimeout bounds the wait for another writer. Default 10s.
	LockTimeout time.Duration
}

// NewDir returns the store in dir, creating the directory.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("config store %s: %w", dir, err)
	}
	return &Dir{Path: dir}, nil
}

func (d *Dir) String() string { return "dir:" + d.Path }

func (d *Dir) file(svcname string) string { return filepath.Join(d.Path, svcname+".conf") }

// Get reads <Path>/<svc>.conf.
func (d *Dir) Get(ctx context.Context, svcname string) (*Config, error) {
	if err := ValidServiceName(svcname); err != nil {
		return nil, fmt.Errorf("%s: get: %w", d, err)
	}
	return d.read(svcname)
}

func (d *Dir) read(svcname string) (*Config, error) {
	path := d.file(svcname)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: get %s: %w (%s)", d, svcname, ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: get %s: %w", d, svcname, err)
	}
	var mtime time.Time
	if fi, err := os.Stat(path); err == nil {
		mtime = fi.ModTime().UTC()
	}
	sum := Checksum(data)
	return &Config{Service: svcname, Data: data, Checksum: sum, Revision: sum, Time: mtime}, nil
}

// Put writes <Path>/<svc>.conf if its checksum is expect.
func (d *Dir) Put(ctx context.Context, svcname string, data []byte, expect string) (*Config, error) {
	if err := ValidServiceName(svcname); err != nil {
		return nil, fmt.Errorf("%s: put: %w", d, err)
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return nil, fmt.Errorf("%s: put %s: %w", d, svcname, err)
	}
	timeout := d.LockTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	lock := flock.New(filepath.Join(d.Path, "."+svcname+".lock"))
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := lock.TryLockContext(lctx, 20*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("%s: put %s: another writer holds the lock (waited %s): %v", d, svcname, timeout, err)
	}
	defer lock.Unlock()
	cur, err := d.read(svcname)
	actual := ""
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	default:
		actual = cur.Revision
	}
	if expect != AnyRevision && expect != actual {
		return nil, &ConflictError{Store: d.String(), Service: svcname, Expected: expect, Actual: actual}
	}
	if err := atomicfile.Write(d.file(svcname), data, 0o600); err != nil {
		return nil, fmt.Errorf("%s: put %s: %w", d, svcname, err)
	}
	sum := Checksum(data)
	return &Config{Service: svcname, Data: data, Checksum: sum, Revision: sum, Time: time.Now().UTC()}, nil
}
