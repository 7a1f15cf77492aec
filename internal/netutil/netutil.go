// Package netutil holds what the ip drivers share: netlink handles in a
// named network namespace, and netmask parsing.
package netutil

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NetnsPath returns the path of the namespace spec names: "" for the
// agent's own, a bare name for /run/netns/<name>, or a path as it is.
func NetnsPath(spec string) (string, error) {
	switch {
	case spec == "":
		return "", nil
	case filepath.IsAbs(spec):
		return filepath.Clean(spec), nil
	case strings.ContainsAny(spec, "/ ") || spec == "." || spec == "..":
		return "", fmt.Errorf("network namespace %q: expected a name under /run/netns or an absolute path", spec)
	}
	return "/run/netns/" + spec, nil
}

// Handle returns a netlink handle in the network namespace spec names
// (see NetnsPath). The handle talks to that namespace without switching
// any thread into it.
func Handle(spec string) (*netlink.Handle, error) {
	p, err := NetnsPath(spec)
	if err != nil {
		return nil, err
	}
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

// ParseMask reads a netmask written dotted (255.255.255.0) or as a prefix
// length (24, /24) for an address of ip's family.
func ParseMask(v string, ip net.IP) (net.IPMask, error) {
	bits := 128
	if ip.To4() != nil {
		bits = 32
	}
	s := strings.TrimPrefix(strings.TrimSpace(v), "/")
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > bits {
			return nil, fmt.Errorf("netmask %q: prefix length out of 0..%d", v, bits)
		}
		return net.CIDRMask(n, bits), nil
	}
	m := net.ParseIP(s)
	if m == nil || bits != 32 || m.To4() == nil {
		return nil, fmt.Errorf("netmask %q: expected a prefix length (24) or a dotted mask (255.255.255.0)", v)
	}
	mask := net.IPMask(m.To4())
	if ones, b := mask.Size(); ones == 0 && b == 0 {
		return nil, fmt.Errorf("netmask %q: not a contiguous mask", v)
	}
	return mask, nil
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
