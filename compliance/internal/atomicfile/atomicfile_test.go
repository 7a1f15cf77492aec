package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/internal/atomicfile"
)

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
