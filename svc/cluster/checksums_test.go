package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/driver/sync/rsync"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

// syncCluster is the seed's four nodes, every one an agent on fake
// drivers but for sync.rsync: the real driver, comparing checksums through
// the local transport that reaches every other agent.
func syncCluster(t *testing.T) (*cluster.Local, []byte) {
	seed, err := os.ReadFile("../testdata/spdsvc01.conf")
	require.NoError(t, err)
	dir := t.TempDir()
	local := cluster.NewLocal()
	for _, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		reg := fake.Registry(fake.Options{})
		a := &cluster.Agent{Node: n, Root: filepath.Join(dir, n), Registry: reg, NoTriggers: true}
		reg.Replace(syncdrv.Rsync, rsync.NewFactory(rsync.WithPeers(cluster.PeerChecksums{Self: a, Transport: local})))
		local.Agents[n] = a
		_, err := a.Install(context.Background(), svcname, seed, "test", cluster.InstallOptions{})
		require.NoError(t, err)
	}
	return local, seed
}

func syncStatus(t *testing.T, ns *cluster.NodeStatus) (resource.Status, string, []string) {
	t.Helper()
	for _, r := range ns.Resources {
		if r.RID == "sync#i0" {
			return r.Status, r.Label, r.Log
		}
	}
	t.Fatalf("%s: no sync#i0 in the status", ns.Node)
	return 0, "", nil
}

func TestConfigChecksum(t *testing.T) {
	ctx := context.Background()
	local, seed := syncCluster(t)
	for n := range local.Agents {
		p, err := local.Peer(n)
		require.NoError(t, err)
		sum, err := p.ConfigChecksum(ctx, svcname)
		require.NoError(t, err)
		require.Equal(t, store.Checksum(seed), sum, n)
	}
	a := local.Agents["spd02"]
	_, err := a.ConfigChecksum(ctx, "nosuchsvc")
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = a.ConfigChecksum(ctx, "../../etc/passwd")
	require.Error(t, err, "a service name is checked before it reaches a path")

	pc := cluster.PeerChecksums{Self: local.Agents["spd01"], Transport: local}
	sums, err := pc.ConfigChecksums(ctx, svcname, []string{"spd02", "spd03", "spd09"})
	require.NoError(t, err)
	require.Equal(t, store.Checksum(seed), sums.Self)
	require.Equal(t, map[string]string{"spd02": store.Checksum(seed), "spd03": store.Checksum(seed)}, sums.Nodes)
	require.ErrorContains(t, sums.Errors["spd09"], "node spd09: not reachable through the local transport")

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	_, err = pc.ConfigChecksums(ctx2, svcname, []string{"spd02"})
	require.ErrorIs(t, err, context.Canceled)
}

// TestSyncStatusNoRecursion reads the status of every node at once, each
// of which compares its config with every other node's: the peers are
// asked for a checksum, never for their status (which would ask back
// forever). Then a config changed by hand on spd03 warns everywhere,
// and sync nodes from the flex primary makes it up again.
func TestSyncStatusNoRecursion(t *testing.T) {
	ctx := context.Background()
	local, seed := syncCluster(t)
	var wg sync.WaitGroup
	statuses := map[string]*cluster.NodeStatus{}
	var mu sync.Mutex
	for n, a := range local.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns, err := a.Status(ctx, svcname)
			require.NoError(t, err)
			mu.Lock()
			statuses[n] = ns
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Len(t, statuses, 4)
	for n, ns := range statuses {
		st, label, log := syncStatus(t, ns)
		require.Equal(t, resource.Up, st, "%s: %v", n, log)
		require.Equal(t, "rsync svc config to drpnodes, nodes", label)
	}

	c := &cluster.Cluster{Self: local.Agents["spd01"], Transport: local}
	cst, err := c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, cst.Warnings)

	// Changed by hand on spd03.
	path := local.Agents["spd03"].ConfigPath(svcname)
	require.NoError(t, os.WriteFile(path, append(append([]byte{}, seed...), "\n# edited on spd03\n"...), 0o600))
	cst, err = c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Len(t, cst.Warnings, 1)
	for n, ns := range cst.Nodes {
		st, _, log := syncStatus(t, ns)
		require.Equal(t, resource.Warn, st, n)
		require.Len(t, log, 1)
		if n == "spd03" {
			require.Contains(t, log[0], "on spd01, spd02, spd04: svcmgr sync nodes")
		} else {
			require.Contains(t, log[0], "on spd03: svcmgr sync nodes")
		}
		require.Equal(t, resource.Warn, ns.Overall, "a sync that warns makes the overall warn")
	}

	// sync nodes puts the primary's config back, and its time shows.
	res, err := c.SyncNodes(ctx, svcname, cluster.InstallOptions{})
	require.NoError(t, err)
	require.True(t, res.Nodes["spd03"].Config.Changed)
	rec, ok, err := syncdrv.ReadLastSync(filepath.Join(local.Agents["spd01"].Root, "var", svcname))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]string{"spd02": "", "spd03": "", "spd04": ""}, rec.Nodes)
	require.Equal(t, store.Checksum(seed), rec.Checksum)
	cst, err = c.Status(ctx, svcname)
	require.NoError(t, err)
	require.Empty(t, cst.Warnings)
	for n, ns := range cst.Nodes {
		st, label, log := syncStatus(t, ns)
		require.Equal(t, resource.Up, st, "%s: %v", n, log)
		if n == "spd01" {
			require.Equal(t, "rsync svc config to drpnodes, nodes (last sync "+rec.Time.Format("2006-01-02 15:04:05Z")+")", label)
		}
	}

	// A dry run records nothing; a failed node is recorded with its error.
	delete(local.Agents, "spd04")
	_, err = c.SyncNodes(ctx, svcname, cluster.InstallOptions{DryRun: true})
	require.Error(t, err)
	again, _, err := syncdrv.ReadLastSync(filepath.Join(local.Agents["spd01"].Root, "var", svcname))
	require.NoError(t, err)
	require.Equal(t, rec, again, "a dry run records nothing")
	_, err = c.SyncNodes(ctx, svcname, cluster.InstallOptions{})
	require.Error(t, err)
	rec, _, err = syncdrv.ReadLastSync(filepath.Join(local.Agents["spd01"].Root, "var", svcname))
	require.NoError(t, err)
	require.Equal(t, []string{"spd04"}, rec.Failed())
	require.True(t, strings.Contains(rec.Nodes["spd04"], "not reachable"), rec.Nodes["spd04"])
	ns, err := local.Agents["spd01"].Status(ctx, svcname)
	require.NoError(t, err)
	st, _, log := syncStatus(t, ns)
	require.Equal(t, resource.Warn, st)
	require.Contains(t, log[0], "config not compared on spd04 (node spd04: not reachable")
	require.Contains(t, log[0], "last sync nodes failed on spd04: ")
}
