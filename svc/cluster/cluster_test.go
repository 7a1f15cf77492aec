package cluster_test

import (
	"github.com/svckit/svckit/svc/cluster/spdplanner"

	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

const svcname = "spdsvc01"

// testCluster is nodes with their own roots, a shared store, and the
// flex primary's cluster over the local transport.
type testCluster struct {
	dir    string
	store  store.Store
	agents map[string]*cluster.Agent
}

func newTestCluster(t *testing.T, nodes ...string) *testCluster {
	tc := &testCluster{dir: t.TempDir(), agents: map[string]*cluster.Agent{}}
	st, err := store.NewDir(filepath.Join(tc.dir, "store"))
	require.NoError(t, err)
	tc.store = st
	for _, n := range nodes {
		tc.agents[n] = &cluster.Agent{Node: n, Root: filepath.Join(tc.dir, n), Registry: fake.Registry(fake.Options{}), NoTriggers: true, Store: st}
	}
	return tc
}

// withFaults gives node a fresh fake registry failing those calls (the
// fake state is in the node's var dir, so it carries over).
func (tc *testCluster) withFaults(node string, faults ...fake.Fault) {
	tc.agents[node].Registry = fake.Registry(fake.Options{Faults: faults})
}

func (tc *testCluster) from(node string) *cluster.Cluster {
	var agents []*cluster.Agent
	for _, a := range tc.agents {
		agents = append(agents, a)
	}
	return &cluster.Cluster{Self: tc.agents[node], Transport: cluster.NewLocal(agents...), Workers: 3, Planner: spdplanner.Planner{}}
}

// podsUp lists the pods up, and the pods shown, in a node status.
func podsUp(ns *cluster.NodeStatus) (up, listed []string) { return spdplanner.PodsUp(ns.StatusReport) }

func podRange(from, to int) []string {
	var out []string
	for p := from; p <= to; p++ {
		out = append(out, fmt.Sprintf("pod%02d", p))
	}
	return out
}

func gateway(t *testing.T, a *cluster.Agent, rid string) string {
	s, err := a.Load(context.Background(), svcname)
	require.NoError(t, err)
	cfg, ok := s.Config(rid)
	require.True(t, ok, rid)
	return cfg.String("gateway")
}

// deploy does what the seed's "Service provisioning" does from spd01:
// the form posts the config to the store, pull, sync nodes, provision
// --cluster, then start --cluster.
func (tc *testCluster) deploy(t *testing.T) *cluster.Cluster {
	ctx := context.Background()
	seed, err := os.ReadFile("../testdata/spdsvc01.conf")
	require.NoError(t, err)
	_, err = tc.store.Put(ctx, svcname, seed, store.Absent)
	require.NoError(t, err)
	ch, err := tc.agents["spd01"].Pull(ctx, svcname, cluster.InstallOptions{})
	require.NoError(t, err)
	require.True(t, ch.Changed)
	c := tc.from("spd01")
	res, err := c.SyncNodes(ctx, svcname, cluster.InstallOptions{})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 3)
	res, err = c.Do(ctx, svcname, svc.Provision, svc.ActionOptions{})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 4)
	for n, nr := range res.Nodes {
		require.Equal(t, n, nr.Result.Node)
		require.NotEmpty(t, nr.Result.Steps, n)
	}
	_, err = c.Do(ctx, svcname, svc.Start, svc.ActionOptions{})
	require.NoError(t, err)
	return c
}

