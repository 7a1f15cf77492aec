package rootfs_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/internal/rootfs"
)

// TestEqual covers the check's read: the same bytes, other bytes, a
// file longer or shorter than the size given (changed since its Lstat),
// a link inside the root (through the root), a link out of it (refused,
// the outside file unread), a FIFO (no hang), a file gone, and the
// parent directory replaced by a link out of the root after the FS kept
// it.
func TestEqual(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "elsewhere")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/sub"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	write := func(p, s string) {
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(s), 0o644))
	}
	write("etc/a", "hello\n")
	write("etc/big", strings.Repeat("x", 200<<10))
	write("etc/empty", "")
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("hello\n"), 0o644))
	require.NoError(t, os.Symlink("a", filepath.Join(root, "etc/in")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "etc/out")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644))

	fsys, err := rootfs.Open(root)
	require.NoError(t, err)
	defer fsys.Close()
	tests := []struct {
		name string
		path string
		size int64
		want string
		eq   bool
		err  string
	}{
		{"same", "/etc/a", 6, "hello\n", true, ""},
		{"other bytes", "/etc/a", 6, "hellO\n", false, ""},
		{"size differs", "/etc/a", 5, "hello", false, ""},
		{"grew since lstat", "/etc/a", 5, "hello", false, ""},
		{"shrank since lstat", "/etc/a", 7, "hello\n\n", false, ""},
		{"big same", "/etc/big", 200 << 10, strings.Repeat("x", 200<<10), true, ""},
		{"big last byte", "/etc/big", 200 << 10, strings.Repeat("x", 200<<10-1) + "y", false, ""},
		{"empty", "/etc/empty", 0, "", true, ""},
		{"link inside", "/etc/in", 6, "hello\n", true, ""},
		{"link out", "/etc/out", 6, "hello\n", false, "escapes the root"},
		{"fifo", "/etc/fifo", 0, "", true, ""},
		{"gone", "/etc/nothing", 6, "hello\n", false, "no such file"},
		{"not clean", "/etc/../a", 6, "hello\n", false, "not clean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eq, err := fsys.Equal(tt.path, tt.size, []byte(tt.want))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.eq, eq)
		})
	}

	// The kept parent is replaced by a link out of the root: a read
	// through the FS after a write sees the link and refuses it.
	require.NoError(t, os.Rename(filepath.Join(root, "etc/sub"), filepath.Join(base, "gone")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc/sub")))
	require.NoError(t, fsys.Chmod("/etc/a", 0o644)) // a write: kept parents forgotten
	_, err = fsys.Equal("/etc/sub/secret", 6, []byte("hello\n"))
	require.ErrorContains(t, err, "escapes the root")
}

// TestEqualSystemRoot: with the root "/" (the real system) a rule path
// is the host path, links followed as os.Open follows them.
func TestEqualSystemRoot(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, []byte("abc\n"), 0o644))
	require.NoError(t, os.Symlink(p, filepath.Join(dir, "link")))
	fsys, err := rootfs.Open("/")
	require.NoError(t, err)
	defer fsys.Close()
	for _, tt := range []struct {
		path string
		want string
		eq   bool
	}{
		{p, "abc\n", true},
		{p, "abd\n", false},
		{filepath.Join(dir, "link"), "abc\n", true},
	} {
		eq, err := fsys.Equal(tt.path, int64(len(tt.want)), []byte(tt.want))
		require.NoError(t, err, tt.path)
		require.Equal(t, tt.eq, eq, tt.path)
	}
	_, err = fsys.Equal(filepath.Join(dir, "none"), 4, []byte("abc\n"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
