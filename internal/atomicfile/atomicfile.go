// Package atomicfile writes files so that a reader sees either the old or
// the new content, never a partial one, and the new content survives a crash:
// temporary file in the same directory, fsync, rename, fsync of the
// directory. WriteFileIn and CopyIn do the same inside an os.Root.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Owner is the numeric owner to give a written file; -1 keeps the
// writer's.
type Owner struct{ UID, GID int }

// Keep leaves the owner of the written file to the process.
var Keep = Owner{UID: -1, GID: -1}

// Write writes data to path atomically with mode perm, keeping the
// writer's owner. Unlike WriteFile, the parent directory must exist.
func Write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	return finish(f, tmp, path, bytes.NewReader(data), perm, Keep, func() error { return os.Remove(tmp) },
		func() error { return os.Rename(tmp, path) }, func() error { return SyncDir(dir) })
}

// WriteFile writes data to path through a temporary file in the same
// directory, fsynced then renamed over path; the directory is fsynced too so
// the rename itself is durable. Missing parent directories are created 0755.
func WriteFile(path string, data []byte, perm os.FileMode, owner Owner) error {
	return Copy(path, bytes.NewReader(data), perm, owner)
}

// Copy is WriteFile with the content read from r, so that a large file is
// never held in memory.
func Copy(path string, r io.Reader, perm os.FileMode, owner Owner) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	return finish(f, tmp, path, r, perm, owner, func() error { return os.Remove(tmp) },
		func() error { return os.Rename(tmp, path) }, func() error { return SyncDir(dir) })
}

// WriteFileIn is WriteFile for name inside root: the temporary file, the
// rename and the parent directories stay inside it, whatever symbolic links
// the path crosses.
func WriteFileIn(root *os.Root, name string, data []byte, perm os.FileMode, owner Owner) error {
	return CopyIn(root, name, bytes.NewReader(data), perm, owner)
}

// CopyIn is WriteFileIn with the content read from r.
func CopyIn(root *os.Root, name string, r io.Reader, perm os.FileMode, owner Owner) error {
	dir := filepath.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	var f *os.File
	var tmp string
	for range 100 {
		tmp = filepath.Join(dir, "."+filepath.Base(name)+".tmp"+strconv.FormatUint(rand.Uint64(), 36))
		var err error
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if f == nil {
		return fmt.Errorf("write %s: no free temporary name", name)
	}
	return finish(f, tmp, name, r, perm, owner, func() error { return root.Remove(tmp) },
		func() error { return root.Rename(tmp, name) }, func() error { return syncOpened(dir, root.Open) })
}

// finish fills the temporary file f, gives it its mode and owner, fsyncs
// and renames it over path; on failure the temporary file is removed.
func finish(f *os.File, tmp, path string, r io.Reader, perm os.FileMode, owner Owner, remove, rename, syncDir func() error) error {
	ok := false
	defer func() {
		if !ok {
			f.Close()
			remove()
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	// CreateTemp makes the file 0600 and the umask must not decide the mode.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if owner.UID >= 0 || owner.GID >= 0 {
		if err := f.Chown(owner.UID, owner.GID); err != nil {
			return fmt.Errorf("chown %s: %w", tmp, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := rename(); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	ok = true
	return syncDir()
}

// SyncDir fsyncs a directory so that entries created or renamed in it are
// durable.
func SyncDir(dir string) error { return syncOpened(dir, os.Open) }

// syncOpened fsyncs the directory dir, opened by open (os.Open, or an
// os.Root's Open for a directory inside a root).
func syncOpened(dir string, open func(string) (*os.File, error)) error {
	d, err := open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
