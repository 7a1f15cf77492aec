package fake_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
)

func TestStartRefusedWhileUsedResourceIsDown(t *testing.T) {
	tests := []struct {
		name    string
		up      []string // started first, in this order
		rid     string
		refused string // "" when the start must succeed
	}{
		{"fs before its disk", []string{"disk#00", "fs#00"}, "fs#01",
			"fs#01: start: disk#01 (providing /dev/disk/by-id/google-spdsvc01.disk.01.0) is not up: ordering violation"},
		{"fs before the fs of its parent dir", []string{"disk#01"}, "fs#01",
			"fs#01: start: fs#00 (providing /spdsvc01) is not up: ordering violation"},
		{"fs with its disk and parent", []string{"disk#00", "fs#00", "disk#01"}, "fs#01", ""},
		{"container before its pod fs", []string{"disk#00", "fs#00", "disk#01"}, "container#01db",
			"container#01db: start: fs#01 (providing /spdsvc01/pod01/db/data), fs#01 (providing /spdsvc01/pod01/db/conf), fs#01 (providing /spdsvc01/pod01/db/init) are not up"},
		{"container before the docker data dir fs", nil, "container#01db",
			"fs#00 (providing /spdsvc01/docker)"},
		{"container with its filesystems", []string{"disk#00", "fs#00", "disk#01", "fs#01"}, "container#01db", ""},
		{"ip.docker before its container", []string{"disk#00", "fs#00", "disk#01", "fs#01"}, "ip#01db",
			"ip#01db: start: container#01db (providing rid:container#01db) is not up: ordering violation"},
		{"ip.docker after the other container", []string{"disk#00", "fs#00", "disk#01", "fs#01", "container#01sm"}, "ip#01db",
			"container#01db (providing rid:container#01db) is not up"},
		{"ip.docker after its container", []string{"disk#00", "fs#00", "disk#01", "fs#01", "container#01db"}, "ip#01db", ""},
		{"fs on a LABEL keeps the group ordering", nil, "fs#00", ""},
		{"ip.gce depends on nothing", nil, "ip#01dbg", ""},
		{"disk depends on nothing", nil, "disk#01", ""},
		{"sync depends on nothing", nil, "sync#i0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rs := seedFixture(t.TempDir()).build(t, fake.Registry(fake.Options{}))
			for _, rid := range tt.up {
				require.NoError(t, rs[rid].Start(ctx), rid)
			}
			err := rs[tt.rid].Start(ctx)
			if tt.refused == "" {
				require.NoError(t, err)
				require.Contains(t, []string{"up", "stdby up"}, status(t, rs[tt.rid]))
				return
			}
			require.ErrorIs(t, err, fake.ErrOrder)
			require.ErrorContains(t, err, tt.refused)
			require.Equal(t, "down", status(t, rs[tt.rid]), "a refused start changes nothing")
		})
	}
}

func TestProvisionRefusedWhileUsedResourceIsDown(t *testing.T) {
	// mkfs needs the device: provision orders like start.
	ctx := context.Background()
	rs := seedFixture(t.TempDir()).build(t, fake.Registry(fake.Options{}))
	require.NoError(t, rs["fs#00"].(resource.Provisioner).Provision(ctx))
	require.NoError(t, rs["fs#00"].Start(ctx))
	err := rs["fs#01"].(resource.Provisioner).Provision(ctx)
	require.ErrorIs(t, err, fake.ErrOrder)
	require.ErrorContains(t, err, "fs#01: provision: disk#01")
	require.NoError(t, rs["disk#01"].(resource.Provisioner).Provision(ctx))
	require.NoError(t, rs["disk#01"].Start(ctx))
	require.NoError(t, rs["fs#01"].(resource.Provisioner).Provision(ctx))
}

func TestStopRefusedWhileUserIsUp(t *testing.T) {
	tests := []struct {
		name    string
		down    []string // stopped first, in this order
		rid     string
		refused string
	}{
		{"disk under its fs", nil, "disk#01",
			"disk#01: stop: fs#01 (using /dev/disk/by-id/google-spdsvc01.disk.01.0) is still up: ordering violation"},
		{"fs under containers", nil, "fs#01",
			"fs#01: stop: container#01db (using /spdsvc01/pod01/db/data), container#01db (using /spdsvc01/pod01/db/conf)"},
		{"parent fs under a pod fs and the docker data dir", []string{"ip#01db", "ip#01sm", "container#01db", "container#01sm"}, "fs#00",
			"fs#00: stop: fs#01 (using /spdsvc01) is still up"},
		{"fs once its containers are down", []string{"ip#01db", "container#01db", "ip#01sm", "container#01sm"}, "fs#01", ""},
		{"container with its ip up: the ip goes with the netns", nil, "container#01db", ""},
		{"disk once its fs is down", []string{"ip#01db", "container#01db", "ip#01sm", "container#01sm", "fs#01"}, "disk#01", ""},
		{"disk of a LABEL fs keeps the group ordering", nil, "disk#00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rs := seedFixture(t.TempDir()).build(t, fake.Registry(fake.Options{}))
			for _, rid := range append(podStartOrder("01"), "container#01sm", "ip#01sm") {
				require.NoError(t, rs[rid].Start(ctx), rid)
			}
			for _, rid := range tt.down {
				require.NoError(t, rs[rid].Stop(ctx), rid)
			}
			err := rs[tt.rid].Stop(ctx)
			if tt.refused == "" {
				require.NoError(t, err)
				require.Contains(t, []string{"down", "stdby down"}, status(t, rs[tt.rid]))
				return
			}
			require.ErrorIs(t, err, fake.ErrOrder)
			require.ErrorContains(t, err, tt.refused)
			require.Contains(t, []string{"up", "stdby up"}, status(t, rs[tt.rid]), "a refused stop changes nothing")
		})
	}
}

