package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/ip"
	"github.com/svckit/svckit/resource"
)

func testHostNode() *hostNode {
	return newHostNode("spd02", "r1", "/run/x/spd02", "/run/x/san", "/spdsvc01", "/run/netns/n2",
		map[string]string{"tanji/spdc": "svckit-spd/tanji-spdc:latest"}, LabelRun+"=x")
}

// sections is a Section func over the given configs.
func sections(cfgs ...driver.Config) func(string) (driver.Config, bool) {
	return func(rid string) (driver.Config, bool) {
		for _, c := range cfgs {
			if c.RID == rid {
				return c, true
			}
		}
		return driver.Config{}, false
	}
}

// TestHostNodeRewrites checks what -real changes in each node's configs
// (no root needed: the configs only).
func TestHostNodeRewrites(t *testing.T) {
	h := testHostNode()
	disk00 := driver.Config{RID: "disk#00", Svcname: "spdsvc01", Nodename: "spd02", Nodes: []string{"spd01", "spd02"}, Manifest: disk.GCE, Values: map[string]string{"names": "spdsvc01-spd02", "size": "20g", "always_on": "nodes", "gce_zone": "z"}}

	lc, err := h.loopConfig(disk00)
	require.NoError(t, err)
	require.Equal(t, disk.Loop.ID, lc.Manifest.ID)
	require.Equal(t, map[string]string{"file": "/run/x/san/spdsvc01-spd02.img", "link": "/run/x/spd02/dev/disk/by-id/google-spdsvc01.disk.00.0", "size": "20g", "always_on": "nodes"}, lc.Values)
	require.Equal(t, "spdsvc01-spd02", disk00.Values["names"], "the section's own values are not changed")
	r, err := h.disk(context.Background(), disk00)
	require.NoError(t, err)
	require.Equal(t, "loop /run/x/san/spdsvc01-spd02.img", r.Label())
	require.True(t, r.Flags().Standby)
	_, err = h.loopConfig(driver.Config{RID: "disk#09", Values: map[string]string{"names": "a b"}})
	require.ErrorContains(t, err, `disk#09: names "a b": -real stands one loop file in for one GCE disk: expected one name`)

	// fs: paths under the node's root, LABEL= per node, formatted on
	// disk#00's link.
	var got driver.Config
	capture := func(_ context.Context, cfg driver.Config) (resource.Resource, error) { got = cfg; return nil, nil }
	_, err = h.fs(capture)(context.Background(), driver.Config{RID: "fs#00", Manifest: fs.Btrfs, Section: sections(disk00),
		Values: map[string]string{"dev": "LABEL=spdsvc01", "mnt": "/spdsvc01"}})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"dev": "LABEL=spdsvc01-spd02-r1", "mnt": "/run/x/spd02/spdsvc01", "mkfs_dev": "/run/x/spd02/dev/disk/by-id/google-spdsvc01.disk.00.0"}, got.Values)
	_, err = h.fs(capture)(context.Background(), driver.Config{RID: "fs#16", Manifest: fs.Ext4,
		Values: map[string]string{"dev": "/dev/disk/by-id/google-spdsvc01.disk.16.0", "mnt": "/spdsvc01/pod16"}})
	require.NoError(t, err)
	require.Equal(t, "/run/x/spd02/dev/disk/by-id/google-spdsvc01.disk.16.0", got.Values["dev"])
	require.Equal(t, "/run/x/spd02/spdsvc01/pod16", got.Values["mnt"])
	_, err = h.fs(capture)(context.Background(), driver.Config{RID: "fs#99", Values: map[string]string{"dev": "/dev/sdb", "mnt": "/srv/other"}})
	require.ErrorContains(t, err, "fs#99: mnt /srv/other: -real keeps a node's paths in its directory and maps only the service's own paths: expected a path under /spdsvc01")
	_, err = h.fs(capture)(context.Background(), driver.Config{RID: "fs#98", Values: map[string]string{"dev": "/dev/sdb", "mnt": "/spdsvc01x"}})
	require.Error(t, err, "a sibling of the service root is not under it")

	// container: node name, local image, node paths in the binds only.
	ctr := driver.Config{RID: "container#16sm", Svcname: "spdsvc01", Manifest: container.Docker,
		Defaults: map[string]string{"docker_data_dir": "/spdsvc01/docker"},
		Values:   map[string]string{"run_image": "tanji/spdc", "run_args": "--net=none\n-e MYSQL_ROOT_PASSWORD=pw\n-v /etc/localtime:/etc/localtime:ro\n-v /spdsvc01/pod16/sm/data:/var/lib/mysql:rw\n--volume=/spdsvc01/pod16/sm/conf:/etc/mysql/conf.d"}}
	cc, err := h.containerConfig(ctr)
	require.NoError(t, err)
	require.Empty(t, cc.Values["name"], "on the node's private daemon the container keeps the seed's name")
	require.Equal(t, "spdsvc01.container.16sm", container.Name(cc))
	require.Equal(t, "svckit-spd/tanji-spdc:latest", cc.Values["run_image"])
	require.Equal(t, "never", cc.Values["pull"])
	require.Equal(t, "--net=none\n-e MYSQL_ROOT_PASSWORD=pw\n-v /etc/localtime:/etc/localtime:ro\n-v /run/x/spd02/spdsvc01/pod16/sm/data:/var/lib/mysql:rw\n--volume=/run/x/spd02/spdsvc01/pod16/sm/conf:/etc/mysql/conf.d --label "+LabelRun+"=x", cc.Values["run_args"])
	require.Equal(t, "/run/x/spd02/spdsvc01/docker", cc.Defaults["docker_data_dir"])
	require.Equal(t, "/spdsvc01/docker", ctr.Defaults["docker_data_dir"], "the service's defaults are not changed")
	d, err := container.DaemonOf(cc)
	require.NoError(t, err)
	require.True(t, d.Private, "-real runs the containers on the node's private daemon")
	// Without a private daemon, the host's plays every node's: the node
	// and the run name the container.
	hostd := ctr
	hostd.Defaults = map[string]string{"docker_data_dir": "/spdsvc01/docker", "docker_daemon_private": "false"}
	cc2, err := h.containerConfig(hostd)
	require.NoError(t, err)
	require.Equal(t, "spd02-r1.spdsvc01.container.16sm", cc2.Values["name"])
	ctr.Values = map[string]string{"run_image": "mysql"}
	_, err = h.containerConfig(ctr)
	require.ErrorContains(t, err, "container#16sm: run_image mysql: -real runs local stand-ins of the seed's images only (no registry): expected one of tanji/spdc")

	// ip.docker: br0 of the node's namespace, the container under its
	// node name.
	ctr.Values = map[string]string{"run_image": "tanji/spdc"}
	_, err = h.ipDocker(capture)(context.Background(), driver.Config{RID: "ip#16sm", Manifest: ip.Docker, Section: sections(ctr),
		Values: map[string]string{"ipname": "10.0.0.63", "netmask": "24", "ipdev": "br0", "container_rid": "container#16sm"}})
	require.NoError(t, err)
	require.Equal(t, "/run/netns/n2", got.Values["ipdev_netns"])
	c, ok := got.Section("container#16sm")
	require.True(t, ok)
	require.Equal(t, "spdsvc01.container.16sm", container.Name(c))
	require.Equal(t, "/run/x/spd02/spdsvc01/docker", c.Defaults["docker_data_dir"])
}

