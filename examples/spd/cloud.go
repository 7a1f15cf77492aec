package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	diskgce "github.com/svckit/svckit/driver/disk/gce"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
)

// Project and zone of the simulated GCE project; the zone is the one the
// spd form writes in the config's DEFAULT section.
const (
	gceProject = "spd-project"
	gceZone    = "europe-west1-b"
)

// cloud is the simulated GCE project: an in-process fake compute API
// (gcetest), one instance per node, each with its metadata server and its
// udev directory under the node's root.
type cloud struct {
	srv   *gcetest.Server
	nodes map[string]*gcetest.Instance
}

func newCloud() *cloud {
	return &cloud{srv: gcetest.NewServer(gceProject, gceZone), nodes: map[string]*gcetest.Instance{}}
}

func (c *cloud) Close() { c.srv.Close() }

// addNode creates the node's instance; attached disks show up as
// <root>/dev/disk/by-id/google-<device name>, as udev names them.
func (c *cloud) addNode(name, root string) (*gcetest.Instance, error) {
	if in, ok := c.nodes[name]; ok {
		return in, nil
	}
	devDir := devDir(root)
	if err := os.MkdirAll(devDir, 0o755); err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	in := c.srv.AddInstance(name)
	in.SetDevDir(devDir)
	c.nodes[name] = in
	return in, nil
}

func devDir(root string) string { return filepath.Join(root, "dev", "disk", "by-id") }

// driverKinds says which driver of the registry is real and which fake.
type driverKinds map[string]string

// nodeRegistry builds the registry of one node: a fake of every driver,
// then the real disk.gce talking to the fake compute API as this node
// (its metadata server), its device nodes in the node's udev directory.
// ip.gce stays fake: its address half needs netlink, which needs root.
func nodeRegistry(c *cloud, node, root string, fopts fake.Options) (*driver.Registry, driverKinds, error) {
	in, err := c.addNode(node, root)
	if err != nil {
		return nil, nil, err
	}
	reg := fake.Registry(fopts)
	kinds := driverKinds{}
	for _, id := range reg.IDs() {
		kinds[id] = "fake"
	}
	real := diskgce.NewFactory(diskgce.WithGCE(
		gce.WithEndpoint(c.srv.URL),
		gce.WithMetadataHost(in.MetadataHost),
		gce.WithPollInterval(0, 0),
	))
	reg.Replace(disk.GCE, real)
	// The fs half (gcetest.UseDevDirForFS) is left out so that print
	// status shows the seed's labels. The seed's pod fs still comes after
	// every disk: it is mounted under fs#00's mount point, and fs#00
	// (LABEL=) is ordered by group, after the disks.
	gcetest.UseDevDir(reg, devDir(root))
	kinds["disk.gce"] = "real (fake compute API " + c.srv.URL + ")"
	return reg, kinds, nil
}
