package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spdsvc01.conf")
	for _, tc := range []struct {
		data string
		perm os.FileMode
	}{
		{data: "v1\n", perm: 0o600},
		{data: "v2, longer than the first\n", perm: 0o644},
		{data: "", perm: 0o600},
	} {
		require.NoError(t, atomicfile.Write(path, []byte(tc.data), tc.perm))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, tc.data, string(got))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, tc.perm, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")

	err = atomicfile.Write(filepath.Join(dir, "missing", "x"), []byte("x"), 0o600)
	require.Error(t, err)
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a/b/c.conf")
	require.NoError(t, atomicfile.WriteFile(p, []byte("one\n"), 0o640, atomicfile.Keep))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "the umask does not decide the mode")

	// A reader holding the old file still sees the old content: the new
	// one is a new inode renamed over the name.
	old, err := os.Open(p)
	require.NoError(t, err)
	defer old.Close()
	require.NoError(t, atomicfile.WriteFile(p, []byte("two\n"), 0o600, atomicfile.Keep))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "two\n", string(b))
	buf := make([]byte, 16)
	n, _ := old.Read(buf)
	require.Equal(t, "one\n", string(buf[:n]))

	ents, err := os.ReadDir(filepath.Dir(p))
	require.NoError(t, err)
	require.Len(t, ents, 1, "no temporary file left behind")
}

func TestWriteFileError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
	err := atomicfile.WriteFile(filepath.Join(dir, "file/sub/x"), []byte("x"), 0o644, atomicfile.Keep)
	require.Error(t, err)
	require.Contains(t, err.Error(), "file/sub")
}

func TestWriteFileIn(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "escape")))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()

	require.NoError(t, atomicfile.WriteFileIn(root, "etc/a.conf", []byte("a\n"), 0o640, atomicfile.Keep))
	b, err := os.ReadFile(filepath.Join(dir, "etc/a.conf"))
	require.NoError(t, err)
	require.Equal(t, "a\n", string(b))
	fi, err := os.Stat(filepath.Join(dir, "etc/a.conf"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	ents, err := os.ReadDir(filepath.Join(dir, "etc"))
	require.NoError(t, err)
	require.Len(t, ents, 1, "no temporary file left behind")

	// A symbolic link leading out of the root is not followed.
	err = atomicfile.WriteFileIn(root, "escape/b.conf", []byte("b\n"), 0o644, atomicfile.Keep)
	require.Error(t, err)
	ents, err = os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, ents, "nothing written outside the root")
}
