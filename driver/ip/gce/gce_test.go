package gce_test

import (
	"github.com/svckit/svckit/internal/testenv"

	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/svckit/svckit/driver"
	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/driver/ip"
	ipgce "github.com/svckit/svckit/driver/ip/gce"
	"github.com/svckit/svckit/resource"
)

const (
	project = "svckit-test"
	zone    = "europe-west1-b"
)

func TestMain(m *testing.M) {
	// Never ask the link-local metadata server from a test.
	os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Exit(m.Run())
}

// newNetNS creates a named network namespace holding a bridge
// br0 (up), and returns its path. The host's namespace is not touched.
func newNetNS(t *testing.T) string {
	t.Helper()
	name, ns := testenv.NetNS(t)
	testenv.Bridge(t, ns, "br0", "")
	return "/var/run/netns/" + name
}

func addrsIn(t *testing.T, nsPath, dev string) []string {
	t.Helper()
	ns, err := netns.GetFromPath(nsPath)
	require.NoError(t, err)
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	require.NoError(t, err)
	defer h.Close()
	l, err := h.LinkByName(dev)
	require.NoError(t, err)
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	require.NoError(t, err)
	var out []string
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
	}
	return out
}

type env struct {
	s     *gcetest.Server
	nodes map[string]*gcetest.Instance
	ns    map[string]string
}

func newEnv(t *testing.T, nodes ...string) *env {
	t.Helper()
	e := &env{s: gcetest.NewServer(project, zone), nodes: map[string]*gcetest.Instance{}, ns: map[string]string{}}
	t.Cleanup(e.s.Close)
	for _, n := range nodes {
		e.nodes[n] = e.s.AddInstance(n)
		e.ns[n] = newNetNS(t)
	}
	return e
}

func (e *env) ip(t *testing.T, node, rid string, kv ...string) *ipgce.IP {
	t.Helper()
	values := map[string]string{"ipdev": "br0", "network": "default"}
	for i := 0; i+1 < len(kv); i += 2 {
		values[kv[i]] = kv[i+1]
	}
	f := ipgce.NewFactory(
		ipgce.WithNetNS(e.ns[node]),
		ipgce.WithGCE(
			gcec.WithEndpoint(e.s.URL),
			gcec.WithMetadataHost(e.nodes[node].MetadataHost),
			gcec.WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond),
			gcec.WithPollInterval(5*time.Millisecond, 50*time.Millisecond),
		))
	r, err := f(context.Background(), driver.Config{
		RID: rid, Manifest: ip.GCE, Svcname: "spdsvc01", Nodename: node, Values: values,
		Defaults: map[string]string{"gce_zone": zone},
	})
	require.NoError(t, err)
	return r.(*ipgce.IP)
}

func (e *env) nextHop(t *testing.T, route string) string {
	t.Helper()
	r, ok := e.s.Route(route)
	if !ok {
		return ""
	}
	require.Equal(t, "default", gcec.LastSegment(r.GetNetwork()))
	return gcec.LastSegment(r.GetNextHopInstance())
}

func TestRegisteredAndLabel(t *testing.T) {
	d, ok := driver.Default().Lookup("ip.gce")
	require.True(t, ok)
	f := d.New
	r, err := f(context.Background(), driver.Config{RID: "ip#01dbg", Manifest: ip.GCE,
		Values: map[string]string{"ipname": "10.0.0.34", "ipdev": "br0", "routename": "rt-ip34"}})
	require.NoError(t, err)
	require.Equal(t, "gce ip 10.0.0.34@br0", r.Label())
	u, ok := r.(resource.User)
	require.True(t, ok)
	uses, order := u.Uses()
	require.Empty(t, uses)
	require.Equal(t, resource.OrderByUses, order, "the address depends on nothing")
}

func TestFactoryErrors(t *testing.T) {
	f := ipgce.NewFactory()
	for _, tc := range []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"ipname": "fe80::1", "ipdev": "br0", "routename": "r"}, "ipname: \"fe80::1\" is not an IPv4 address"},
		{map[string]string{"ipname": "10.0.0.1", "routename": "r"}, "ipdev: expected the interface"},
		{map[string]string{"ipname": "10.0.0.1", "ipdev": "br0"}, "routename: expected"},
		{map[string]string{"ipname": "10.0.0.1", "ipdev": "br0", "routename": "r", "netmask": "255.0.255.0"}, "netmask: \"255.0.255.0\": not a contiguous mask"},
	} {
		_, err := f(context.Background(), driver.Config{RID: "ip#01", Manifest: ip.GCE, Values: tc.values})
		require.ErrorContains(t, err, tc.want)
	}
}

