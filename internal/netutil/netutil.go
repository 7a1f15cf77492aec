// Package netutil holds the netlink helpers the ip drivers share: handles
// in a network namespace and address lookup. What needs no netlink (masks,
// namespace names) is in driver/ip, with the specs.
package netutil

import (
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Handle returns a netlink handle in the network namespace of path ("":
// the agent's own; driver/ip.NetnsPath resolves the ipdev_netns keyword).
// The handle talks to that namespace without switching any thread into
// it.
func Handle(p string) (*netlink.Handle, error) {
	if p == "" {
		return netlink.NewHandle()
	}
	ns, err := netns.GetFromPath(p)
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", p, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in %s: %w", p, err)
	}
	return h, nil
}

// FindAddr returns the link of h's namespace that carries ip, or nil.
func FindAddr(h *netlink.Handle, ip net.IP) (netlink.Link, *netlink.Addr, error) {
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, nil, fmt.Errorf("list addresses: %w", err)
	}
	for i := range addrs {
		a := addrs[i]
		if a.IP.Equal(ip) {
			l, err := h.LinkByIndex(a.LinkIndex)
			if err != nil {
				return nil, nil, fmt.Errorf("link %d of %s: %w", a.LinkIndex, ip, err)
			}
			return l, &a, nil
		}
	}
	return nil, nil, nil
}

// NewNamedNS creates the named network namespace /run/netns/<name> and
// returns a handle on it. netns.NewNamed moves the calling thread into
// the new namespace: it runs here on a goroutine of its own, locked to its
// thread, which switches back; if it cannot, the goroutine ends locked and
// its thread dies with it, so that nothing else ever runs in the wrong
// namespace.
func NewNamedNS(name string) (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("current network namespace: %w", err)}
			return
		}
		defer orig.Close()
		ns, err := netns.NewNamed(name)
		if serr := netns.Set(orig); serr != nil {
			if err == nil {
				ns.Close()
			}
			ch <- result{err: errors.Join(err, fmt.Errorf("back to the original namespace: %w", serr))}
			return // still locked: the thread ends with the goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{ns: ns, err: err}
	}()
	r := <-ch
	return r.ns, r.err
}
