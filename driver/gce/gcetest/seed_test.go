package gcetest_test

import (
	"github.com/svckit/svckit/internal/testenv"

	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/svckit/svckit/driver/disk"
	diskgce "github.com/svckit/svckit/driver/disk/gce"
	"github.com/svckit/svckit/driver/fake"
	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/driver/ip"
	ipgce "github.com/svckit/svckit/driver/ip/gce"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc"
)

const seedProject = "spd-project"

func TestMain(m *testing.M) {
	// Never ask the link-local metadata server from a test.
	os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Exit(m.Run())
}

// newNetNS creates a named network namespace with a bridge br0 (the
// seed's backend bridge), standing for one node's kernel.
func newNetNS(t testing.TB) string {
	t.Helper()
	name, ns := testenv.NetNS(t)
	testenv.Bridge(t, ns, "br0", "")
	return "/var/run/netns/" + name
}

func addrsIn(t *testing.T, nsPath string) []string {
	t.Helper()
	ns, err := netns.GetFromPath(nsPath)
	require.NoError(t, err)
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	require.NoError(t, err)
	defer h.Close()
	l, err := h.LinkByName("br0")
	require.NoError(t, err)
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	require.NoError(t, err)
	out := []string{}
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
	}
	sort.Strings(out)
	return out
}

// cluster is the seed's four nodes on one fake project: each node has its
// instance (with a metadata server), a udev directory, a network
// namespace with br0, and a var directory for the fake drivers' state.
type cluster struct {
	s      *gcetest.Server
	params spdParams
	inst   map[string]*gcetest.Instance
	dev    map[string]string
	ns     map[string]string
	vardir map[string]string
}

func newCluster(t testing.TB) *cluster {
	c := &cluster{
		s:      gcetest.NewServer(seedProject, "europe-west1-b"),
		params: seedParams(),
		inst:   map[string]*gcetest.Instance{},
		dev:    map[string]string{},
		ns:     map[string]string{},
		vardir: map[string]string{},
	}
	t.Cleanup(c.s.Close)
	c.params.Place = map[int]string{}
	for _, n := range c.params.Nodes {
		c.inst[n] = c.s.AddInstance(n)
		c.dev[n] = t.TempDir()
		c.inst[n].SetDevDir(c.dev[n])
		c.ns[n] = newNetNS(t)
		c.vardir[n] = t.TempDir()
	}
	return c
}

// load loads the generated configuration on node, with the GCE drivers
// talking to the fake server as that node and fakes for the other groups.
func (c *cluster) load(t testing.TB, node string) *svc.Service {
	t.Helper()
	p := c.params
	p.DevDir = c.dev[node]
	gopts := []gcec.Option{
		gcec.WithEndpoint(c.s.URL),
		gcec.WithMetadataHost(c.inst[node].MetadataHost),
		gcec.WithRetryBackoff(5*time.Millisecond, 100*time.Millisecond),
		gcec.WithPollInterval(5*time.Millisecond, 50*time.Millisecond),
	}
	reg := fake.Registry(fake.Options{})
	reg.Replace(disk.GCE, diskgce.NewFactory(diskgce.WithGCE(gopts...)))
	reg.Replace(ip.GCE, ipgce.NewFactory(ipgce.WithNetNS(c.ns[node]), ipgce.WithGCE(gopts...)))
	s, err := svc.Parse(context.Background(), "spdsvc01.conf", []byte(spdConfig(p)), svc.Options{
		Node: node, Registry: reg, VarDir: c.vardir[node], NoTriggers: true,
	})
	require.NoError(t, err)
	return s
}

// podNode is the node of pod n in the current layout.
func (c *cluster) podNode(n int) string {
	if o, ok := c.params.Place[n]; ok {
		return o
	}
	return c.params.Nodes[(n-1)/(c.params.NPods/len(c.params.Nodes))]
}

