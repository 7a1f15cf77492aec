package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/formtemplate/spd"
)

// The default run goes through the collector: the form posted over
// HTTP, the nodes registered and pulling as themselves, every config
// change a revision with its author.
func TestScenarioCollector(t *testing.T) {
	var out strings.Builder
	dir := t.TempDir()
	rep, err := Run(context.Background(), Options{Pods: 8, Nodes: 4, Dir: dir, Keep: true, Out: &out})
	require.NoError(t, err, out.String())
	require.True(t, rep.OK())
	require.NotEmpty(t, rep.Collector)
	text := out.String()
	require.Contains(t, text, "$ POST "+rep.Collector+formPath+" (form-encoded, as a browser, logged in as admin)")
	require.Contains(t, text, "nodemgr register --collector "+rep.Collector)
	require.Contains(t, text, "/compliance/nodes/self/rules")
	require.Contains(t, rep.Steps[1].Summary, "5 nodes registered")

	ctx := context.Background()
	db, err := server.OpenDB(ctx, "", filepath.Join(rep.Root, "collector"))
	require.NoError(t, err)
	defer db.Close()
	nodes, err := db.Nodes(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spd01", "spd02", "spd03", "spd04", "spd05"}, nodes)
	revs, err := db.Revisions(ctx, svcname, 100)
	require.NoError(t, err)
	// The form twice (the image replacement is a new submission), then the
	// migration's and the relayout's pushes from the flex primary.
	require.GreaterOrEqual(t, len(revs), 4)
	authors := map[string]int{}
	for _, r := range revs {
		authors[r.Author]++
		require.Equal(t, app, r.App)
	}
	require.Equal(t, 2, authors["admin"], "the two form submissions: %v", authors)
	require.Positive(t, authors["spd01"], "the primary pushed the migration and relayout configs as itself: %v", authors)
	cur, err := db.GetService(ctx, svcname)
	require.NoError(t, err)
	require.Contains(t, cur.EnvFile, "spd05", "the collector holds the relayout's config")
	require.Contains(t, cur.EnvFile, smImage2)

	// Each node's node.conf holds its collector and uuid, as `nodemgr
	// register` leaves it; the root password is nowhere in the run's
	// output or the node roots.
	for _, n := range nodes {
		conf, err := os.ReadFile(filepath.Join(rep.Root, n, "etc", "node.conf"))
		require.NoError(t, err)
		require.Contains(t, string(conf), "dbopensvc")
		require.Regexp(t, `uuid\s*= [0-9a-f-]{36}`, string(conf))
	}
	cfgs, err := filepath.Glob(filepath.Join(rep.Root, "spd0*", "etc", svcname+".conf"))
	require.NoError(t, err)
	require.NotEmpty(t, cfgs)
}

// The directory store keeps the run without a collector.
func TestScenarioDirStore(t *testing.T) {
	var out strings.Builder
	rep, err := Run(context.Background(), Options{Pods: 4, Nodes: 3, Dir: t.TempDir(), Store: StoreDir, Out: &out})
	require.NoError(t, err, out.String())
	require.Empty(t, rep.Collector)
	require.Contains(t, out.String(), "directory store in ")
	require.Contains(t, rep.Steps[1].Summary, "stored revision")
}

// The form's checks hold over HTTP: a bad service name is refused with
// the input named, and nothing reaches the collector.
func TestCollectorFormRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	c, err := startCollector(ctx, t.TempDir())
	require.NoError(t, err)
	defer c.Close()
	in := spd.Inputs{NPods: 4, Svcname: "spdsvc01", App: app, Nodes: []string{"spd01", "spd02"}, SMImage: smImage, DBImage: dbImage, RootPassword: "pw"}
	for name, mutate := range map[string]func(url.Values){
		"bad service name": func(v url.Values) { v.Set(spd.InputSvcname, "Bad Name\n[DEFAULT]") },
		"config injection": func(v url.Values) { v.Set(spd.InputSMImage, "x\nnodes = evil") },
		"too many pods":    func(v url.Values) { v.Set(spd.InputNPods, "100000") },
		"not a number":     func(v url.Values) { v.Set(spd.InputNPods, "lots") },
	} {
		v := formAnswers(in)
		mutate(v)
		_, _, err := c.submitForm(ctx, v)
		require.Error(t, err, name)
		require.Contains(t, err.Error(), "422", name)
	}
	_, err = c.admin.Services().Get(ctx, "spdsvc01")
	require.Error(t, err, "nothing stored")
	rc, size, err := c.submitForm(ctx, formAnswers(in))
	require.NoError(t, err)
	require.Positive(t, size)
	got, err := c.admin.Services().Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, "1", rc.Revision)
	require.NoError(t, c.checkLatest(ctx, "spdsvc01", rc.Revision, got.Checksum))
	require.NotContains(t, rc.Location, c.admin.Password)
}
