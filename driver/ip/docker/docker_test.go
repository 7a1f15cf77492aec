package docker

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	cdocker "github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/driver/ip"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
)

// service returns the Config of an ip.docker section and a Section
// function that knows the container section.
func service(values map[string]string, containers map[string]map[string]string) driver.Config {
	section := func(rid string) (driver.Config, bool) {
		v, ok := containers[rid]
		if !ok {
			return driver.Config{}, false
		}
		return driver.Config{RID: rid, Manifest: ctr.Docker, Svcname: "svckit-test", Values: v, Defaults: map[string]string{}}, true
	}
	return driver.Config{RID: "ip#01db", Manifest: ip.Docker, Svcname: "svckit-test", Values: values, Section: section}
}

func seedValues() map[string]string {
	return map[string]string{
		"ipdev": "br0", "ipname": "10.0.0.34", "netmask": "255.255.255.0", "network": "10.0.0.0",
		"gateway": "10.0.0.1", "del_net_route": "true", "container_rid": "container#01db",
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestNewErrors(t *testing.T) {
	containers := map[string]map[string]string{"container#01db": {"run_image": "x"}}
	for _, tc := range []struct {
		values map[string]string
		want   string
	}{
		{with(seedValues(), "netmask", ""), "netmask: required by ip.docker"},
		{with(seedValues(), "network", "10.0.1.0"), "network: 10.0.1.0: 10.0.0.34/24 is in 10.0.0.0"},
		{with(seedValues(), "gateway", "10.0.1.1"), "gateway: 10.0.1.1 is not in 10.0.0.0/24"},
		{with(seedValues(), "gateway", ""), "del_net_route: needs gateway"},
		{with(seedValues(), "container_rid", "fs#01"), `container_rid: "fs#01": expected the rid of a container section`},
		{with(seedValues(), "container_rid", "container#02db"), "container_rid: container#02db is not a section of service"},
		{with(seedValues(), "ipdev_netns", "../x"), "ipdev_netns: network namespace"},
		{with(seedValues(), "ipname", "10.0.0"), `ipname: "10.0.0": expected an ip address`},
	} {
		_, err := New(context.Background(), service(tc.values, containers))
		require.ErrorContains(t, err, tc.want)
	}
}

func TestNameLabelUses(t *testing.T) {
	containers := map[string]map[string]string{"container#01db": {"run_image": "x"}}
	r, err := New(context.Background(), service(seedValues(), containers))
	require.NoError(t, err)
	d := r.(*IP)
	require.Equal(t, "svckit-test.container.01db", d.Container)
	require.Equal(t, "10.0.0.34@br0", d.Label())
	uses, order := d.Uses()
	require.Equal(t, []string{"rid:container#01db"}, uses)
	require.Equal(t, resource.OrderByUses, order)

	containers["container#01db"]["name"] = "db01"
	r, err = New(context.Background(), service(seedValues(), containers))
	require.NoError(t, err)
	require.Equal(t, "db01", r.(*IP).Container)

	host, peer := d.vethNames("f52d3cb784a9")
	require.Len(t, host, 13)
	require.Equal(t, host[3:], peer[3:])
	other, _ := d.vethNames("fc68e0cf1adf")
	require.NotEqual(t, host, other)
}

// TestPlumb runs a --net=none container of the test image and plumbs the
// seed's address into it from a bridge living in a test namespace.
func TestPlumb(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	nsName, ns := testenv.NetNS(t)
	testenv.Bridge(t, ns, "br0", "10.0.0.1/24")
	ctx := context.Background()

	name := testenv.RandomName("svckit-test-ipdocker-")
	containers := map[string]map[string]string{"container#01db": {
		"run_image": image, "name": name, "run_args": "--net=none --hostname db01", "run_command": "-listen :3306",
	}}
	cfg := service(with(seedValues(), "ipdev_netns", nsName), containers)
	cc, _ := cfg.Section("container#01db")
	c, err := cdocker.New(ctx, cc)
	require.NoError(t, err)
	testenv.RemoveContainer(t, cli, name)
	r, err := New(ctx, cfg)
	require.NoError(t, err)
	d := r.(*IP)

	require.ErrorContains(t, d.Start(ctx), "does not run: start container#01db first")
	st, err := d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)
	require.NoError(t, d.Stop(ctx), "stop without a running container")

	require.NoError(t, c.Start(ctx))
	st, err = d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)

	require.NoError(t, d.Start(resource.WithDryRun(ctx, true)))
	st, _ = d.Status(ctx)
	require.Equal(t, resource.Down, st, "dry run plumbed")

	require.NoError(t, d.Start(ctx))
	st, err = d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)
	require.NoError(t, d.Start(ctx), "second start")

	// The label carries the container id.
	in, err := d.containerNS(ctx)
	require.NoError(t, err)
	// The handle keeps the namespace alive: closed before the container
	// stops below.
	closed := false
	t.Cleanup(func() {
		if !closed {
			in.close()
		}
	})
	require.Equal(t, "10.0.0.34@br0@"+in.id[:12], d.Label())

	// Inside the container: eth0 with the address, the default route
	// through the gateway, no subnet route.
	eth0, err := in.h.LinkByName("eth0")
	require.NoError(t, err)
	addrs, err := in.h.AddrList(eth0, netlink.FAMILY_V4)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	require.Equal(t, "10.0.0.34/24", addrs[0].IPNet.String())
	routes, err := in.h.RouteList(eth0, netlink.FAMILY_V4)
	require.NoError(t, err)
	var got []string
	for _, rt := range routes {
		switch {
		case rt.Dst == nil || rt.Dst.String() == "0.0.0.0/0":
			got = append(got, "default via "+rt.Gw.String())
		default:
			got = append(got, rt.Dst.String())
		}
	}
	require.ElementsMatch(t, []string{"default via 10.0.0.1", "10.0.0.1/32"}, got)

	// On the bridge side: the host end is attached to br0 of the test
	// namespace, and the host namespace has no such link.
	bh := testenv.Handle(t, ns)
	hostName, _ := d.vethNames(in.id)
	hl, err := bh.LinkByName(hostName)
	require.NoError(t, err)
	br, err := bh.LinkByName("br0")
	require.NoError(t, err)
	require.Equal(t, br.Attrs().Index, hl.Attrs().MasterIndex)
	_, err = netlink.LinkByName(hostName)
	require.Error(t, err, "the veth leaked into the host namespace")

	// Traffic: from the bridge's namespace to the container's listener.
	line, err := testenv.DialInNetns(ns, "10.0.0.34:3306")
	require.NoError(t, err)
	require.Equal(t, "hello from db01", line)

	require.NoError(t, d.Stop(ctx))
	st, err = d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Down, st)
	_, err = bh.LinkByName(hostName)
	require.Error(t, err, "the host end survived stop")
	require.NoError(t, d.Stop(ctx), "second stop")

	// Start again, then stop the container: the pair goes with its
	// namespace and the address is down.
	require.NoError(t, d.Start(ctx))
	in.close()
	closed = true
	require.NoError(t, c.Stop(ctx))
	st, _ = d.Status(ctx)
	require.Equal(t, resource.Down, st)
	require.Eventually(t, func() bool { _, err := bh.LinkByName(hostName); return err != nil }, 5e9, 50e6)
}