// TestHostNodeDockerd checks the node's private daemon: its data root in
// the node's directory, its socket in the node's var directory, and the
// stand-in images loaded by its start (the wrapper keeps the driver's
// ordering).
func TestHostNodeDockerd(t *testing.T) {
	h := testHostNode()
	cfg := driver.Config{RID: container.DockerdRID, Svcname: "spdsvc01", Manifest: container.Dockerd, VarDir: "/run/x/spd02/var/spdsvc01",
		Defaults: map[string]string{"docker_data_dir": "/spdsvc01/docker"}}
	r, err := h.dockerd(dockerd.New)(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, "dockerd /run/x/spd02/spdsvc01/docker", r.Label())
	u, ok := r.(resource.User)
	require.True(t, ok, "the wrapper keeps the daemon's Uses")
	uses, order := u.Uses()
	require.Equal(t, []string{"/run/x/spd02/spdsvc01/docker"}, uses)
	require.Equal(t, resource.OrderByUses, order)
	dc, ok := h.daemon.config()
	require.True(t, ok)
	require.Equal(t, "/run/x/spd02/var/spdsvc01", dc.VarDir)
	require.Equal(t, "/spdsvc01/docker", cfg.Defaults["docker_data_dir"], "the service's defaults are not changed")
	require.Equal(t, "/run/x/spd02/var/spdsvc01/docker.sock", r.(*standInDaemon).Socket)

	for _, tc := range []struct{ dir, want string }{
		{"/srv/docker", "container#dockerd: docker_data_dir /srv/docker: -real keeps a node's paths in its directory"},
		{"/spdsvc01x/docker", "expected a path under /spdsvc01"},
	} {
		cfg.Defaults = map[string]string{"docker_data_dir": tc.dir}
		_, err = h.dockerd(dockerd.New)(context.Background(), cfg)
		require.ErrorContains(t, err, tc.want)
	}
}

// TestLocalImage checks the names of the stand-ins and of the files they
// write.
func TestLocalImage(t *testing.T) {
	require.Equal(t, "svckit-spd/tanji-spdc:latest", localImage("tanji/spdc"))
	require.Equal(t, "svckit-spd/tanji-spdc:2", localImage("tanji/spdc:2"))
	require.Equal(t, "svckit-spd/registry-5000-x-y:latest", localImage("registry:5000/x/y"))
	require.Equal(t, "svckit-tanji-spdc-2.txt", standInFile("tanji/spdc:2"))
	require.Equal(t, "svckit-mariadb-latest.txt", standInFile("mariadb"))
}