// checkLayout asserts the cloud state of the current layout: each node has
// its node disk and its pods' disks attached under the seed's device
// names, every rt-ipN route sends 10.0.0.N to the node of its pod, and
// each node's br0 holds exactly its pods' addresses.
func (c *cluster) checkLayout(t *testing.T) {
	t.Helper()
	want := map[string][]string{}
	wantAddrs := map[string][]string{}
	for _, n := range c.params.Nodes {
		want[n] = []string{"spdsvc01-" + n + "=spdsvc01.disk.00.0"}
		wantAddrs[n] = []string{}
	}
	for pod := 1; pod <= c.params.NPods; pod++ {
		n := c.podNode(pod)
		want[n] = append(want[n], fmt.Sprintf("spdsvc01-pod%d=spdsvc01.disk.%02d.0", pod, pod))
		for _, ipn := range []int{31 + 2*pod, 32 + 2*pod} {
			r, ok := c.s.Route(fmt.Sprintf("rt-ip%d", ipn))
			require.True(t, ok, "rt-ip%d", ipn)
			require.Equal(t, fmt.Sprintf("10.0.0.%d/32", ipn), r.GetDestRange())
			require.Equal(t, n, gcec.LastSegment(r.GetNextHopInstance()), "rt-ip%d of pod%d", ipn, pod)
			wantAddrs[n] = append(wantAddrs[n], fmt.Sprintf("10.0.0.%d/32", ipn))
		}
	}
	require.Len(t, c.s.Routes(), 2*c.params.NPods, "rt-ip33..rt-ip96 and nothing else")
	for _, n := range c.params.Nodes {
		in, ok := c.s.Instance(n)
		require.True(t, ok)
		var got []string
		for _, a := range in.GetDisks() {
			if a.GetBoot() {
				continue
			}
			got = append(got, gcec.LastSegment(a.GetSource())+"="+a.GetDeviceName())
			require.FileExists(t, filepath.Join(c.dev[n], "google-"+a.GetDeviceName()))
		}
		sort.Strings(got)
		sort.Strings(want[n])
		require.Equal(t, want[n], got, "disks attached to %s", n)
		sort.Strings(wantAddrs[n])
		require.Equal(t, wantAddrs[n], addrsIn(t, c.ns[n]), "addresses on %s br0", n)
	}
}