// TestAddressOnForeignLink checks that an address found on a link that is
// not the resource's pair is reported, and that stop removes only the
// address.
func TestAddressOnForeignLink(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	nsName, ns := testenv.NetNS(t)
	testenv.Bridge(t, ns, "br0", "10.0.0.1/24")
	ctx := context.Background()
	name := testenv.RandomName("svckit-test-ipdocker-")
	containers := map[string]map[string]string{"container#01db": {"run_image": image, "name": name, "run_args": "--net=none"}}
	cfg := service(with(seedValues(), "ipdev_netns", nsName, "del_net_route", "false"), containers)
	cc, _ := cfg.Section("container#01db")
	c, err := cdocker.New(ctx, cc)
	require.NoError(t, err)
	testenv.RemoveContainer(t, cli, name)
	require.NoError(t, c.Start(ctx))
	r, err := New(ctx, cfg)
	require.NoError(t, err)
	d := r.(*IP)

	in, err := d.containerNS(ctx)
	require.NoError(t, err)
	defer in.close()
	lo, err := in.h.LinkByName("lo")
	require.NoError(t, err)
	require.NoError(t, in.h.AddrAdd(lo, &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("10.0.0.34"), Mask: net.CIDRMask(32, 32)}}))

	// Start sees the address and does nothing; status warns: no pair.
	require.NoError(t, d.Start(ctx))
	st, err := d.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "the host end")
	require.NoError(t, d.Stop(ctx))
	_, err = in.h.LinkByName("lo")
	require.NoError(t, err)
	addrs, err := in.h.AddrList(lo, unix.AF_INET)
	require.NoError(t, err)
	for _, a := range addrs {
		require.NotEqual(t, "10.0.0.34", a.IP.String())
	}
}
