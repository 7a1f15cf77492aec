package host

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/ip"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
)

func cfg(values map[string]string) driver.Config {
	return driver.Config{RID: "ip#01", Manifest: ip.Host, Svcname: "svc", Values: values}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"ipname": "10.0.0.300", "ipdev": "br0"}, `ipname: "10.0.0.300": expected an ip address`},
		{map[string]string{"ipname": "10.0.0.3", "ipdev": "br0", "netmask": "40"}, `netmask: "40": prefix length out of 0..32`},
		{map[string]string{"ipname": "10.0.0.3", "ipdev": "br0", "ipdev_netns": "a/b"}, `ipdev_netns: network namespace "a/b": expected a name under /run/netns or an absolute path`},
		{map[string]string{"ipname": "10.0.0.3", "ipdev": " "}, `ipdev: expected an interface name`},
	} {
		_, err := New(context.Background(), cfg(tc.values))
		require.EqualError(t, err, tc.want)
	}
}

func TestLabel(t *testing.T) {
	r, err := New(context.Background(), cfg(map[string]string{"ipname": "10.0.0.34", "ipdev": "br0"}))
	require.NoError(t, err)
	require.Equal(t, "10.0.0.34@br0", r.Label())
	uses, order := r.(*IP).Uses()
	require.Empty(t, uses)
	require.Equal(t, resource.OrderByUses, order, "the address depends on nothing")
}

// TestStartStop runs in a network namespace of its own: the host's network is never touched.
func TestStartStop(t *testing.T) {
	name, ns := testenv.NetNS(t)
	// A bridge stands for a plain interface: the dummy module may be absent.
	testenv.Bridge(t, ns, "eth9", "")
	testenv.Bridge(t, ns, "br0", "10.0.0.1/24")
	h := testenv.Handle(t, ns)
	ctx := context.Background()

	for _, tc := range []struct {
		name, ipname, dev, mask, want string
	}{
		{"explicit dotted mask", "10.1.0.5", "eth9", "255.255.0.0", "10.1.0.5/16"},
		{"prefix length", "10.2.0.5", "eth9", "28", "10.2.0.5/28"},
		{"mask of the covering address", "10.0.0.34", "br0", "", "10.0.0.34/24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(ctx, cfg(map[string]string{"ipname": tc.ipname, "ipdev": tc.dev, "netmask": tc.mask, "ipdev_netns": name}))
			require.NoError(t, err)
			st, err := r.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, resource.Down, st)

			require.NoError(t, r.Start(resource.WithDryRun(ctx, true)))
			st, _ = r.Status(ctx)
			require.Equal(t, resource.Down, st, "dry run added the address")

			require.NoError(t, r.Start(ctx))
			require.NoError(t, r.Start(ctx), "second start")
			link, err := h.LinkByName(tc.dev)
			require.NoError(t, err)
			addrs, err := h.AddrList(link, netlink.FAMILY_V4)
			require.NoError(t, err)
			var got []string
			for _, a := range addrs {
				got = append(got, a.IPNet.String())
			}
			require.Contains(t, got, tc.want)
			st, err = r.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, resource.Up, st)

			require.NoError(t, r.Stop(ctx))
			require.NoError(t, r.Stop(ctx), "second stop")
			st, err = r.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, resource.Down, st)
		})
	}

	t.Run("no covering address", func(t *testing.T) {
		r, err := New(ctx, cfg(map[string]string{"ipname": "192.168.7.7", "ipdev": "eth9", "ipdev_netns": name}))
		require.NoError(t, err)
		require.ErrorContains(t, r.Start(ctx), "netmask is not set and no address of eth9 covers 192.168.7.7")
	})

	t.Run("address on another interface", func(t *testing.T) {
		r, err := New(ctx, cfg(map[string]string{"ipname": "10.0.0.1", "ipdev": "eth9", "netmask": "24", "ipdev_netns": name}))
		require.NoError(t, err)
		require.ErrorContains(t, r.Start(ctx), "10.0.0.1 is already on br0")
		st, err := r.Status(ctx)
		require.Equal(t, resource.Down, st)
		require.ErrorContains(t, err, "is on br0, not on eth9")
		require.NoError(t, r.Stop(ctx), "stop leaves the other interface's address")
		_, a, _ := findOn(t, h, "br0")
		require.Equal(t, "10.0.0.1/24", a)
	})

	t.Run("missing interface", func(t *testing.T) {
		r, err := New(ctx, cfg(map[string]string{"ipname": "10.9.0.1", "ipdev": "nope0", "netmask": "24", "ipdev_netns": name}))
		require.NoError(t, err)
		require.ErrorContains(t, r.Start(ctx), "ipdev nope0")
		st, err := r.Status(ctx)
		require.Equal(t, resource.Down, st)
		require.Error(t, err)
		require.NoError(t, r.Stop(ctx))
	})
}

func findOn(t *testing.T, h *netlink.Handle, dev string) (netlink.Link, string, error) {
	link, err := h.LinkByName(dev)
	require.NoError(t, err)
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	require.NoError(t, err)
	require.NotEmpty(t, addrs)
	return link, addrs[0].IPNet.String(), nil
}
