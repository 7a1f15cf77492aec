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
