package rootfs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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
