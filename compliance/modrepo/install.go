package modrepo

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/internal/filelock"
)

// Top is the directory every archive entry lies under, as in the
// reference's archives.
const Top = "compliance"

// ArchiveError is an archive refused: the entry, and why.
type ArchiveError struct {
	Entry  string // the entry's name in the archive, "" for the archive itself
	Reason string
}

func (e *ArchiveError) Error() string {
	if e.Entry == "" {
		return "updatecomp: archive refused: " + e.Reason
	}
	return fmt.Sprintf("updatecomp: archive entry %q refused: %s", e.Entry, e.Reason)
}

func refuse(entry, format string, args ...any) error {
	return &ArchiveError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// Install unpacks the archive r (a tar, gzipped or not) beside dir and
// swaps it in place of dir, keeping the previous tree as dir+".bck". Until
// the swap nothing in dir changes: a refused or truncated archive, a
// cancelled ctx, a full disk leave the installed modules as they were.
// Concurrent installs in one dir run one after the other. With
// Options.Root, dir is a path inside that root.
func Install(ctx context.Context, r io.Reader, dir string, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	p, err := openPlace(dir, opts)
	if err != nil {
		return nil, err
	}
	defer p.close()
	unlock, err := p.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return p.install(ctx, r, opts)
}

// place is where the modules directory lies: its parent, opened as an
// os.Root so that every name used there (the lock, the download, the new
// tree, the backup) stays inside it.
type place struct {
	parent *os.Root
	host   string // the parent's path on the host, for messages and results
	base   string // the modules directory's name in the parent
}

func openPlace(dir string, opts Options) (*place, error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if base == "." || base == ".." || base == "/" {
		return nil, fmt.Errorf("updatecomp: modules directory %q: expected a directory name", dir)
	}
	if opts.Root == "" {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("updatecomp: %w", err)
		}
		r, err := os.OpenRoot(parent)
		if err != nil {
			return nil, fmt.Errorf("updatecomp: %w", err)
		}
		return &place{parent: r, host: parent, base: base}, nil
	}
	root, err := os.OpenRoot(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	defer root.Close()
	rel := strings.TrimPrefix(parent, "/")
	if rel == "" {
		rel = "."
	}
	if err := root.MkdirAll(rel, 0o755); err != nil {
		return nil, fmt.Errorf("updatecomp: %s inside %s: %w", parent, opts.Root, err)
	}
	r, err := root.OpenRoot(rel)
	if err != nil {
		return nil, fmt.Errorf("updatecomp: %s inside %s: %w", parent, opts.Root, err)
	}
	return &place{parent: r, host: filepath.Join(opts.Root, parent), base: base}, nil
}

func (p *place) close() { p.parent.Close() }

func (p *place) path(name string) string { return filepath.Join(p.host, name) }

// lock takes <parent>/.<base>.lock, waiting while ctx allows.
func (p *place) lock(ctx context.Context) (func(), error) {
	name := "." + p.base + ".lock"
	fh, err := p.parent.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("updatecomp: lock: %w", err)
	}
	unlock, err := filelock.Wait(ctx, fh, lockRetry)
	if err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	return unlock, nil
}

// tempName is a fresh name in the parent for a download or a new tree.
func (p *place) tempName(kind string) string {
	return "." + p.base + "." + kind + "-" + strings.ToLower(rand.Text()[:12])
}

func (p *place) install(ctx context.Context, r io.Reader, opts Options) (*Result, error) {
	tmp := p.tempName("new")
	if err := p.parent.Mkdir(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	swapped := false
	defer func() {
		if !swapped {
			p.parent.RemoveAll(tmp)
		}
	}()
	// The modules run as root: their directory must be root's alone and
	// readable (compliance.CheckScriptSafe), whatever the umask.
	if err := p.parent.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	tree, err := p.parent.OpenRoot(tmp)
	if err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	defer tree.Close()
	h := sha256.New()
	counted := &countingReader{r: io.LimitReader(r, opts.MaxArchiveSize+1)}
	res, err := unpack(ctx, io.TeeReader(counted, h), tree, opts)
	if err != nil {
		return nil, err
	}
	// The digest is the whole archive's, trailing padding included.
	if _, err := io.Copy(h, counted); err != nil {
		return nil, fmt.Errorf("updatecomp: read archive: %w", err)
	}
	if counted.n > opts.MaxArchiveSize {
		return nil, refuse("", "larger than the %d bytes allowed", opts.MaxArchiveSize)
	}
	res.SHA256, res.Size = hex.EncodeToString(h.Sum(nil)), counted.n
	if err := checkLinks(tree); err != nil {
		return nil, err
	}
	mods, err := compliance.FindScripts(ctx, p.path(tmp))
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, refuse("", "no NN-name module under %s/: installing it would leave no modules", Top)
	}
	for name := range mods {
		res.Modules = append(res.Modules, filepath.Base(mods[name].Path))
	}
	sort.Strings(res.Modules)
	if err := p.keepCompObj(tmp); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hadTree, err := p.swap(tmp)
	if err != nil {
		return nil, err
	}
	swapped = true
	res.Dir = p.path(p.base)
	if hadTree {
		res.Backup = p.path(p.base + ".bck")
	}
	return res, nil
}

