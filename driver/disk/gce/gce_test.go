package gce_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	diskgce "github.com/svckit/svckit/driver/disk/gce"
	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/resource"
)

const (
	project = "svckit-test"
	zone    = "europe-west1-b"
	svcname = "spdsvc01"
)

type env struct {
	s     *gcetest.Server
	nodes map[string]*gcetest.Instance
	dev   map[string]string
	// varDir is the service's state directory on each node.
	varDir map[string]string
}

func newEnv(t *testing.T, nodes ...string) *env {
	t.Helper()
	e := &env{s: gcetest.NewServer(project, zone), nodes: map[string]*gcetest.Instance{}, dev: map[string]string{}, varDir: map[string]string{}}
	t.Cleanup(e.s.Close)
	for _, n := range nodes {
		in := e.s.AddInstance(n)
		dir := t.TempDir()
		in.SetDevDir(dir)
		e.nodes[n], e.dev[n], e.varDir[n] = in, dir, t.TempDir()
	}
	return e
}

// disk makes the resource of section rid as node sees it: keywords from
// kv (name, value pairs) over the manifest defaults.
func (e *env) disk(t *testing.T, node, rid string, kv ...string) *diskgce.Disk {
	t.Helper()
	values := map[string]string{"disk_type": "pd-standard", "attach_timeout": "5s", "dev_dir": e.dev[node]}
	for i := 0; i+1 < len(kv); i += 2 {
		values[kv[i]] = kv[i+1]
	}
	f := diskgce.NewFactory(diskgce.WithGCE(
		gcec.WithEndpoint(e.s.URL),
		gcec.WithMetadataHost(e.nodes[node].MetadataHost),
		gcec.WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond),
		gcec.WithPollInterval(5*time.Millisecond, 50*time.Millisecond),
	))
	r, err := f(context.Background(), driver.Config{
		RID: rid, Manifest: disk.GCE, Svcname: svcname, Nodename: node,
		Nodes: []string{"spd01", "spd02"}, Values: values, VarDir: e.varDir[node],
		Defaults: map[string]string{"gce_zone": zone},
	})
	require.NoError(t, err)
	return r.(*diskgce.Disk)
}

func (e *env) attachedTo(t *testing.T, disk string) []string {
	t.Helper()
	return e.s.AttachedTo(disk)
}

func TestRegistered(t *testing.T) {
	d, ok := driver.Default().Lookup("disk.gce")
	require.True(t, ok)
	require.Equal(t, disk.GCE.ID, d.Manifest.ID)
	_, ok = d.Manifest.Keyword("dev_dir")
	require.True(t, ok)
}

func TestLabelAndProvides(t *testing.T) {
	e := newEnv(t, "spd01")
	d := e.disk(t, "spd01", "disk#01", "names", "spdsvc01-pod1 spdsvc01-pod1b")
	require.Equal(t, "gce volumes spdsvc01-pod1 spdsvc01-pod1b", d.Label())
	require.Equal(t, "disk#01", d.RID())
	require.Equal(t, []string{
		filepath.Join(e.dev["spd01"], "google-spdsvc01.disk.01.0"),
		filepath.Join(e.dev["spd01"], "google-spdsvc01.disk.01.1"),
	}, d.Provides())
	uses, order := d.Uses()
	require.Empty(t, uses)
	require.Equal(t, resource.OrderByUses, order, "a cloud disk depends on nothing")
	var _ resource.Provider = d
	var _ resource.User = d
	var _ resource.Provisioner = d
	var _ resource.Unprovisioner = d
	var _ resource.ProvisionChecker = d
}