func TestClusterDeployStatusMigrate(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	c := tc.deploy(t)

	st, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, st.Warnings)
	require.Len(t, st.Nodes, 4)
	for i, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		up, listed := podsUp(st.Nodes[n])
		require.Equal(t, podRange(8*i+1, 8*i+8), up, n)
		require.Equal(t, up, listed, n)
		require.Equal(t, "up", st.Nodes[n].Overall.String(), n)
	}
	text := st.Render([]string{"spd01", "spd02", "spd03", "spd04"})
	require.Contains(t, text, "@spd03 (config sha256 ")
	require.Contains(t, text, "|  |- container#16db .... up")
	require.NotContains(t, text, "s3cr3tPw")

	// Cluster-wide actions belong to the flex primary.
	_, err = tc.from("spd02").Do(ctx, svcname, svc.Start, svc.ActionOptions{})
	require.ErrorContains(t, err, "spd02 is not the flex primary of spdsvc01 (spd01 is)")

	// The dry run plans and changes nothing.
	before, err := tc.agents["spd01"].ReadConfig(svcname)
	require.NoError(t, err)
	rep, err := c.Migrate(ctx, svcname, 16, "spd03", cluster.MigrateOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, []cluster.Move{{Pod: 16, Tag: "pod16", From: "spd02", To: "spd03"}}, rep.Moves)
	require.Equal(t, []string{"stop pod16 on spd02", rep.Steps[1], "start pod16 on spd03"}, rep.Steps)
	require.Contains(t, rep.Steps[1], "push to the store and pull on every node")
	after, _ := tc.agents["spd01"].ReadConfig(svcname)
	require.Equal(t, before, after)
	require.Equal(t, "10.0.0.2", gateway(t, tc.agents["spd02"], "ip#16sm"))

	// The migration.
	rep, err = c.Migrate(ctx, svcname, 16, "spd03", cluster.MigrateOptions{})
	require.NoError(t, err, "%v", rep)
	require.Equal(t, rep.Moves, rep.Done)
	st, err = c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, st.Warnings)
	up2, listed2 := podsUp(st.Nodes["spd02"])
	require.Equal(t, podRange(9, 15), up2)
	require.Equal(t, up2, listed2, "pod16 is absent from spd02")
	up3, _ := podsUp(st.Nodes["spd03"])
	require.Equal(t, append([]string{"pod16"}, podRange(17, 24)...), up3)
	for _, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		require.Equal(t, "10.0.0.3", gateway(t, tc.agents[n], "ip#16sm"), n)
		require.Equal(t, "10.0.0.3", gateway(t, tc.agents[n], "ip#16db"), n)
	}
	cur, err := tc.store.Get(ctx, svcname)
	require.NoError(t, err)
	require.Equal(t, rep.After, cur.Checksum)
	prev, err := os.ReadFile(tc.agents["spd02"].PrevPath(svcname))
	require.NoError(t, err)
	require.Equal(t, before, prev, "pull keeps the previous version")

	// A failed start on the destination puts the pod back.
	migrated, _ := tc.agents["spd01"].ReadConfig(svcname)
	tc.withFaults("spd03", fake.Fault{RID: "container#15db", Action: "start", Message: "injected: no space left on device"})
	c = tc.from("spd01")
	rep, err = c.Migrate(ctx, svcname, 15, "spd03", cluster.MigrateOptions{})
	require.Error(t, err)
	var me *cluster.MigrationError
	require.ErrorAs(t, err, &me)
	require.True(t, me.Restored, "%v", err)
	require.Contains(t, err.Error(), "pod15 put back on spd02 with the previous config")
	require.Contains(t, err.Error(), "injected: no space left on device")
	require.Equal(t, rep.Moves, rep.RolledBack)
	st, err = c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, st.Warnings)
	up2, _ = podsUp(st.Nodes["spd02"])
	require.Equal(t, podRange(9, 15), up2)
	up3, listed3 := podsUp(st.Nodes["spd03"])
	require.Equal(t, append([]string{"pod16"}, podRange(17, 24)...), up3)
	require.Equal(t, up3, listed3, "pod15 is absent from spd03")
	for _, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		data, err := tc.agents[n].ReadConfig(svcname)
		require.NoError(t, err)
		require.Equal(t, migrated, data, "%s runs the previous config again", n)
		require.Equal(t, "10.0.0.2", gateway(t, tc.agents[n], "ip#15sm"), n)
	}
	cur, err = tc.store.Get(ctx, svcname)
	require.NoError(t, err)
	require.Equal(t, migrated, cur.Data)
}

