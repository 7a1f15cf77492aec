// Package rootfs resolves the absolute paths of compliance rules inside a
// root directory, symbolic links included, with the standard library's
// os.Root: a path or a link that leads out of the root is an error naming
// the path and the link, and nothing outside the root is read or written.
//
// The root "/" is the real system: there every path is inside, and the
// plain os functions are used so that absolute symbolic links (which
// os.Root refuses) keep working.
package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/svckit/svckit/internal/atomicfile"
	"golang.org/x/sys/unix"
)

// FS is a directory that rule paths are resolved in.
//
// Reads (Lstat, LstatAttr, Equal, Stat, Open and what builds on them) go
// through the parent directory of the path, opened once through the root
// (so it is inside it) and kept until the next write through the FS or
// Close: os.Root walks a path one directory at a time, so a check of a
// thousand files in a few directories walked the same directories a
// thousand times. LstatAttr and Equal name one entry of the kept
// directory without following a link, by plain system calls on its
// descriptor; Stat and Open go through it as an os.Root, opened on their
// first need. A read it refuses or fails (a final link that leaves the
// directory, a file gone) is done again through the root, which decides
// and explains as before. The FS lives for one check run (checker.Env
// opens it and closes it): directories moved during the run are not seen
// before a write through the FS or the next run.
type FS struct {
	dir    string
	root   *os.Root // nil for "/"
	rootFh *os.File // the root's directory, for openat2; nil for "/"
	rootFd int      // rootFh's descriptor, -1 when there is none

	mu   sync.Mutex
	dirs map[string]*parentDir // parent directories opened for reads
}

// parentDir is a parent directory opened for reads: as a plain directory
// descriptor for the reads that name one entry of it without following a
// link (LstatAttr, Equal), which cannot leave it, and as an os.Root,
// opened on first need, for what the standard library resolves (Stat,
// Open).
type parentDir struct {
	name string

	fdMu   sync.RWMutex // held for reading while fd is used
	fd     int          // -1 once closed
	keepFh *os.File     // the descriptor's owner when Root.Open opened it

	mu     sync.Mutex
	root   *os.Root // nil until rootOf opens it
	noRoot bool     // rootOf failed or the directory is closed
}

// maxDirs bounds the parent directories kept open at once.
const maxDirs = 256

// Open opens dir ("" is "/") as the root of the rule paths.
func Open(dir string) (*FS, error) {
	if dir == "" {
		dir = "/"
	}
	dir = filepath.Clean(dir)
	if dir == "/" {
		return &FS{dir: dir}, nil
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	f := &FS{dir: dir, root: r, rootFd: -1}
	// The root's own directory as a descriptor (opened through the root:
	// the same directory), where openat2 resolves parents in one call.
	if fh, err := r.Open("."); err == nil {
		f.rootFh = fh
		if rc, err := fh.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { f.rootFd = int(fd) })
		}
	}
	return f, nil
}

// Close releases the root's directory and the parents opened for reads.
func (f *FS) Close() error {
	if f == nil || f.root == nil {
		return nil
	}
	f.forget()
	if f.rootFh != nil {
		f.rootFh.Close()
	}
	return f.root.Close()
}

// forget closes the parent directories kept for reads: a write may have
// replaced one of them.
func (f *FS) forget() {
	if f.root == nil {
		return
	}
	f.mu.Lock()
	dirs := f.dirs
	f.dirs = nil
	f.mu.Unlock()
	for _, d := range dirs {
		if d != nil { // nil: a parent that could not be opened
			d.close()
		}
	}
}

func (d *parentDir) close() {
	d.fdMu.Lock()
	if d.keepFh != nil {
		d.keepFh.Close()
	} else if d.fd >= 0 {
		unix.Close(d.fd)
	}
	d.fd = -1
	d.fdMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root != nil {
		d.root.Close()
	}
	d.noRoot = true
}

// rootOf returns the directory as an os.Root, opened on first need
// through the FS's root; nil when it cannot be (the caller goes through
// the FS's root).
func (f *FS) rootOf(d *parentDir) *os.Root {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root == nil && !d.noRoot {
		r, err := f.root.OpenRoot(d.name)
		if err != nil {
			d.noRoot = true
			return nil
		}
		d.root = r
	}
	return d.root
}

// parent returns the parent directory of the root-relative name n opened
// as a root, and n's last element; ok is false when n has no parent
// below the root or it cannot be opened (the caller then goes through
// the root).
func (f *FS) parent(n string) (dir *os.Root, base string, ok bool) {
	d, base, ok := f.parentDir(n)
	if !ok {
		return nil, "", false
	}
	r := f.rootOf(d)
	return r, base, r != nil
}

