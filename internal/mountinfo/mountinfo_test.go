package mountinfo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	in := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 7:3 / /srv/my\040data rw,relatime shared:12 master:3 - xfs /dev/loop3 rw,attr2
40 22 0:45 /sub /mnt/b rw - btrfs /dev/loop4 rw,space_cache=v2,subvolid=5
`
	got, err := Parse(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, []Mount{
		{ID: 22, Parent: 1, Major: 8, Minor: 1, Root: "/", MountPoint: "/", Options: "rw,relatime", FSType: "ext4", Source: "/dev/sda1", SuperOpts: "rw"},
		{ID: 36, Parent: 22, Major: 7, Minor: 3, Root: "/", MountPoint: "/srv/my data", Options: "rw,relatime", FSType: "xfs", Source: "/dev/loop3", SuperOpts: "rw,attr2"},
		{ID: 40, Parent: 22, Major: 0, Minor: 45, Root: "/sub", MountPoint: "/mnt/b", Options: "rw", FSType: "btrfs", Source: "/dev/loop4", SuperOpts: "rw,space_cache=v2,subvolid=5"},
	}, got)
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw",
		"x 1 8:1 / / rw - ext4 /dev/sda1 rw",
		"22 1 81 / / rw - ext4 /dev/sda1 rw",
	} {
		_, err := Parse(strings.NewReader(in + "\n"))
		require.Error(t, err, in)
		require.Contains(t, err.Error(), "line 1")
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:  "/a b",
		`/tab\011`: "/tab\t",
		`/plain`:   "/plain",
		`/bad\04`:  `/bad\04`,
		`/x\\y`:    `/x\\y`,
	} {
		require.Equal(t, want, Unescape(in), in)
	}
}

func TestReadSelf(t *testing.T) {
	ms, err := Read()
	require.NoError(t, err)
	var root bool
	for _, m := range ms {
		if m.MountPoint == "/" {
			root = true
		}
	}
	require.True(t, root, "no / in /proc/self/mountinfo")
}