func TestClusterActionFailureNamesNodes(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	tc.deploy(t)
	tc.withFaults("spd02", fake.Fault{RID: "container#09sm", Action: "stop"})
	tc.withFaults("spd04", fake.Fault{RID: "fs#30", Action: "stop"})
	c := tc.from("spd01")
	res, err := c.Do(ctx, svcname, svc.Stop, svc.ActionOptions{})
	require.Error(t, err)
	var ne *cluster.NodeError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, []string{"spd02", "spd04"}, ne.Nodes())
	require.Contains(t, err.Error(), "spdsvc01 stop failed on spd02, spd04: ")
	require.Equal(t, []string{"spd02", "spd04"}, res.Failed())
	require.Empty(t, res.Nodes["spd01"].Error)
	require.Contains(t, res.Nodes["spd04"].Result.Error, "fs#30")
	// Each failed node's report carries its state, re-read afterwards.
	for _, n := range []string{"spd02", "spd04"} {
		st, err := tc.agents[n].Status(ctx, svcname)
		require.NoError(t, err)
		after := res.Nodes[n].After
		require.NotNil(t, after, n)
		require.Equal(t, st.Avail, after.Avail, n)
		require.Equal(t, st.Overall, after.Overall, n)
		require.Contains(t, res.Nodes[n].Error, fmt.Sprintf("state afterwards (re-read): avail %s, overall %s", st.Avail, st.Overall))
	}
	require.Nil(t, res.Nodes["spd01"].After, "no re-read where the action succeeded")
}

func TestClusterStatusWarnsOnConfigVersions(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	c := tc.deploy(t)
	data, err := tc.agents["spd04"].ReadConfig(svcname)
	require.NoError(t, err)
	edited := append(data, []byte("\n# edited on spd04\n")...)
	_, err = tc.agents["spd04"].Install(ctx, svcname, edited, "test", cluster.InstallOptions{})
	require.NoError(t, err)
	st, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Len(t, st.Warnings, 1)
	require.Contains(t, st.Warnings[0], "nodes run different config versions: ")
	require.Contains(t, st.Warnings[0], " on spd01 spd02 spd03")
	require.Contains(t, st.Warnings[0], fmt.Sprintf("sha256 %s on spd04", store.Short(store.Checksum(edited))))
	require.Contains(t, st.Render([]string{"spd01"}), "WARNING: nodes run different config versions")

	// A migration refuses to start on nodes that disagree.
	_, err = c.Migrate(ctx, svcname, 16, "spd03", cluster.MigrateOptions{})
	require.ErrorContains(t, err, "spd04 do not run this node's config")

	// sync nodes puts them back in line.
	_, err = c.SyncNodes(ctx, svcname, cluster.InstallOptions{})
	require.NoError(t, err)
	st, err = c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, st.Warnings)
}

func TestPullRefusesAnInvalidConfig(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	tc.deploy(t)
	good, err := tc.agents["spd02"].ReadConfig(svcname)
	require.NoError(t, err)
	bad := append(append([]byte{}, good...), []byte("\n[fs#99]\ntype = ext4\nmnt = /x\nbogus = 1\n")...)
	cur, err := tc.store.Get(ctx, svcname)
	require.NoError(t, err)
	_, err = tc.store.Put(ctx, svcname, bad, cur.Revision)
	require.NoError(t, err)
	res, err := tc.from("spd01").Pull(ctx, svcname, cluster.InstallOptions{})
	require.Error(t, err)
	require.Len(t, res.Failed(), 4)
	require.Contains(t, err.Error(), "refused, the local config is unchanged")
	require.Contains(t, err.Error(), "fs#99")
	for n, a := range tc.agents {
		data, err := a.ReadConfig(svcname)
		require.NoError(t, err)
		require.Equal(t, good, data, n)
	}
}