func (f *FS) parentDir(n string) (dir *parentDir, base string, ok bool) {
	i := strings.LastIndexByte(n, '/')
	if i <= 0 {
		return nil, "", false
	}
	name, base := n[:i], n[i+1:]
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.dirs[name]; ok {
		return d, base, d != nil
	}
	if len(f.dirs) >= maxDirs {
		for k, old := range f.dirs {
			if old != nil {
				old.close()
			}
			delete(f.dirs, k)
		}
	}
	if f.dirs == nil {
		f.dirs = map[string]*parentDir{}
	}
	d := f.openParent(name)
	f.dirs[name] = d // nil: not again in this run, the root explains
	return d, base, d != nil
}

// openParent opens the directory name inside the root: one openat2 that
// the kernel keeps beneath the root's descriptor (a link or ".." that
// would leave it fails, absolute links included, as os.Root refuses
// them), else through os.Root, which walks it one element at a time.
// Either way a check of many files in a few directories walks each
// directory's path once per run.
func (f *FS) openParent(name string) *parentDir {
	if f.rootFd >= 0 {
		fd, err := unix.Openat2(f.rootFd, name, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == nil {
			return &parentDir{name: name, fd: fd}
		}
	}
	fh, err := f.root.Open(name)
	if err != nil {
		return nil
	}
	if fi, err := fh.Stat(); err != nil || !fi.IsDir() {
		fh.Close()
		return nil
	}
	d := &parentDir{name: name, fd: -1, keepFh: fh}
	if rc, err := fh.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { d.fd = int(fd) })
	}
	if d.fd < 0 {
		fh.Close()
		return nil
	}
	return d
}

// control runs fn with the directory's descriptor, which stays open
// meanwhile even if forget closes the directory; ok is false when it is
// closed already.
func (d *parentDir) control(fn func(dirfd int)) (ok bool) {
	d.fdMu.RLock()
	defer d.fdMu.RUnlock()
	if d.fd < 0 {
		return false
	}
	fn(d.fd)
	return true
}

// Dir is the root directory on the host.
func (f *FS) Dir() string { return f.dir }

// Root is the os.Root of the directory, nil for "/".
func (f *FS) Root() *os.Root { return f.root }

// Check validates p as a rule path: absolute, clean (no "." or ".."
// element, no doubled or trailing slash) and without NUL or control
// characters.
func Check(p string) error {
	if p == "" {
		return errors.New("path is empty")
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("path %q holds a control character", p)
		}
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q is not absolute", p)
	}
	if c := filepath.Clean(p); c != p {
		return fmt.Errorf("path %q is not clean (expected %q, without . or .. elements)", p, c)
	}
	return nil
}

// Name returns the name of the rule path p relative to the root ("." for
// "/"), after Check.
func Name(p string) (string, error) {
	if err := Check(p); err != nil {
		return "", err
	}
	if p == "/" {
		return ".", nil
	}
	return p[1:], nil
}

// HostPath is where p lies on the host, for messages only: opening it
// would not be confined.
func (f *FS) HostPath(p string) string { return filepath.Join(f.dir, p) }

// EscapeError is a rule path whose resolution leaves the root.
type EscapeError struct {
	Root   string // the root directory
	Path   string // the rule path
	Link   string // the symbolic link that leads out, "" when unknown
	Target string // what Link points to
}

func (e *EscapeError) Error() string {
	if e.Link == "" {
		return fmt.Sprintf("path %s escapes the root %s", e.Path, e.Root)
	}
	return fmt.Sprintf("path %s escapes the root %s through the symbolic link %s -> %s", e.Path, e.Root, e.Link, e.Target)
}

// isEscape tells an os.Root refusal from other errors; the standard library
// does not export the error value, only its text.
func isEscape(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "path escapes from parent" {
			return true
		}
	}
	return false
}

// explain turns an escape reported for p into an EscapeError naming the
// link that leads out; other errors are returned as they are.
func (f *FS) explain(p string, err error) error {
	if err == nil || !isEscape(err) {
		return err
	}
	e := &EscapeError{Root: f.dir, Path: p}
	name := strings.TrimPrefix(p, "/")
	parts := strings.Split(name, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fi, lerr := f.root.Lstat(prefix)
		if lerr != nil || fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if _, serr := f.root.Stat(prefix); serr != nil && isEscape(serr) {
			e.Link = "/" + prefix
			e.Target, _ = f.root.Readlink(prefix)
			break
		}
	}
	return e
}

func (f *FS) name(p string) (string, error) { return Name(p) }