func TestStartStop(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	r := e.ip(t, "spd01", "ip#01dbg", "ipname", "10.0.0.34", "routename", "rt-ip34")

	st, err := r.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.NoError(t, err, "a cleanly down ip.gce reports no problem")

	require.NoError(t, r.Start(ctx))
	require.Equal(t, "spd01", e.nextHop(t, "rt-ip34"))
	rt, _ := e.s.Route("rt-ip34")
	require.Equal(t, "10.0.0.34/32", rt.GetDestRange())
	require.Equal(t, []string{"10.0.0.34/32"}, addrsIn(t, e.ns["spd01"], "br0"))
	st, err = r.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)

	// Idempotent: no new route insert.
	inserts := e.s.CountCalls("POST", "/global/routes")
	require.NoError(t, r.Start(ctx))
	require.Equal(t, inserts, e.s.CountCalls("POST", "/global/routes"))

	require.NoError(t, r.Stop(ctx))
	_, ok := e.s.Route("rt-ip34")
	require.False(t, ok)
	require.Empty(t, addrsIn(t, e.ns["spd01"], "br0"))
	require.NoError(t, r.Stop(ctx))
	st, _ = r.Status(ctx)
	require.Equal(t, resource.Down, st)
}

func TestRouteElsewhereIsReplaced(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	e.s.CreateRoute("rt-ip34", "10.0.0.34/32", "spd02")
	on1 := e.ip(t, "spd01", "ip#01dbg", "ipname", "10.0.0.34", "routename", "rt-ip34")
	on2 := e.ip(t, "spd02", "ip#01dbg", "ipname", "10.0.0.34", "routename", "rt-ip34")

	// Down here, the route sends the address to the node that runs it:
	// the normal state of a stopped instance, no problem reported.
	st, err := on1.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.NoError(t, err)

	require.NoError(t, on1.Start(ctx))
	require.Equal(t, "spd01", e.nextHop(t, "rt-ip34"))
	require.Equal(t, 1, e.s.CountCalls("DELETE", "/global/routes/rt-ip34"))

	// spd02 stops: the route is spd01's now, left alone.
	require.NoError(t, on2.Stop(ctx))
	require.Equal(t, "spd01", e.nextHop(t, "rt-ip34"))
	require.Equal(t, []string{"10.0.0.34/32"}, addrsIn(t, e.ns["spd01"], "br0"))
}

func TestConflictingRoute(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	e.s.CreateRoute("legacy-34", "10.0.0.34/32", "spd02")
	r := e.ip(t, "spd01", "ip#01dbg", "ipname", "10.0.0.34", "routename", "rt-ip34")
	err := r.Start(ctx)
	require.ErrorContains(t, err, "ip#01dbg: start: route legacy-34 already sends 10.0.0.34/32 to spd02: it conflicts with route rt-ip34")
	_, ok := e.s.Route("rt-ip34")
	require.False(t, ok)
	require.Equal(t, "spd02", e.nextHop(t, "legacy-34"), "the other route is not touched")
	require.Empty(t, addrsIn(t, e.ns["spd01"], "br0"))
}

func TestRetriesAndOperationError(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	r := e.ip(t, "spd01", "ip#01smg", "ipname", "10.0.0.33", "routename", "rt-ip33")
	e.s.FailRequests("POST", "/global/routes", 503, 2)
	require.NoError(t, r.Start(ctx))
	require.Equal(t, "spd01", e.nextHop(t, "rt-ip33"))
	require.NoError(t, r.Stop(ctx))

	e.s.FailOperations(gcetest.OperationFault{Type: "insert", Match: "routes/rt-ip33", Code: "QUOTA_EXCEEDED", Message: "Quota 'ROUTES' exceeded.", HTTPStatus: 403})
	err := r.Start(ctx)
	require.ErrorContains(t, err, "ip#01smg: start: gce: create route rt-ip33 (10.0.0.33/32 via spd01)")
	require.ErrorContains(t, err, "QUOTA_EXCEEDED: Quota 'ROUTES' exceeded.")
	require.Empty(t, addrsIn(t, e.ns["spd01"], "br0"), "no address without its route")
}

func TestMissingInterfaceRemovesRoute(t *testing.T) {
	e := newEnv(t, "spd01")
	ctx := context.Background()
	r := e.ip(t, "spd01", "ip#01smg", "ipname", "10.0.0.33", "routename", "rt-ip33", "ipdev", "nope0")
	err := r.Start(ctx)
	require.ErrorContains(t, err, "ip#01smg: start: ipdev nope0: Link not found")
	_, ok := e.s.Route("rt-ip33")
	require.False(t, ok, "the route created by the failed start is deleted")
	st, err := r.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.ErrorContains(t, err, "interface nope0 does not exist")
}

func TestMove(t *testing.T) {
	e := newEnv(t, "spd01", "spd02")
	ctx := context.Background()
	on1 := e.ip(t, "spd01", "ip#16dbg", "ipname", "10.0.0.64", "routename", "rt-ip64")
	on2 := e.ip(t, "spd02", "ip#16dbg", "ipname", "10.0.0.64", "routename", "rt-ip64")
	require.NoError(t, on1.Start(ctx))
	require.NoError(t, on1.Stop(ctx))
	require.NoError(t, on2.Start(ctx))
	require.Equal(t, "spd02", e.nextHop(t, "rt-ip64"))
	require.Empty(t, addrsIn(t, e.ns["spd01"], "br0"))
	require.Equal(t, []string{"10.0.0.64/32"}, addrsIn(t, e.ns["spd02"], "br0"))
	st, _ := on2.Status(ctx)
	require.Equal(t, resource.Up, st)
	st, _ = on1.Status(ctx)
	require.Equal(t, resource.Down, st)
}