func TestProvision(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	d := e.disk(t, "spd01", "disk#01", "names", "spdsvc01-pod1 spdsvc01-pod2", "size", "17g", "disk_type", "pd-ssd", "description", "pod disk")

	ok, err := d.Provisioned(ctx)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, d.Provision(ctx))
	for _, n := range []string{"spdsvc01-pod1", "spdsvc01-pod2"} {
		pd, ok := e.s.Disk(n)
		require.True(t, ok, n)
		require.EqualValues(t, 17, pd.GetSizeGb())
		require.Equal(t, "pd-ssd", gcec.LastSegment(pd.GetType()))
		require.Equal(t, "pod disk", pd.GetDescription())
	}
	ok, err = d.Provisioned(ctx)
	require.NoError(t, err)
	require.True(t, ok)

	// A second provision creates nothing, and an existing disk of another
	// size is left as it is.
	inserts := e.s.CountCalls("POST", "/disks")
	bigger := e.disk(t, "spd01", "disk#01", "names", "spdsvc01-pod1 spdsvc01-pod2", "size", "30g")
	require.NoError(t, bigger.Provision(ctx))
	require.Equal(t, inserts, e.s.CountCalls("POST", "/disks"))
	pd, _ := e.s.Disk("spdsvc01-pod1")
	require.EqualValues(t, 17, pd.GetSizeGb())
	require.Zero(t, e.s.CountCalls("DELETE", "/disks"))
}

func TestProvisionErrors(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	err := e.disk(t, "spd01", "disk#01", "names", "d1").Provision(ctx)
	require.ErrorContains(t, err, "disk#01: provision: disk d1 does not exist and size is not set")

	err = e.disk(t, "spd01", "disk#02", "names", "Bad_Name", "size", "1g").Provision(ctx)
	require.ErrorContains(t, err, "disk#02: provision: gce: create disk Bad_Name: Invalid value for field 'resource.name'")
	require.Empty(t, e.s.Disks()[1:], "only the boot disk")

	// Dry run: a plan only.
	var logs bytes.Buffer
	dctx := resource.WithLogger(resource.WithDryRun(ctx, true), slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, e.disk(t, "spd01", "disk#03", "names", "d3", "size", "1g").Provision(dctx))
	_, ok := e.s.Disk("d3")
	require.False(t, ok)
	require.Contains(t, logs.String(), "would create disk")
}

func TestStartStop(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	d := e.disk(t, "spd01", "disk#01", "names", "spdsvc01-pod1", "size", "1g")
	require.NoError(t, d.Provision(ctx))
	st, err := d.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.NoError(t, err)

	require.NoError(t, d.Start(ctx))
	require.Equal(t, []string{"spd01"}, e.attachedTo(t, "spdsvc01-pod1"))
	in, _ := e.s.Instance("spd01")
	require.Equal(t, "spdsvc01.disk.01.0", in.GetDisks()[1].GetDeviceName())
	require.FileExists(t, filepath.Join(e.dev["spd01"], "google-spdsvc01.disk.01.0"))
	st, err = d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)

	// Idempotent.
	attaches := e.s.CountCalls("POST", "/attachDisk")
	require.NoError(t, d.Start(ctx))
	require.Equal(t, attaches, e.s.CountCalls("POST", "/attachDisk"))

	require.NoError(t, d.Stop(ctx))
	require.Empty(t, e.attachedTo(t, "spdsvc01-pod1"))
	require.NoFileExists(t, filepath.Join(e.dev["spd01"], "google-spdsvc01.disk.01.0"))
	require.NoError(t, d.Stop(ctx))
	st, _ = d.Status(ctx)
	require.Equal(t, resource.Down, st)
}

func TestStartMissingDisk(t *testing.T) {
	e := newEnv(t, "spd01")
	err := e.disk(t, "spd01", "disk#01", "names", "nope").Start(context.Background())
	require.ErrorContains(t, err, "disk#01: start: disk nope does not exist: provision the service first")
}

