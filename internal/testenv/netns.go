package testenv

import (
	"bufio"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/svckit/svckit/internal/netutil"
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
	ns, err := netutil.NewNamedNS(name)
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

// DialInNetns connects to the TCP address addr from inside ns and returns
// the first line the peer sends: a check that an address plumbed into a
// namespace is reachable, with traffic that never leaves the namespaces.
func DialInNetns(ns netns.NsHandle, addr string) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	// A dedicated goroutine whose thread switches namespace and is never
	// given back to the scheduler if switching back fails.
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- result{err: err}
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			ch <- result{err: err}
			runtime.UnlockOSThread()
			return
		}
		// The socket is created in ns; the rest of the I/O can run
		// anywhere once it exists.
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if serr := netns.Set(orig); serr == nil {
			runtime.UnlockOSThread()
		}
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		ch <- result{line: strings.TrimSpace(line), err: err}
	}()
	r := <-ch
	return r.line, r.err
}