// lockRetry is how often a waiting install tries the lock again.
const lockRetry = 20 * time.Millisecond

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// unpack writes the archive's compliance/ tree into root, the new tree:
// through an os.Root, nothing lands outside even if a check here were
// wrong.
func unpack(ctx context.Context, r io.Reader, root *os.Root, opts Options) (*Result, error) {
	br := bufio.NewReader(ctxReader{ctx, r})
	var tr *tar.Reader
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, refuse("", "gzip: %v", err)
		}
		defer zr.Close()
		tr = tar.NewReader(zr)
	} else {
		tr = tar.NewReader(br)
	}
	res := &Result{}
	links := map[string]bool{}   // symbolic links unpacked: no entry goes through one
	regular := map[string]bool{} // regular files: what a hard link may name
	sawTop := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, refuse("", "not a complete tar (or tar.gz) archive: %v (entry %d)", err, res.Entries+1)
		}
		res.Entries++
		if res.Entries > opts.MaxEntries {
			return nil, refuse("", "more than %d entries", opts.MaxEntries)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return nil, refuse(hdr.Name, "%v", err)
		}
		sawTop = true
		if name == "." {
			continue // compliance/ itself: tmp
		}
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			if links[p] {
				return nil, refuse(hdr.Name, "its path goes through the symbolic link %s/%s", Top, p)
			}
		}
		if links[name] || regular[name] {
			return nil, refuse(hdr.Name, "a second entry for the same path")
		}
		// Group and others never write, nothing is setuid: the modules run
		// as root and compliance refuses group- or world-writable ones.
		mode := os.FileMode(hdr.Mode) & 0o755
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
			if err := root.Chmod(name, mode|0o700); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
		case tar.TypeReg:
			if hdr.Size < 0 || hdr.Size > opts.MaxTreeSize-res.Bytes {
				return nil, refuse(hdr.Name, "%d bytes: the tree would exceed the %d bytes allowed", hdr.Size, opts.MaxTreeSize)
			}
			if err := writeFile(root, name, tr, hdr.Size, mode); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, refuse(hdr.Name, "%v", err)
			}
			res.Bytes += hdr.Size
			regular[name] = true
		case tar.TypeSymlink:
			if err := linkInside(name, hdr.Linkname); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
			if err := mkParent(root, name); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
			links[name] = true
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname)
			if err != nil || !regular[target] {
				return nil, refuse(hdr.Name, "hard link to %q: expected a regular file earlier in the archive under %s/", hdr.Linkname, Top)
			}
			if err := mkParent(root, name); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
			if err := root.Link(target, name); err != nil {
				return nil, refuse(hdr.Name, "%v", err)
			}
			regular[name] = true
		default:
			return nil, refuse(hdr.Name, "type %q (device, FIFO or other special file): expected a file, directory or link", string(hdr.Typeflag))
		}
	}
	if !sawTop {
		return nil, refuse("", "no entry under %s/, the layout of the reference's archives", Top)
	}
	return res, nil
}

// entryName returns the entry's path below compliance/ ("." for the
// directory itself), refusing what is not a clean relative path there.
func entryName(n string) (string, error) {
	if len(n) > 4096 {
		return "", errors.New("name longer than 4096 bytes")
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", errors.New("name holds a control character or a backslash")
		}
	}
	if strings.HasPrefix(n, "/") {
		return "", errors.New("absolute path")
	}
	n = strings.TrimPrefix(n, "./")
	n = strings.TrimSuffix(n, "/")
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return "", errors.New(`".." in the path`)
		}
	}
	if n == Top {
		return ".", nil
	}
	rest, ok := strings.CutPrefix(n, Top+"/")
	if !ok {
		return "", fmt.Errorf("not under %s/, the layout of the reference's archives", Top)
	}
	if !filepath.IsLocal(rest) || path.Clean(rest) != rest {
		return "", fmt.Errorf("path %q is not clean", rest)
	}
	return rest, nil
}