// A standby (always_on) disk stays attached when the service stops (the
// scheduler does not stop it): the start on another node moves it.
func TestStartMovesDisk(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	on1 := e.disk(t, "spd01", "disk#16", "names", "spdsvc01-pod16", "size", "17g", "always_on", "nodes")
	on2 := e.disk(t, "spd02", "disk#16", "names", "spdsvc01-pod16", "size", "17g", "always_on", "nodes")
	require.True(t, on1.Flags().Standby)
	require.NoError(t, on1.Provision(ctx))
	require.NoError(t, on1.Start(ctx))
	require.Equal(t, []string{"spd01"}, e.attachedTo(t, "spdsvc01-pod16"))

	st, err := on2.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.ErrorContains(t, err, "spdsvc01-pod16 is attached to spd01")

	require.NoError(t, on2.Start(ctx))
	require.Equal(t, []string{"spd02"}, e.attachedTo(t, "spdsvc01-pod16"))
	require.NoFileExists(t, filepath.Join(e.dev["spd01"], "google-spdsvc01.disk.16.0"))
	require.FileExists(t, filepath.Join(e.dev["spd02"], "google-spdsvc01.disk.16.0"))

	// The detach from spd01 came before the attach to spd02.
	var order []string
	for _, c := range e.s.Calls() {
		if c.Method == "POST" && (strings.HasSuffix(c.Path, "/detachDisk") || strings.HasSuffix(c.Path, "/attachDisk")) {
			order = append(order, strings.TrimPrefix(c.Path, "/compute/v1/projects/"+project+"/zones/"+zone+"/instances/"))
		}
	}
	require.Equal(t, []string{"spd01/attachDisk", "spd01/detachDisk", "spd02/attachDisk"}, order)
	st, _ = on1.Status(ctx)
	require.Equal(t, resource.Down, st)
	st, _ = on2.Status(ctx)
	require.Equal(t, resource.Up, st)
}

func TestStartRetries503(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	d := e.disk(t, "spd01", "disk#01", "names", "d1", "size", "1g")
	require.NoError(t, d.Provision(ctx))
	e.s.FailRequests("POST", "/attachDisk", 503, 2)
	require.NoError(t, d.Start(ctx))
	require.Equal(t, []string{"spd01"}, e.attachedTo(t, "d1"))
	n := 0
	for _, c := range e.s.Calls() {
		if c.Status == 503 {
			n++
		}
	}
	require.Equal(t, 2, n)
}

func TestStartOperationErrorRollsBack(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	d := e.disk(t, "spd01", "disk#01", "names", "d1 d2", "size", "1g")
	require.NoError(t, d.Provision(ctx))
	e.s.FailOperations(gcetest.OperationFault{Type: "attachDisk", Match: "disks/d2", Code: "RESOURCE_NOT_READY", Message: "The resource is not ready", Times: 4})
	err := d.Start(ctx)
	require.Error(t, err)
	require.ErrorContains(t, err, "disk#01: start: gce: attach disk d2 to spd01")
	require.ErrorContains(t, err, "RESOURCE_NOT_READY: The resource is not ready")
	var oe *gcec.OperationError
	require.ErrorAs(t, err, &oe)
	require.Empty(t, e.attachedTo(t, "d1"), "d1, attached by the failed start, is detached again")
	require.Empty(t, e.attachedTo(t, "d2"))
}

func TestAttachTimeout(t *testing.T) {
	e := newEnv(t, "spd01")
	e.nodes["spd01"].SetDevDir("") // no udev: the device never shows up
	ctx := context.Background()
	d := e.disk(t, "spd01", "disk#01", "names", "d1", "size", "1g", "attach_timeout", "200ms")
	require.NoError(t, d.Provision(ctx))
	err := d.Start(ctx)
	require.ErrorContains(t, err, "did not appear within 200ms (attach_timeout)")
	require.Empty(t, e.attachedTo(t, "d1"))
}

func TestStuckDiskBoundedByContext(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	on1 := e.disk(t, "spd01", "disk#01", "names", "d1", "size", "1g")
	on2 := e.disk(t, "spd02", "disk#01", "names", "d1", "size", "1g")
	require.NoError(t, on1.Provision(ctx))
	require.NoError(t, on1.Start(ctx))
	e.s.StickDisk("d1")
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err := on2.Start(tctx)
	require.ErrorContains(t, err, "disk#01: start: move disk d1")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, []string{"spd01"}, e.attachedTo(t, "d1"))
}

func TestUnprovision(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	on1 := e.disk(t, "spd01", "disk#01", "names", "d1 d2", "size", "1g")
	on2 := e.disk(t, "spd02", "disk#01", "names", "d1 d2", "size", "1g")
	require.NoError(t, on1.Provision(ctx))
	require.NoError(t, on1.Start(ctx))

	// spd02 did not create them: kept, attached or not.
	require.NoError(t, on2.Unprovision(ctx))
	require.Len(t, e.s.Disks(), 4)
	err := on2.Unprovision(resource.WithForce(ctx, true))
	require.ErrorContains(t, err, "disk d1 is attached to spd01: stop the service there first; nothing deleted")
	require.Len(t, e.s.Disks(), 4)

	require.NoError(t, on1.Unprovision(ctx))
	_, ok := e.s.Disk("d1")
	require.False(t, ok)
	_, ok = e.s.Disk("d2")
	require.False(t, ok)
	require.NoError(t, on1.Unprovision(ctx), "nothing left to delete")
}