// TestSeedServiceOnGCE runs the seed's 32-pod service on spd01..spd04
// against the fake compute API: the GCE drivers are the real ones, the
// other groups (fs, container, ip.docker, sync) are driver/fake.
func TestSeedServiceOnGCE(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)

	// Provision from spd01 with --cluster: every node provisions its part
	// (the reference re-runs the action on each node), spd01 first.
	c.s.FailRequests("POST", "/disks", 503, 2) // retried through
	for _, n := range c.params.Nodes {
		_, err := c.load(t, n).Provision(ctx, svc.ActionOptions{})
		require.NoError(t, err, n)
		if n == "spd01" {
			for _, name := range []string{"spdsvc01-spd01", "spdsvc01-pod1", "spdsvc01-pod8"} {
				_, ok := c.s.Disk(name)
				require.True(t, ok, name)
			}
			_, ok := c.s.Disk("spdsvc01-pod9")
			require.False(t, ok, "pod9 is spd02's")
		}
	}
	n503 := 0
	for _, call := range c.s.Calls() {
		if call.Status == 503 {
			n503++
		}
	}
	require.Equal(t, 2, n503)
	sizes := map[string]int64{}
	for _, d := range c.s.Disks() {
		sizes[d.GetName()] = d.GetSizeGb()
	}
	for _, n := range c.params.Nodes {
		require.EqualValues(t, 20, sizes["spdsvc01-"+n], n)
		delete(sizes, "spdsvc01-"+n)
		delete(sizes, n) // boot disk
	}
	for pod := 1; pod <= 32; pod++ {
		require.EqualValues(t, 17, sizes[fmt.Sprintf("spdsvc01-pod%d", pod)], "pod%d", pod)
		delete(sizes, fmt.Sprintf("spdsvc01-pod%d", pod))
	}
	require.Empty(t, sizes, "4 node disks, 32 pod disks, nothing else")
	inserts := c.s.CountCalls("POST", "/disks")

	// A second provision creates nothing.
	for _, n := range c.params.Nodes {
		_, err := c.load(t, n).Provision(ctx, svc.ActionOptions{})
		require.NoError(t, err, n)
	}
	require.Equal(t, inserts, c.s.CountCalls("POST", "/disks"))

	// Provision started what it provisioned; stop everything, standby
	// disks included (--force), so that the start below does the work.
	c.checkLayout(t)
	for _, n := range c.params.Nodes {
		_, err := c.load(t, n).Stop(ctx, svc.ActionOptions{Force: true})
		require.NoError(t, err, n)
		in, _ := c.s.Instance(n)
		require.Len(t, in.GetDisks(), 1, "only the boot disk left on %s", n)
		require.Empty(t, addrsIn(t, c.ns[n]), n)
	}
	require.Empty(t, c.s.Routes())

	// Start on every node: each node's disks attached, rt-ip33..rt-ip96
	// with the right next hops, addresses on each node's br0.
	for _, n := range c.params.Nodes {
		s := c.load(t, n)
		res, err := s.Start(ctx, svc.ActionOptions{})
		require.NoError(t, err, n)
		// A pod's fs waits for its disk: the device path the disk provides
		// is the fs's dev.
		wave := map[string]int{}
		for i, w := range res.Plan {
			for _, rid := range w {
				wave[rid] = i
			}
		}
		if n == "spd01" {
			require.Less(t, wave["disk#01"], wave["fs#01"], "plan %v", res.Plan)
		}
		rep := s.Status(ctx)
		require.Equal(t, "up", rep.Avail.String(), n)
		for _, r := range rep.Resources {
			if (r.Driver == "disk.gce" || r.Driver == "ip.gce") && !r.Disabled {
				require.Equal(t, "up", r.Status.String(), "%s on %s: %v", r.RID, n, r.Log)
			}
		}
	}
	c.checkLayout(t)
	tree := c.load(t, "spd01").Status(ctx).Render(svc.StatusOptions{})
	require.Contains(t, tree, "gce ip 10.0.0.34@br0")
	require.Contains(t, tree, "gce volumes spdsvc01-spd01")

	// Move pod16 from spd02 to spd03: stop it on spd02 (its always_on disk
	// stays attached), relayout, start it on spd03.
	_, err := c.load(t, "spd02").Stop(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: "pod16"}})
	require.NoError(t, err)
	require.Equal(t, []string{"spd02"}, c.s.AttachedTo("spdsvc01-pod16"))
	for _, rt := range []string{"rt-ip63", "rt-ip64"} {
		_, ok := c.s.Route(rt)
		require.False(t, ok, rt)
	}
	c.params.Place[16] = "spd03"
	detaches := c.s.CountCalls("POST", "/instances/spd02/detachDisk")
	_, err = c.load(t, "spd03").Start(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: "pod16"}})
	require.NoError(t, err)
	require.Equal(t, detaches+1, c.s.CountCalls("POST", "/instances/spd02/detachDisk"), "moved off spd02")
	c.checkLayout(t)

	// An operation error fails the start, names the disk and the GCE
	// error, and rolls back (the seed sets rollback = false: ask for it).
	_, err = c.load(t, "spd04").Stop(ctx, svc.ActionOptions{Force: true})
	require.NoError(t, err)
	// RESOURCE_NOT_READY is transient: the attach is issued 4 times.
	c.s.FailOperations(gcetest.OperationFault{Type: "attachDisk", Match: "spdsvc01-pod29", Code: "RESOURCE_NOT_READY", Message: "The resource 'spdsvc01-pod29' is not ready", Times: 4})
	rollback := true
	res, err := c.load(t, "spd04").Start(ctx, svc.ActionOptions{Rollback: &rollback})
	require.Error(t, err)
	var aerr *svc.ActionError
	require.True(t, errors.As(err, &aerr), "%T", err)
	require.ErrorContains(t, err, "disk#29: start: gce: attach disk spdsvc01-pod29 to spd04")
	require.ErrorContains(t, err, "after 4 attempts: RESOURCE_NOT_READY: The resource 'spdsvc01-pod29' is not ready")
	require.NotEmpty(t, res.RolledBack)
	in, _ := c.s.Instance("spd04")
	require.Len(t, in.GetDisks(), 1, "only the boot disk is left on spd04: %v", in.GetDisks())
	for _, r := range c.s.Routes() {
		require.NotEqual(t, "spd04", gcec.LastSegment(r.GetNextHopInstance()), r.GetName())
	}
	require.Empty(t, addrsIn(t, c.ns["spd04"]))

	// The fault was four operations: spd04 starts again, the layout is whole.
	_, err = c.load(t, "spd04").Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	c.checkLayout(t)
	require.NotContains(t, strings.Join(func() []string {
		var l []string
		for _, call := range c.s.Calls() {
			l = append(l, call.Path+"?"+call.Query)
		}
		return l
	}(), "\n"), "s3cr3tPw", "no secret reaches the cloud API")
}

// TestGeneratedConfigIsTheSeeds checks that the generator the tests use
// gives the seed's configuration, as the svc tests keep it.
func TestGeneratedConfigIsTheSeeds(t *testing.T) {
	b, err := os.ReadFile("../../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	diff, err := spd.Diff([]byte(spdConfig(seedParams())), b)
	require.NoError(t, err)
	require.Empty(t, diff)
}

// BenchmarkNodeStartStop measures a start then a forced stop of one node's
// part of the seed service (9 disks, 16 routes and addresses, the fake
// fs, container and ip.docker resources) against the fake compute API,
// operations done at once: the cost of the drivers, the client and the
// scheduler, without the cloud's latency.
func BenchmarkNodeStartStop(b *testing.B) {
	ctx := context.Background()
	c := newCluster(b)
	s := c.load(b, "spd01")
	_, err := s.Provision(ctx, svc.ActionOptions{})
	require.NoError(b, err)
	_, err = s.Stop(ctx, svc.ActionOptions{Force: true})
	require.NoError(b, err)
	before := len(c.s.Calls())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Start(ctx, svc.ActionOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Stop(ctx, svc.ActionOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(c.s.Calls())-before)/float64(b.N), "requests/op")
}