// Lstat describes p without following a final symbolic link.
func (f *FS) Lstat(p string) (fs.FileInfo, error) {
	n, err := f.name(p)
	if err != nil {
		return nil, err
	}
	if f.root == nil {
		return os.Lstat(p)
	}
	if d, base, ok := f.parent(n); ok {
		if fi, err := d.Lstat(base); err == nil {
			return fi, nil
		}
	}
	fi, err := f.root.Lstat(n)
	return fi, f.explain(p, err)
}

// Attr is what a check reads of a path, not following a final symbolic
// link: its type and permission bits (as fs.FileInfo.Mode), owner and
// size.
type Attr struct {
	Mode     fs.FileMode
	UID, GID int
	Size     int64
}

// LstatAttr is Lstat for a check: where the parent directory is kept, one
// fstatat of the entry in it (which cannot leave it) and no FileInfo;
// anything else, a missing file included, goes through Lstat, which
// resolves and explains.
func (f *FS) LstatAttr(p string) (Attr, error) {
	n, err := f.name(p)
	if err != nil {
		return Attr{}, err
	}
	var st unix.Stat_t
	if f.root == nil {
		if fstatat(unix.AT_FDCWD, p, &st) == nil {
			return attrOf(&st), nil
		}
	} else if d, base, ok := f.parentDir(n); ok {
		var serr error
		if d.control(func(dirfd int) { serr = fstatat(dirfd, base, &st) }) && serr == nil {
			return attrOf(&st), nil
		}
	}
	fi, err := f.Lstat(p)
	if err != nil {
		return Attr{}, err
	}
	a := Attr{Mode: fi.Mode(), Size: fi.Size(), UID: -1, GID: -1}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		a.UID, a.GID = int(sys.Uid), int(sys.Gid)
	}
	return a, nil
}

func fstatat(dirfd int, name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			return err
		}
	}
}

// attrOf converts a stat to an Attr, the file mode as os.Lstat makes it.
func attrOf(st *unix.Stat_t) Attr {
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return Attr{Mode: m, UID: int(st.Uid), GID: int(st.Gid), Size: st.Size}
}

// Stat describes p, following symbolic links inside the root.
func (f *FS) Stat(p string) (fs.FileInfo, error) {
	n, err := f.name(p)
	if err != nil {
		return nil, err
	}
	if f.root == nil {
		return os.Stat(p)
	}
	if d, base, ok := f.parent(n); ok {
		if fi, err := d.Stat(base); err == nil {
			return fi, nil
		}
	}
	fi, err := f.root.Stat(n)
	return fi, f.explain(p, err)
}

// Open opens p for reading.
func (f *FS) Open(p string) (*os.File, error) {
	n, err := f.name(p)
	if err != nil {
		return nil, err
	}
	if f.root == nil {
		return os.Open(p)
	}
	if d, base, ok := f.parent(n); ok {
		if fh, err := d.Open(base); err == nil {
			return fh, nil
		}
	}
	fh, err := f.root.Open(n)
	return fh, f.explain(p, err)
}

// OpenFile opens p with flag and perm, as os.OpenFile.
func (f *FS) OpenFile(p string, flag int, perm os.FileMode) (*os.File, error) {
	n, err := f.name(p)
	if err != nil {
		return nil, err
	}
	if f.root == nil {
		return os.OpenFile(p, flag, perm)
	}
	f.forget()
	fh, err := f.root.OpenFile(n, flag, perm)
	return fh, f.explain(p, err)
}