// TestUnprovisionKeepsWhatItDidNotCreate: a disk of the same name that
// existed before provision, or that was deleted and created again since,
// or that another node's provision created, is kept unless forced.
func TestUnprovisionKeepsWhatItDidNotCreate(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	before := e.s.CreateDisk("d0", 1)
	d := e.disk(t, "spd01", "disk#01", "names", "d0 d1 d2", "size", "1g")
	require.NoError(t, d.Provision(ctx))
	d1, _ := e.s.Disk("d1")
	d2, _ := e.s.Disk("d2")

	// d2 deleted behind the service's back and created again under its
	// name: another disk.
	other := e.disk(t, "spd02", "disk#01", "names", "d2")
	require.NoError(t, other.Unprovision(resource.WithForce(ctx, true)))
	again := e.s.CreateDisk("d2", 1)
	require.NotEqual(t, d2.GetId(), again.GetId())

	plan, err := d.PlanUnprovision(ctx)
	require.NoError(t, err)
	require.Len(t, plan, 3)
	require.Equal(t, fmt.Sprintf("kept disk d0 (id %d): not created by this service (--force deletes it)", before.GetId()), plan[0])
	require.Equal(t, fmt.Sprintf("delete disk d1 (id %d)", d1.GetId()), plan[1])
	require.Contains(t, plan[2], fmt.Sprintf("kept disk d2 (id %d): not created by this service (the disk it created on ", again.GetId()))
	require.Contains(t, plan[2], fmt.Sprintf("had id %d, this one has id %d)", d2.GetId(), again.GetId()))

	var logs bytes.Buffer
	lctx := resource.WithLogger(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, d.Unprovision(resource.WithDryRun(lctx, true)))
	require.Len(t, e.s.Disks(), 5, "dry run deleted (3 disks, 2 boot disks)")
	require.NoError(t, d.Unprovision(lctx))
	_, ok := e.s.Disk("d1")
	require.False(t, ok, "the disk provision created is deleted")
	for _, n := range []string{"d0", "d2"} {
		_, ok := e.s.Disk(n)
		require.True(t, ok, n+" kept")
	}
	require.Contains(t, logs.String(), "kept disk d0")
	require.Contains(t, logs.String(), "kept disk d2")

	// Another node's provision created d3: this node keeps it.
	on2 := e.disk(t, "spd02", "disk#02", "names", "d3", "size", "1g")
	require.NoError(t, on2.Provision(ctx))
	on1 := e.disk(t, "spd01", "disk#02", "names", "d3", "size", "1g")
	require.NoError(t, on1.Unprovision(ctx))
	_, ok = e.s.Disk("d3")
	require.True(t, ok)

	// Forced: deleted.
	plan, err = d.PlanUnprovision(resource.WithForce(ctx, true))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("delete disk d0 (id %d; forced; not created by this service)", before.GetId()), plan[0])
	require.Equal(t, "nothing to delete: disk d1 does not exist", plan[1])
	require.NoError(t, d.Unprovision(resource.WithForce(ctx, true)))
	require.Len(t, e.s.Disks(), 3, "the boot disks and d3 are left")
}

func TestNoLocation(t *testing.T) {
	e := newEnv(t, "spd01")
	f := diskgce.NewFactory(diskgce.WithGCE(gcec.WithEndpoint(e.s.URL), gcec.WithMetadataHost("127.0.0.1:1")))
	r, err := f(context.Background(), driver.Config{RID: "disk#01", Manifest: disk.GCE, Svcname: svcname,
		Values: map[string]string{"names": "d1", "gce_zone": zone, "gce_instance": "spd01"}})
	require.NoError(t, err)
	_, err = r.Status(context.Background())
	require.ErrorContains(t, err, "disk#01: status: gce: gce_project is not set and the metadata server (127.0.0.1:1) could not tell it")
}

func TestMain(m *testing.M) {
	// Never ask the link-local metadata server from a test.
	os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Exit(m.Run())
}
