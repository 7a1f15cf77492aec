package main

import (
	"fmt"
	"os"

	"github.com/svckit/svckit/internal/netutil"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// nodeNetNS is a network namespace standing for one node's kernel: the
// real ip.gce plumbs its pods' addresses on br0 there, and the host's
// network is never touched.
type nodeNetNS struct {
	name, path string
}

// newNodeNetNS creates /run/netns/<name> with a bridge br0, up. It needs
// root.
func newNodeNetNS(name string) (*nodeNetNS, error) {
	ns, err := netutil.NewNamedNS(name)
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", name, err)
	}
	defer ns.Close()
	n := &nodeNetNS{name: name, path: "/run/netns/" + name}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("network namespace %s: %w", name, err)
	}
	defer h.Close()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
	if err := h.LinkAdd(br); err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("network namespace %s: add br0: %w", name, err)
	}
	if err := h.LinkSetUp(br); err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("network namespace %s: br0 up: %w", name, err)
	}
	return n, nil
}

// Close deletes the namespace; its bridge and addresses go with it.
func (n *nodeNetNS) Close() error { return netns.DeleteNamed(n.name) }

// canNetNS says why network namespaces cannot be made here, or nil.
func canNetNS() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the cloud mode runs the real ip.gce, whose addresses go on br0 of a network namespace per node: it needs root (uid is %d)", os.Geteuid())
	}
	return nil
}
