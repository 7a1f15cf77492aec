package testenv

import (
	"net"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// RequireNetns skips t unless network namespaces can be made (root).
func RequireNetns(t testing.TB) {
	t.Helper()
	RequireRoot(t)
}

// NetNS creates a named network namespace (/run/netns/<name>), the place
// where tests put their bridges and addresses so that the host's network
// is never touched. It returns the name and a handle; both go when t ends.
func NetNS(t testing.TB) (string, netns.NsHandle) {
	t.Helper()
	RequireNetns(t)
	name := RandomName("svckit-test-")
	// netns.NewNamed switches the calling thread into the new namespace:
	// lock the thread and switch back before anything else runs on it.
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("get current netns: %v", err)
	}
	ns, err := netns.NewNamed(name)
	if serr := netns.Set(orig); serr != nil {
		// The thread stays locked and dies with the goroutine, so that no
		// other goroutine runs in the wrong namespace.
		t.Fatalf("switch back to the original netns: %v", serr)
	}
	orig.Close()
	runtime.UnlockOSThread()
	if err != nil {
		Skip(t, "cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("delete netns %s: %v", name, err)
		}
	})
	return name, ns
}

// Handle returns a netlink handle inside ns, closed when t ends.
func Handle(t testing.TB, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle in netns: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// Bridge creates the bridge name inside ns, sets it up and, when cidr is
// not empty, gives it that address (10.0.0.1/24).
func Bridge(t testing.TB, ns netns.NsHandle, name, cidr string) *netlink.Bridge {
	t.Helper()
	h := Handle(t, ns)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(br); err != nil {
		t.Fatalf("add bridge %s: %v", name, err)
	}
	if err := h.LinkSetUp(br); err != nil {
		t.Fatalf("set bridge %s up: %v", name, err)
	}
	if cidr != "" {
		ip, ipnet, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatalf("bridge address %q: %v", cidr, err)
		}
		ipnet.IP = ip
		if err := h.AddrAdd(br, &netlink.Addr{IPNet: ipnet}); err != nil {
			t.Fatalf("add %s to %s: %v", cidr, name, err)
		}
	}
	return br
}