func TestPushIsConditional(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	tc.deploy(t)
	a1, a2 := tc.agents["spd01"], tc.agents["spd02"]
	_, err := a2.Pull(ctx, svcname, cluster.InstallOptions{})
	require.NoError(t, err)
	data, _ := a1.ReadConfig(svcname)
	v2 := append(append([]byte{}, data...), []byte("\n# v2\n")...)
	ch, err := a1.PushData(ctx, svcname, v2, cluster.PushOptions{})
	require.NoError(t, err)
	require.True(t, ch.Changed)
	// spd02 based its change on the version before: refused.
	v3 := append(append([]byte{}, data...), []byte("\n# v3\n")...)
	_, err = a2.PushData(ctx, svcname, v3, cluster.PushOptions{})
	require.ErrorIs(t, err, store.ErrConflict)
	got, _ := tc.store.Get(ctx, svcname)
	require.Equal(t, v2, got.Data)
	// An invalid config is never stored.
	_, err = a1.PushData(ctx, svcname, []byte("[DEFAULT]\nnodes = spd02\n"), cluster.PushOptions{Force: true})
	require.ErrorContains(t, err, "does not validate, nothing stored")
}

func TestRelayoutAddsANode(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04", "spd05")
	c := tc.deploy(t)
	nodes := []string{"spd01", "spd02", "spd03", "spd04", "spd05"}
	dry, err := c.Relayout(ctx, svcname, nodes, cluster.MigrateOptions{DryRun: true, Parallel: 2})
	require.NoError(t, err)
	require.Len(t, dry.Moves, 6, "32 pods from 4 to 5 nodes move 6 pods")
	rep, err := c.Relayout(ctx, svcname, nodes, cluster.MigrateOptions{Parallel: 2})
	require.NoError(t, err, "%v", rep)
	require.Equal(t, dry.Moves, rep.Done)
	st, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, st.Warnings)
	require.Len(t, st.Nodes, 5)
	total := 0
	for _, n := range nodes {
		up, listed := podsUp(st.Nodes[n])
		require.Equal(t, up, listed, n)
		require.True(t, len(up) == 6 || len(up) == 7, "%s runs %d pods", n, len(up))
		total += len(up)
	}
	require.Equal(t, 32, total)
	for _, m := range rep.Done {
		require.Equal(t, "spd05", m.To)
		require.Equal(t, "10.0.0.5", gateway(t, tc.agents["spd05"], fmt.Sprintf("ip#%02dsm", m.Pod)))
	}
}

// TestMigrateStopFailureRestartsOnSource: when the pod does not stop on
// its node, nothing else changes and the pod is started again there.
func TestMigrateStopFailureRestartsOnSource(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	tc.deploy(t)
	tc.withFaults("spd02", fake.Fault{RID: "container#16db", Action: "stop", Message: "injected: container busy"})
	c := tc.from("spd01")
	before, _ := tc.agents["spd01"].ReadConfig(svcname)
	_, err := c.Migrate(ctx, svcname, 16, "spd03", cluster.MigrateOptions{})
	require.ErrorContains(t, err, "stop pod16 on spd02: ")
	require.ErrorContains(t, err, "injected: container busy")
	require.ErrorContains(t, err, "pod16 put back on spd02 with the previous config")
	st, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	up, _ := podsUp(st.Nodes["spd02"])
	require.Equal(t, podRange(9, 16), up)
	for n, a := range tc.agents {
		data, _ := a.ReadConfig(svcname)
		require.Equal(t, before, data, n)
	}
}

func TestRelayoutRemovesANode(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04")
	c := tc.deploy(t)
	nodes := []string{"spd01", "spd02", "spd03"}
	rep, err := c.Relayout(ctx, svcname, nodes, cluster.MigrateOptions{Parallel: 3})
	require.NoError(t, err, "%v", rep)
	require.Len(t, rep.Done, 8, "only spd04's pods move")
	for _, m := range rep.Done {
		require.Equal(t, "spd04", m.From)
	}
	st, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, st.Warnings)
	require.Len(t, st.Nodes, 3)
	total := 0
	for _, n := range nodes {
		up, listed := podsUp(st.Nodes[n])
		require.Equal(t, up, listed, n)
		total += len(up)
	}
	require.Equal(t, 32, total)
	// spd04 runs nothing any more: its last config has no pod there and
	// its instance is stopped (the disks keep the data).
	ns, err := tc.agents["spd04"].Status(ctx, svcname)
	require.NoError(t, err)
	up, listed := podsUp(ns)
	require.Empty(t, up)
	require.Empty(t, listed)
	require.NotEqual(t, "up", ns.Avail.String())
}

