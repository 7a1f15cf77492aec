package rootfs_test

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/compliance/internal/rootfs"
	"github.com/svckit/svckit/internal/atomicfile"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		path string
		err  string
	}{
		{"/etc/passwd", ""},
		{"/", ""},
		{"etc/passwd", "not absolute"},
		{"", "empty"},
		{"/etc/../../passwd", "not clean"},
		{"/etc/./passwd", "not clean"},
		{"//etc/passwd", "not clean"},
		{"/etc/passwd/", "not clean"},
		{"/etc/pass\x00wd", "control character"},
		{"/etc/pass\nwd", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := rootfs.Check(tt.path)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// TestEscape: whatever the operation, a path through a link that leads out
// of the root is an EscapeError naming the path and the link, and the
// sentinel file outside is neither read nor changed.
func TestEscape(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "elsewhere")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	const sentinel = "root:x:0:0:SENTINEL-OUTSIDE\n"
	require.NoError(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte(sentinel), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc")))                                     // absolute, out
	require.NoError(t, os.Symlink("../elsewhere", filepath.Join(root, "up")))                               // relative, out
	require.NoError(t, os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(root, "usr/lib/passwd"))) // the file itself
	require.NoError(t, os.Symlink("usr/lib", filepath.Join(root, "lib")))                                   // inside

	f, err := rootfs.Open(root)
	require.NoError(t, err)
	defer f.Close()

	ops := map[string]func(p string) error{
		"stat":  func(p string) error { _, err := f.Stat(p); return err },
		"read":  func(p string) error { _, err := f.ReadFile(p, 0); return err },
		"write": func(p string) error { return f.WriteFile(p, []byte("pwned\n"), 0o644, atomicfile.Keep) },
		"copy":  func(p string) error { return f.Copy(p, strings.NewReader("pwned\n"), 0o644, atomicfile.Keep) },
		"mkdir": func(p string) error { return f.MkdirAll(p+".d/sub", 0o755) },
		"chmod": func(p string) error { return f.Chmod(p, 0o600) },
	}
	paths := []struct{ path, link, target string }{
		{"/etc/passwd", "/etc", outside},
		{"/up/passwd", "/up", "../elsewhere"},
		{"/lib/passwd", "/lib/passwd", filepath.Join(outside, "passwd")},
	}
	for _, p := range paths {
		for name, op := range ops {
			if p.link == "/lib/passwd" && (name == "mkdir" || name == "write" || name == "copy") {
				// The mkdir is beside the link, and a write replaces the
				// link itself: both inside.
				continue
			}
			t.Run(name+p.path, func(t *testing.T) {
				path := p.path
				if name == "mkdir" {
					path += ".d/sub"
				}
				err := op(p.path)
				var ee *rootfs.EscapeError
				require.ErrorAs(t, err, &ee)
				require.Equal(t, path, ee.Path)
				require.Equal(t, p.link, ee.Link)
				require.Equal(t, p.target, ee.Target)
				require.Contains(t, err.Error(), p.link+" -> "+p.target)
				require.NotContains(t, err.Error(), "SENTINEL")
			})
		}
	}
	b, err := os.ReadFile(filepath.Join(outside, "passwd"))
	require.NoError(t, err)
	require.Equal(t, sentinel, string(b), "nothing written outside")
	ents, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Len(t, ents, 1, "nothing created outside")
	fi, err := os.Stat(filepath.Join(outside, "passwd"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	// A relative link that stays inside is followed.
	require.NoError(t, f.WriteFile("/lib/x.conf", []byte("in\n"), 0o640, atomicfile.Keep))
	b, err = os.ReadFile(filepath.Join(root, "usr/lib/x.conf"))
	require.NoError(t, err)
	require.Equal(t, "in\n", string(b))
	ents, err = os.ReadDir(filepath.Join(root, "usr/lib"))
	require.NoError(t, err)
	require.Len(t, ents, 2, "no temporary file left")
}

func TestReadFileLimit(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "big"), make([]byte, 2048), 0o644))
	f, err := rootfs.Open(root)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.ReadFile("/big", 1024)
	require.ErrorIs(t, err, rootfs.ErrTooLarge)
	b, err := f.ReadFile("/big", 2048)
	require.NoError(t, err)
	require.Len(t, b, 2048)
}

