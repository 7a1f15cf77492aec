package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/ip"
	ipgce "github.com/svckit/svckit/driver/ip/gce"
)

// nodeNetNS is a network namespace standing in for a node's network: a
// bridge br0, up, with the node's address, as spdc.network configures it.
// The host's own namespace is never touched.
type nodeNetNS struct {
	name string
	path string
}

// newNodeNetNS creates the named namespace /run/netns/<name> with br0
// holding addr/24. It needs root.
func newNodeNetNS(name, addr string) (*nodeNetNS, error) {
	ns, err := func() (netns.NsHandle, error) {
		// netns.NewNamed moves the calling thread into the new namespace:
		// pin it, and come back before anything else runs on it.
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			return 0, err
		}
		defer orig.Close()
		ns, err := netns.NewNamed(name)
		if serr := netns.Set(orig); serr != nil {
			// The thread stays locked and dies with the goroutine.
			return 0, errors.Join(err, fmt.Errorf("back to the original namespace: %w", serr))
		}
		runtime.UnlockOSThread()
		return ns, err
	}()
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", name, err)
	}
	defer ns.Close()
	n := &nodeNetNS{name: name, path: "/run/netns/" + name}
	if err := setupBridge(ns, addr); err != nil {
		n.Close()
		return nil, fmt.Errorf("network namespace %s: %w", name, err)
	}
	return n, nil
}

func setupBridge(ns netns.NsHandle, addr string) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}); err != nil {
		return fmt.Errorf("add br0: %w", err)
	}
	l, err := h.LinkByName("br0")
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("br0 up: %w", err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(addr).To4(), Mask: net.CIDRMask(24, 32)}}
	if err := h.AddrAdd(l, a); err != nil {
		return fmt.Errorf("br0 address %s: %w", addr, err)
	}
	return nil
}

// Addrs lists the IPv4 addresses on br0.
func (n *nodeNetNS) Addrs() ([]string, error) {
	ns, err := netns.GetFromPath(n.path)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	l, err := h.LinkByName("br0")
	if err != nil {
		return nil, err
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
	}
	return out, nil
}

// Close deletes the namespace (its bridge and addresses go with it).
func (n *nodeNetNS) Close() error { return netns.DeleteNamed(n.name) }

// useRealIPGCE registers the real ip.gce in reg: routes on the fake
// compute API as this node, addresses on br0 of the node's namespace.
func useRealIPGCE(reg *driver.Registry, c *cloud, node string, ns *nodeNetNS) (string, error) {
	in, ok := c.nodes[node]
	if !ok {
		return "", fmt.Errorf("node %s: no instance", node)
	}
	reg.Replace(ip.GCE, ipgce.NewFactory(
		ipgce.WithGCE(gce.WithEndpoint(c.srv.URL), gce.WithMetadataHost(in.MetadataHost)),
		ipgce.WithNetNS(ns.path),
	))
	return fmt.Sprintf("real (fake compute API %s; addresses on br0 of a network namespace per node)", c.srv.URL), nil
}

// canReal says why -real cannot run here, or nil.
func canReal() error {
	if os.Geteuid() != 0 {
		return errors.New("-real needs root (network namespaces, netlink)")
	}
	return nil
}