// TestRelayoutOneActionPerNode: the pods a batch moves to one node start
// in one action there, side by side. A node runs one action of a service
// at a time: an action per pod made the six pods of the relayout to spd05
// start one after the other, each waiting for the last one's lock.
func TestRelayoutOneActionPerNode(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04", "spd05")
	c := tc.deploy(t)
	rec := fake.NewRecorder()
	tc.agents["spd05"].Registry = fake.Registry(fake.Options{Recorder: rec,
		LatencyOf: map[string]time.Duration{"container.docker:start": 100 * time.Millisecond}})
	nodes := []string{"spd01", "spd02", "spd03", "spd04", "spd05"}
	rep, err := c.Relayout(ctx, svcname, nodes, cluster.MigrateOptions{Parallel: 6})
	require.NoError(t, err, "%v", rep)
	require.Len(t, rep.Done, 6)
	var starts []fake.Call
	for _, call := range rec.Calls() {
		if call.DriverID == "container.docker" && call.Action == "start" {
			starts = append(starts, call)
		}
	}
	require.Len(t, starts, 12, "two containers for each of the 6 pods")
	first, last := starts[0], starts[0]
	for _, s := range starts {
		if s.End.Before(first.End) {
			first = s
		}
		if s.Start.After(last.Start) {
			last = s
		}
	}
	require.True(t, last.Start.Before(first.End), "every container start began before the first one ended: %s began at %s, %s ended at %s",
		last.RID, last.Start.Format(time.StampMicro), first.RID, first.End.Format(time.StampMicro))
}

// TestRelayoutNewNodeProvisionFails: the new node is provisioned while
// the first pods stop; when that provision fails, those pods are started
// again on their nodes with the previous config, and nothing is moved.
func TestRelayoutNewNodeProvisionFails(t *testing.T) {
	ctx := context.Background()
	tc := newTestCluster(t, "spd01", "spd02", "spd03", "spd04", "spd05")
	c := tc.deploy(t)
	before, _ := tc.agents["spd01"].ReadConfig(svcname)
	tc.withFaults("spd05", fake.Fault{RID: "fs#00", Action: "provision", Message: "injected: mkfs failed"})
	nodes := []string{"spd01", "spd02", "spd03", "spd04", "spd05"}
	rep, err := c.Relayout(ctx, svcname, nodes, cluster.MigrateOptions{Parallel: 6})
	require.Error(t, err)
	require.ErrorContains(t, err, "provisioning the new nodes spd05 failed")
	require.ErrorContains(t, err, "injected: mkfs failed")
	var me *cluster.MigrationError
	require.ErrorAs(t, err, &me)
	require.True(t, me.Restored, "%v", err)
	require.Empty(t, rep.Done)
	require.Equal(t, rep.Moves, rep.RolledBack)
	st, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	total := 0
	for _, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		up, listed := podsUp(st.Nodes[n])
		require.Equal(t, up, listed, n)
		require.Len(t, up, 8, "%s runs its 8 pods again", n)
		total += len(up)
	}
	require.Equal(t, 32, total)
	up5, _ := podsUp(st.Nodes["spd05"])
	require.Empty(t, up5)
	// As when the provision ran first: the config declaring spd05 with
	// no pod moved stays, on every node.
	prepared, _ := tc.agents["spd05"].ReadConfig(svcname)
	require.NotEqual(t, before, prepared)
	for _, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		data, err := tc.agents[n].ReadConfig(svcname)
		require.NoError(t, err)
		require.Equal(t, prepared, data, "%s runs the config declaring spd05", n)
		s, err := tc.agents[n].Load(ctx, svcname)
		require.NoError(t, err)
		require.Contains(t, s.Nodes(), "spd05", n)
	}
}