func TestIPDockerLivesInItsContainerNetns(t *testing.T) {
	ctx := context.Background()
	rs := seedFixture(t.TempDir()).build(t, fake.Registry(fake.Options{}))
	for _, rid := range podStartOrder("01") {
		require.NoError(t, rs[rid].Start(ctx), rid)
	}
	require.Equal(t, "up", status(t, rs["ip#01db"]))
	// stopcontainer: the address goes away with the namespace...
	require.NoError(t, rs["container#01db"].Stop(ctx))
	require.Equal(t, "down", status(t, rs["ip#01db"]))
	// ... and is not in the new namespace of a restarted container.
	require.NoError(t, rs["container#01db"].Start(ctx))
	require.Equal(t, "down", status(t, rs["ip#01db"]))
	require.NoError(t, rs["ip#01db"].Start(ctx))
	require.Equal(t, "up", status(t, rs["ip#01db"]))
	// Stopping it after its container is idempotent.
	require.NoError(t, rs["container#01db"].Stop(ctx))
	require.NoError(t, rs["ip#01db"].Stop(ctx))
	require.Equal(t, "down", status(t, rs["ip#01db"]))
}

func TestOrderingIgnoresDisabledAndDroppedSiblings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := seedFixture(dir)
	// On spd01, pod 09 is disabled: its disk is no provider, so fs#09
	// (were it enabled by hand) uses a device nobody provides.
	f.add("fs#19", "fs.ext4", "dev", "/dev/disk/by-id/google-spdsvc01.disk.09.0", "mnt", "/srv/pod19")
	rs := f.build(t, fake.Registry(fake.Options{}))
	require.NoError(t, rs["fs#19"].Start(ctx))

	// A reload without disk#01 (same registry, same var dir): the stale
	// disk#01 of the first load no longer counts.
	reg := fake.Registry(fake.Options{})
	f.build(t, reg)
	delete(f.sections, "disk#01")
	rs2 := map[string]resource.Resource{}
	for _, rid := range f.rids() {
		rs2[rid] = f.buildOne(t, reg, rid)
	}
	require.NoError(t, rs2["disk#00"].Start(ctx))
	require.NoError(t, rs2["fs#00"].Start(ctx))
	require.NoError(t, rs2["fs#01"].Start(ctx))
}

func TestSiblingsAreSeparatedByVarDir(t *testing.T) {
	// Two services (or two nodes of one in a test) in one registry: the
	// disk of one is no provider for the other.
	ctx := context.Background()
	reg := fake.Registry(fake.Options{})
	a := seedFixture(t.TempDir())
	b := seedFixture(t.TempDir())
	b.node = "spd02"
	rsa := a.build(t, reg)
	rsb := b.build(t, reg)
	for _, rid := range []string{"disk#00", "fs#00", "disk#01", "fs#01"} {
		require.NoError(t, rsa[rid].Start(ctx), rid)
	}
	require.Equal(t, "down", status(t, rsb["fs#01"]))
	require.ErrorIs(t, rsb["fs#01"].Start(ctx), fake.ErrOrder)
}

func TestStandbyStatus(t *testing.T) {
	tests := []struct {
		name     string
		kv       []string
		node     string
		down, up string
	}{
		{"always_on nodes", []string{"always_on", "nodes"}, "spd02", "stdby down", "stdby up"},
		{"always_on this node", []string{"always_on", "spd03"}, "spd03", "stdby down", "stdby up"},
		{"always_on another node", []string{"always_on", "spd03"}, "spd01", "down", "up"},
		{"always_on drpnodes, not one", []string{"always_on", "drpnodes"}, "spd01", "down", "up"},
		{"standby keyword", []string{"standby", "true"}, "spd01", "stdby down", "stdby up"},
		{"normal", nil, "spd01", "down", "up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t.TempDir())
			f.node = tt.node
			f.add("disk#01", "disk.gce", append([]string{"names", "d1"}, tt.kv...)...)
			r := f.buildOne(t, fake.Registry(fake.Options{}), "disk#01")
			require.Equal(t, tt.down, status(t, r))
			require.NoError(t, r.Start(ctx))
			require.Equal(t, tt.up, status(t, r))
			st, err := r.Status(ctx)
			require.NoError(t, err)
			require.True(t, st.IsUp())
		})
	}
}

