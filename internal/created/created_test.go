package created

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFileOwnership(t *testing.T) {
	dir := t.TempDir()
	s := Open(filepath.Join(dir, "var"))
	file := filepath.Join(dir, "disk.img")

	// No file, no record.
	_, _, err := s.OwnsFile(file)
	require.NoError(t, err, "no record: not owned, the file is not even looked at")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	owned, why, err := s.OwnsFile(file)
	require.NoError(t, err)
	require.False(t, owned)
	require.Equal(t, "not created by this service", why)

	require.NoError(t, s.PutFile("disk#01", file))
	owned, _, err = s.OwnsFile(file)
	require.NoError(t, err)
	require.True(t, owned)
	rec, ok, err := s.Get(KindFile, file)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "disk#01", rec.RID)

	// Written to: still the same file.
	require.NoError(t, os.WriteFile(file, []byte("data written since"), 0o600))
	owned, _, err = s.OwnsFile(file)
	require.NoError(t, err)
	require.True(t, owned, "content changes do not change identity")

	// Replaced by another file (another inode, renamed over it).
	other := filepath.Join(dir, "other")
	require.NoError(t, os.WriteFile(other, []byte("x"), 0o600))
	require.NoError(t, os.Rename(other, file))
	owned, why, err = s.OwnsFile(file)
	require.NoError(t, err)
	require.False(t, owned)
	require.Contains(t, why, "not created by this service (replaced since it was created on ")

	// Deleted and created again at the same path: the inode number may be
	// reused; the birth time tells them apart where the filesystem has it.
	require.NoError(t, s.PutFile("disk#01", file))
	before, err := StatFile(file)
	require.NoError(t, err)
	require.NoError(t, os.Remove(file))
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	after, err := StatFile(file)
	require.NoError(t, err)
	if before.Btime == 0 && before.Ino == after.Ino {
		t.Logf("%s keeps no birth time and reused inode %d: a re-created file cannot be told apart here", dir, before.Ino)
	} else {
		owned, _, err = s.OwnsFile(file)
		require.NoError(t, err)
		require.False(t, owned, "a re-created file is another file")
	}

	require.NoError(t, s.Delete(KindFile, file))
	_, ok, err = s.Get(KindFile, file)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.Delete(KindFile, file), "deleting a missing record")
}

func TestGCEDiskOwnership(t *testing.T) {
	s := Open(t.TempDir())
	name := "projects/p/zones/z/disks/d1"
	owned, why, err := s.OwnsGCEDisk(name, 7)
	require.NoError(t, err)
	require.False(t, owned)
	require.Equal(t, "not created by this service", why)

	require.NoError(t, s.PutGCEDisk("disk#01", name, 7, "https://x/"+name))
	owned, _, err = s.OwnsGCEDisk(name, 7)
	require.NoError(t, err)
	require.True(t, owned)
	owned, why, err = s.OwnsGCEDisk(name, 8)
	require.NoError(t, err)
	require.False(t, owned, "a disk deleted and created again under the name")
	require.Contains(t, why, "had id 7, this one has id 8")
}

func TestNoStateDir(t *testing.T) {
	s := Open("")
	require.ErrorIs(t, s.PutFile("disk#01", "/etc/hostname"), ErrNoStateDir)
	owned, _, err := s.OwnsFile("/etc/hostname")
	require.NoError(t, err)
	require.False(t, owned)
}

func TestCorruptRecord(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	require.NoError(t, s.PutGCEDisk("disk#01", "d", 1, "l"))
	p := s.path(KindGCEDisk, "d")
	require.NoError(t, os.WriteFile(p, []byte("{"), 0o600))
	_, _, err := s.OwnsGCEDisk("d", 1)
	require.ErrorContains(t, err, p+": unexpected end of JSON input")
}