// ErrTooLarge is a file longer than the limit a reader set.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads p whole, failing with ErrTooLarge beyond limit bytes
// (limit <= 0 is no limit).
func (f *FS) ReadFile(p string, limit int64) ([]byte, error) {
	fh, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if limit > 0 {
		r = io.LimitReader(fh, limit+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if limit > 0 && int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", p, ErrTooLarge, limit)
	}
	return b, nil
}

// ReadDir lists the directory p.
func (f *FS) ReadDir(p string) ([]fs.DirEntry, error) {
	fh, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return fh.ReadDir(-1)
}

// MkdirAll makes the directory p and its missing parents with perm.
func (f *FS) MkdirAll(p string, perm os.FileMode) error {
	n, err := f.name(p)
	if err != nil {
		return err
	}
	if f.root == nil {
		return os.MkdirAll(p, perm)
	}
	f.forget()
	return f.explain(p, f.root.MkdirAll(n, perm))
}

// Chmod sets the mode of p.
func (f *FS) Chmod(p string, mode os.FileMode) error {
	n, err := f.name(p)
	if err != nil {
		return err
	}
	if f.root == nil {
		return os.Chmod(p, mode)
	}
	f.forget()
	return f.explain(p, f.root.Chmod(n, mode))
}

// Lchown sets the owner of p, not following a final symbolic link.
func (f *FS) Lchown(p string, uid, gid int) error {
	n, err := f.name(p)
	if err != nil {
		return err
	}
	if f.root == nil {
		return os.Lchown(p, uid, gid)
	}
	f.forget()
	return f.explain(p, f.root.Lchown(n, uid, gid))
}

// WriteFile replaces p atomically by data (see atomicfile), creating the
// missing parent directories 0755.
func (f *FS) WriteFile(p string, data []byte, perm os.FileMode, owner atomicfile.Owner) error {
	n, err := f.name(p)
	if err != nil {
		return err
	}
	if f.root == nil {
		return atomicfile.WriteFile(p, data, perm, owner)
	}
	f.forget()
	return f.explain(p, atomicfile.WriteFileIn(f.root, n, data, perm, owner))
}

// Copy replaces p atomically by what r holds, as WriteFile.
func (f *FS) Copy(p string, r io.Reader, perm os.FileMode, owner atomicfile.Owner) error {
	n, err := f.name(p)
	if err != nil {
		return err
	}
	if f.root == nil {
		return atomicfile.Copy(p, r, perm, owner)
	}
	f.forget()
	return f.explain(p, atomicfile.CopyIn(f.root, n, r, perm, owner))
}

// Equal tells whether the file p, which a Lstat just found regular and
// of size bytes, holds exactly want, reading it as a stream (a file may
// be larger than memory).
//
// It is the read of a check, once per file rule: where a parent
// directory is kept (see FS), the file is opened as one entry of it
// without following a link (O_NOFOLLOW: it cannot leave the directory,
// which was itself opened through the root), with O_NONBLOCK so that a
// file replaced by a FIFO since the Lstat does not block, and read by
// plain system calls: os.File registers a file with the poller, four
// fcntl and an epoll_ctl that a regular file refuses, which cost more
// than the open and the read together. Anything else (a final symbolic
// link, a file gone, no kept parent) goes through Open, which resolves
// and explains as before.
func (f *FS) Equal(p string, size int64, want []byte) (bool, error) {
	if size != int64(len(want)) {
		return false, nil
	}
	n, err := f.name(p)
	if err != nil {
		return false, err
	}
	if f.root == nil {
		fd, err := openRaw(unix.AT_FDCWD, p, 0)
		if err == nil {
			return equalFD(fd, size, want)
		}
	} else if d, base, ok := f.parentDir(n); ok {
		var (
			eq, done bool
			eqErr    error
		)
		d.control(func(dirfd int) {
			fd, oerr := openRaw(dirfd, base, unix.O_NOFOLLOW)
			if oerr != nil {
				return
			}
			done = true
			eq, eqErr = equalFD(fd, size, want)
		})
		if done {
			return eq, eqErr
		}
	}
	fh, err := f.Open(p)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	return equalReader(fh, size, want)
}

func openRaw(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// equalFD compares the open file fd with want and closes it.
func equalFD(fd int, size int64, want []byte) (bool, error) {
	defer unix.Close(fd)
	if size < 64<<10 {
		// One read of size+1 bytes answers for a small file: a read of
		// a regular file returns fewer bytes than asked only at its end
		// (EINTR is retried), so size bytes that match are the whole file
		// and a file that grew since the Lstat gives more than size.
		buf := make([]byte, size+1)
		n, err := fdReader(fd).Read(buf)
		if err == nil && n == len(want) {
			return bytes.Equal(buf[:n], want), nil
		}
		if err != nil && err != io.EOF {
			return false, err
		}
		if n > len(want) || !bytes.Equal(buf[:n], want[:n]) {
			return false, nil
		}
		return equalReader(fdReader(fd), size, want[n:])
	}
	return equalReader(fdReader(fd), size, want)
}

type fdReader int

func (r fdReader) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// equalReader compares what r holds with want, size being the file's
// size when it was described.
func equalReader(r io.Reader, size int64, want []byte) (bool, error) {
	// Size known and equal to the target's: a buffer of it plus one byte
	// sees a file that grew since, without 64 KiB a rule for small files.
	buf := make([]byte, min(64<<10, size+1))
	for {
		n, err := io.ReadFull(r, buf)
		if n > len(want) || !bytes.Equal(buf[:n], want[:n]) {
			return false, nil
		}
		want = want[n:]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return len(want) == 0, nil
		}
		if err != nil {
			return false, err
		}
	}
}
