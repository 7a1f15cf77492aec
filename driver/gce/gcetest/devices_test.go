package gcetest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/svc"
)

// TestUseDevDir: with the node's udev directory rewired, the fs on a GCE
// disk still starts after its disk and stops before it, and a dev_dir
// the config sets itself is kept.
func TestUseDevDir(t *testing.T) {
	conf := `[DEFAULT]
nodes = n1

[disk#01]
type = gce
names = d1

[fs#01]
type = ext4
dev = /dev/disk/by-id/google-s.disk.01.0
mnt = /srv/p1

[disk#02]
type = gce
names = d2
dev_dir = /custom

[fs#02]
type = ext4
dev = /custom/google-s.disk.02.0
mnt = /srv/p2
`
	plan := func(rewire bool) (start, stop [][]string, s *svc.Service) {
		reg := fake.Registry(fake.Options{Memory: true})
		if rewire {
			gcetest.UseDevDir(reg, "/run/node1/dev/disk/by-id")
			gcetest.UseDevDirForFS(reg, "/run/node1/dev/disk/by-id")
		}
		s, err := svc.Parse(context.Background(), "s.conf", []byte(conf), svc.Options{Node: "n1", Registry: reg, VarDir: t.TempDir()})
		require.NoError(t, err)
		r, err := s.Start(context.Background(), svc.ActionOptions{DryRun: true, Selection: svc.Selection{RIDs: []string{"disk", "fs"}}})
		require.NoError(t, err)
		r2, err := s.Stop(context.Background(), svc.ActionOptions{DryRun: true, Selection: svc.Selection{RIDs: []string{"disk", "fs"}}})
		require.NoError(t, err)
		return r.Plan, r2.Plan, s
	}
	start, stop, s := plan(true)
	require.Equal(t, [][]string{{"disk#01", "disk#02"}, {"fs#01", "fs#02"}}, start)
	require.Equal(t, [][]string{{"fs#01", "fs#02"}, {"disk#01", "disk#02"}}, stop)
	d1, _ := s.Resource("disk#01")
	require.Equal(t, []string{"/run/node1/dev/disk/by-id/google-s.disk.01.0"}, d1.(interface{ Provides() []string }).Provides())
	d2, _ := s.Resource("disk#02")
	require.Equal(t, []string{"/custom/google-s.disk.02.0"}, d2.(interface{ Provides() []string }).Provides(), "a dev_dir of the config's own is kept")
	f1, _ := s.Resource("fs#01")
	require.Equal(t, "/run/node1/dev/disk/by-id/google-s.disk.01.0@/srv/p1", f1.Label())
}