// TestCachedParents: reads through a parent directory opened once give
// what reads through the root give: a final link that leaves the
// directory but stays in the root is followed, one that leaves the root is
// an EscapeError naming it, a missing file is not found; a write through
// the FS makes the next read see directories replaced meanwhile; more
// parents than are kept open still read.
func TestCachedParents(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "elsewhere")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/app"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "srv"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("SENTINEL-OUTSIDE\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/app/a.conf"), []byte("a\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "srv/shared.conf"), []byte("shared\n"), 0o644))
	require.NoError(t, os.Symlink("../../srv/shared.conf", filepath.Join(root, "etc/app/up.conf")))      // out of the parent, in the root
	require.NoError(t, os.Symlink("../../../elsewhere/secret", filepath.Join(root, "etc/app/out.conf"))) // out of the root
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "etc/app/abs.conf")))

	f, err := rootfs.Open(root)
	require.NoError(t, err)
	defer f.Close()

	for range 2 { // the first round opens the parent, the second reuses it
		b, err := f.ReadFile("/etc/app/a.conf", 0)
		require.NoError(t, err)
		require.Equal(t, "a\n", string(b))
		b, err = f.ReadFile("/etc/app/up.conf", 0)
		require.NoError(t, err)
		require.Equal(t, "shared\n", string(b))
		fi, err := f.Lstat("/etc/app/up.conf")
		require.NoError(t, err)
		require.NotZero(t, fi.Mode()&os.ModeSymlink)
		for _, p := range []string{"/etc/app/out.conf", "/etc/app/abs.conf"} {
			_, err = f.ReadFile(p, 0)
			var ee *rootfs.EscapeError
			require.ErrorAs(t, err, &ee, p)
			require.Equal(t, p, ee.Link)
			require.NotContains(t, err.Error(), "SENTINEL")
			_, err = f.Stat(p)
			require.ErrorAs(t, err, &ee, p)
		}
		_, err = f.Stat("/etc/app/missing.conf")
		require.ErrorIs(t, err, os.ErrNotExist)
	}

	// The directory is replaced behind the FS; a write through the FS
	// drops the parents it kept, so the next read sees the new one.
	require.NoError(t, os.Rename(filepath.Join(root, "etc/app"), filepath.Join(root, "etc/app.old")))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/app/a.conf"), []byte("new\n"), 0o644))
	require.NoError(t, f.WriteFile("/srv/other.conf", []byte("x\n"), 0o644, atomicfile.Keep))
	b, err := f.ReadFile("/etc/app/a.conf", 0)
	require.NoError(t, err)
	require.Equal(t, "new\n", string(b))

	// More parents than are kept open at once.
	for i := range 300 {
		dir := filepath.Join(root, "many", fmt.Sprint(i))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte(fmt.Sprint(i)), 0o644))
	}
	for i := range 300 {
		b, err := f.ReadFile(fmt.Sprintf("/many/%d/f", i), 0)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), string(b))
	}
}

// TestCachedParentsConcurrent reads from several goroutines while another
// writes through the FS (which drops the kept parents): every read gets
// the file (run with -race).
func TestCachedParentsConcurrent(t *testing.T) {
	root := t.TempDir()
	for i := range 20 {
		dir := filepath.Join(root, "d", fmt.Sprint(i%5))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), []byte(fmt.Sprint(i)), 0o644))
	}
	f, err := rootfs.Open(root)
	require.NoError(t, err)
	defer f.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				i := (g*7 + n) % 20
				b, err := f.ReadFile(fmt.Sprintf("/d/%d/f%d", i%5, i), 0)
				if err == nil && string(b) != fmt.Sprint(i) {
					err = fmt.Errorf("f%d holds %q", i, b)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for n := range 50 {
		require.NoError(t, f.WriteFile(fmt.Sprintf("/w/%d", n%3), []byte("w"), 0o644, atomicfile.Keep))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestLstatAttr: LstatAttr describes every kind of file as os.Lstat does
// (type bits, setuid, setgid and sticky, owner, size), through a kept
// parent, through the root alone and with the root "/"; a final link is
// not followed, and a parent that leads out of the root is refused.
func TestLstatAttr(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/d"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "f"), []byte("x"), 0o644))
	etc := filepath.Join(root, "etc")
	require.NoError(t, os.WriteFile(filepath.Join(etc, "file"), []byte("hello\n"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "suid"), nil, 0o755))
	require.NoError(t, os.Chmod(filepath.Join(etc, "suid"), 0o755|os.ModeSetuid|os.ModeSetgid))
	require.NoError(t, os.Mkdir(filepath.Join(etc, "sticky"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(etc, "sticky"), 0o777|os.ModeSticky))
	require.NoError(t, os.Symlink("file", filepath.Join(etc, "link")))
	require.NoError(t, unix.Mkfifo(filepath.Join(etc, "fifo"), 0o600))
	l, err := net.Listen("unix", filepath.Join(etc, "sock"))
	require.NoError(t, err)
	defer l.Close()
	names := []string{"file", "suid", "sticky", "link", "fifo", "sock", "d"}
	if os.Geteuid() == 0 {
		require.NoError(t, unix.Mknod(filepath.Join(etc, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		names = append(names, "null")
	}
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "out")))

	fsys, err := rootfs.Open(root)
	require.NoError(t, err)
	defer fsys.Close()
	sys, err := rootfs.Open("/")
	require.NoError(t, err)
	for _, n := range names {
		host := filepath.Join(etc, n)
		fi, err := os.Lstat(host)
		require.NoError(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		want := rootfs.Attr{Mode: fi.Mode(), UID: int(st.Uid), GID: int(st.Gid), Size: fi.Size()}
		got, err := fsys.LstatAttr("/etc/" + n)
		require.NoError(t, err, n)
		require.Equal(t, want, got, n)
		got, err = sys.LstatAttr(host)
		require.NoError(t, err, n)
		require.Equal(t, want, got, n)
	}
	// A path right below the root has no kept parent: through the root.
	fi, err := os.Lstat(etc)
	require.NoError(t, err)
	got, err := fsys.LstatAttr("/etc")
	require.NoError(t, err)
	require.Equal(t, fi.Mode(), got.Mode)

	// A parent reached through a relative link inside the root is kept.
	require.NoError(t, os.WriteFile(filepath.Join(etc, "d/x"), []byte("xy"), 0o600))
	require.NoError(t, os.Symlink("d", filepath.Join(etc, "alias")))
	got, err = fsys.LstatAttr("/etc/alias/x")
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Size)
	require.Equal(t, os.FileMode(0o600), got.Mode)
	eq, err := fsys.Equal("/etc/alias/x", 2, []byte("xy"))
	require.NoError(t, err)
	require.True(t, eq)

	_, err = fsys.LstatAttr("/etc/nothing")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = fsys.LstatAttr("/out/f")
	require.ErrorContains(t, err, "escapes the root")
	var esc *rootfs.EscapeError
	require.ErrorAs(t, err, &esc)
	require.Equal(t, "/out", esc.Link)
	_, err = fsys.LstatAttr("/etc/../x")
	require.ErrorContains(t, err, "not clean")
}