// linkInside refuses a symbolic link target that is absolute or climbs
// out of the tree from the link's directory. The links of the finished
// tree are checked again by resolving them (checkLinks).
func linkInside(name, target string) error {
	if target == "" || strings.HasPrefix(target, "/") {
		return fmt.Errorf("symbolic link to %q: expected a relative target inside %s/", target, Top)
	}
	for _, c := range target {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("symbolic link target %q holds a control character", target)
		}
	}
	if !filepath.IsLocal(path.Join(path.Dir(name), target)) {
		return fmt.Errorf("symbolic link to %q leads out of %s/", target, Top)
	}
	return nil
}

func mkParent(root *os.Root, name string) error {
	if d := path.Dir(name); d != "." {
		return root.MkdirAll(d, 0o755)
	}
	return nil
}

func writeFile(root *os.Root, name string, r io.Reader, size int64, mode os.FileMode) error {
	if err := mkParent(root, name); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if n, err := io.CopyN(f, r, size); err != nil {
		return fmt.Errorf("%d of %d bytes: %w", n, size, err)
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// checkLinks resolves every symbolic link of the unpacked tree inside it:
// os.Root fails on a link that leads out, or that resolves nowhere. The
// per-entry check is lexical; a link through another link (a -> ., b ->
// a/../x) is only caught here.
func checkLinks(tree *os.Root) error {
	return fs.WalkDir(tree.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if _, err := tree.Stat(p); err != nil {
			return refuse(Top+"/"+p, "symbolic link that does not resolve inside the archive's tree: %v", err)
		}
		return nil
	})
}

// keepCompObj carries the installed com.opensvc links (the compobj
// binary's names, made by nodemgr --compobj) into a new tree that has
// none, as the reference keeps its upstream com.opensvc objects. They are
// the node's own links, not the archive's.
func (p *place) keepCompObj(tmp string) error {
	prev := p.base + "/com.opensvc"
	next := tmp + "/com.opensvc"
	if _, err := p.parent.Lstat(next); err == nil {
		return nil
	}
	d, err := p.parent.Open(prev)
	if err != nil {
		return nil // nothing to keep
	}
	ents, err := d.ReadDir(len(compliance.CompObjNames) * 4)
	d.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("updatecomp: %w", err)
	}
	if err := p.parent.Mkdir(next, 0o755); err != nil {
		return fmt.Errorf("updatecomp: %w", err)
	}
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink == 0 || !isCompObjName(e.Name()) {
			continue
		}
		target, err := p.parent.Readlink(prev + "/" + e.Name())
		if err != nil {
			return fmt.Errorf("updatecomp: %w", err)
		}
		if err := p.parent.Symlink(target, next+"/"+e.Name()); err != nil {
			return fmt.Errorf("updatecomp: %w", err)
		}
	}
	return nil
}

func isCompObjName(n string) bool {
	for _, c := range compliance.CompObjNames {
		if c == n {
			return true
		}
	}
	return false
}

// swap puts tmp in place of the modules directory in one step (renameat2
// RENAME_EXCHANGE in the parent: a reader sees the old tree or the new
// one, never none), then moves the old tree to the backup name. It tells
// whether there was an old tree.
func (p *place) swap(tmp string) (bool, error) {
	d, err := p.parent.Open(".")
	if err != nil {
		return false, fmt.Errorf("updatecomp: %w", err)
	}
	defer d.Close()
	backup := p.base + ".bck"
	if _, err := p.parent.Lstat(p.base); errors.Is(err, fs.ErrNotExist) {
		if err := p.parent.Rename(tmp, p.base); err != nil {
			return false, fmt.Errorf("updatecomp: install: %w", err)
		}
		return false, d.Sync()
	}
	if err := p.parent.RemoveAll(backup); err != nil {
		return false, fmt.Errorf("updatecomp: remove the old backup: %w", err)
	}
	fd := int(d.Fd())
	err = unix.Renameat2(fd, tmp, fd, p.base, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// tmp now holds the previous tree.
		if err := p.parent.Rename(tmp, backup); err != nil {
			return true, fmt.Errorf("updatecomp: installed, but keeping the previous tree as %s: %w", p.path(backup), err)
		}
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP):
		// A file system without the exchange: two renames, a moment
		// without modules.
		if err := p.parent.Rename(p.base, backup); err != nil {
			return false, fmt.Errorf("updatecomp: move %s to %s: %w", p.path(p.base), p.path(backup), err)
		}
		if err := p.parent.Rename(tmp, p.base); err != nil {
			return false, errors.Join(fmt.Errorf("updatecomp: install: %w", err), p.parent.Rename(backup, p.base))
		}
	default:
		return false, fmt.Errorf("updatecomp: swap %s and %s: %w", p.path(tmp), p.path(p.base), err)
	}
	return true, d.Sync()
}