func TestProvisionAndUnprovision(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t.TempDir())
	f.add("container#01", "container.docker", "run_image", "mariadb")
	r := asFake(t, f.buildOne(t, fake.Registry(fake.Options{}), "container#01"))
	provisioned := func() bool {
		ok, err := r.Provisioned(ctx)
		require.NoError(t, err)
		return ok
	}
	require.False(t, provisioned())
	require.NoError(t, r.Provision(ctx))
	require.True(t, provisioned())
	require.Equal(t, "down", status(t, r), "provision does not start")
	st, err := r.State(ctx)
	require.NoError(t, err)
	require.Equal(t, r.ContainerID(), st.ContainerID)
	require.NoError(t, r.Provision(ctx), "provision is idempotent")

	require.NoError(t, r.Start(ctx))
	err = r.Unprovision(ctx)
	require.ErrorContains(t, err, "container#01: unprovision: refused: container#01 is up, stop it first")
	require.True(t, provisioned())

	require.NoError(t, r.Stop(ctx))
	require.NoError(t, r.Unprovision(ctx))
	require.False(t, provisioned())
	st, err = r.State(ctx)
	require.NoError(t, err)
	require.Empty(t, st.ContainerID)
}

func TestDryRunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := resource.WithDryRun(context.Background(), true)
	rec := fake.NewRecorder()
	opts := fake.Options{
		Latency: time.Hour,
		// The real start at the end fails at once.
		LatencyOf: map[string]time.Duration{"disk#01:start": 0},
		Recorder:  rec,
		Faults:    []fake.Fault{{RID: "*", Action: "start", Nth: 1}},
	}
	f := seedFixture(dir)
	rs := f.build(t, fake.Registry(opts))
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// A wrong order, an hour of latency and a fault on every first start:
	// the plan neither waits, nor checks, nor fails.
	for _, rid := range reversed(podStartOrder("01")) {
		require.NoError(t, rs[rid].(resource.Provisioner).Provision(dctx), rid)
		require.NoError(t, rs[rid].Start(dctx), rid)
		require.NoError(t, rs[rid].Stop(dctx), rid)
		require.NoError(t, rs[rid].(resource.Unprovisioner).Unprovision(dctx), rid)
	}
	require.NoDirExists(t, dir+"/fake", "a dry run writes no state")
	for _, c := range rec.Calls() {
		require.True(t, c.DryRun)
	}
	require.Empty(t, rec.Actions("start"))
	// Nothing was counted: the first real start still fails.
	require.ErrorIs(t, rs["disk#01"].Start(context.Background()), fake.ErrInjected)
}

func TestSyncUnprovisionsWhileUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t.TempDir())
	f.add("sync#i0", "sync.rsync", "target", "drpnodes nodes")
	r := asFake(t, f.buildOne(t, fake.Registry(fake.Options{}), "sync#i0"))
	require.NoError(t, r.Provision(ctx))
	require.Equal(t, "up", status(t, r))
	require.NoError(t, r.Unprovision(ctx), "a sync holds nothing a stop would release")
	ok, err := r.Provisioned(ctx)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, r.Stop(ctx))
	require.Equal(t, "down", status(t, r))
	require.NoError(t, r.Start(ctx))
	require.Equal(t, "up", status(t, r))
}

// TestUnprovisionKeepsPreexistingDisk: as the real disk drivers, a fake
// disk that existed before provision (saved provisioned) is kept by
// unprovision unless forced; one provision created is deleted.
func TestUnprovisionKeepsPreexistingDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(dir)
	f.add("disk#01", "disk.gce", "names", "d1")
	f.add("disk#02", "disk.gce", "names", "d2")
	rs := f.build(t, fake.Registry(fake.Options{}))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "fake"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fake", "disk#01.json"), []byte(`{"rid":"disk#01","driver":"disk.gce","provisioned":true}`), 0o600))
	pre, made := asFake(t, rs["disk#01"]), asFake(t, rs["disk#02"])
	require.NoError(t, made.Provision(ctx))
	for _, r := range []*fake.Resource{pre, made} {
		require.NoError(t, r.Unprovision(ctx))
	}
	ok, err := pre.Provisioned(ctx)
	require.NoError(t, err)
	require.True(t, ok, "a disk that existed before provision is kept")
	ok, err = made.Provisioned(ctx)
	require.NoError(t, err)
	require.False(t, ok, "the disk provision created is deleted")

	require.NoError(t, pre.Unprovision(resource.WithForce(ctx, true)))
	ok, err = pre.Provisioned(ctx)
	require.NoError(t, err)
	require.False(t, ok, "forced")
}
