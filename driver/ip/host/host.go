// Package host is the ip.host driver: an address on an interface of the
// node, added and removed with netlink.
//
// Import it for its side effect of registering "ip.host":
//
//	import _ "github.com/svckit/svckit/driver/ip/host"
//
// The ipdev_netns keyword puts the interface in another network namespace
// (a name under /run/netns or a path); by default it is the agent's, the
// host's.
package host

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/ip"
	"github.com/svckit/svckit/internal/netutil"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(ip.Host, New) }

// IP is an ip.host resource: the spec, and netlink at action time.
type IP struct {
	resource.Base
	ip.HostSpec
}

var _ resource.User = (*IP)(nil)

// New is the ip.host factory.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := ip.ParseHostSpec(cfg)
	if err != nil {
		return nil, err
	}
	return &IP{Base: cfg.Base(), HostSpec: *s}, nil
}

// Status is up when ipname is on ipdev.
func (r *IP) Status(context.Context) (resource.Status, error) {
	h, err := netutil.Handle(r.Netns)
	if err != nil {
		return resource.Undef, err
	}
	defer h.Close()
	link, err := h.LinkByName(r.Dev)
	if err != nil {
		return resource.Down, fmt.Errorf("ipdev %s: %w", r.Dev, err)
	}
	on, _, err := netutil.FindAddr(h, r.IP)
	if err != nil {
		return resource.Undef, err
	}
	switch {
	case on == nil:
		return resource.Down, nil
	case on.Attrs().Index != link.Attrs().Index:
		return resource.Down, fmt.Errorf("%s is on %s, not on %s", r.IP, on.Attrs().Name, r.Dev)
	}
	return resource.Up, nil
}

// prefix returns ip/mask, the mask defaulting to the one of the ipdev
// address whose network contains ip.
func (r *IP) prefix(h *netlink.Handle, link netlink.Link) (*net.IPNet, error) {
	if r.Mask != nil {
		return &net.IPNet{IP: r.IP, Mask: r.Mask}, nil
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", r.Dev, err)
	}
	for _, a := range addrs {
		if a.IPNet != nil && a.IPNet.Contains(r.IP) {
			return &net.IPNet{IP: r.IP, Mask: a.Mask}, nil
		}
	}
	return nil, fmt.Errorf("netmask is not set and no address of %s covers %s: set netmask", r.Dev, r.IP)
}

// Start adds ipname to ipdev. Present already is success; present on
// another interface is an error.
func (r *IP) Start(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", r.ID)
	h, err := netutil.Handle(r.Netns)
	if err != nil {
		return resource.Errorf(r.ID, "start", "%w", err)
	}
	defer h.Close()
	link, err := h.LinkByName(r.Dev)
	if err != nil {
		return resource.Errorf(r.ID, "start", "ipdev %s: %w", r.Dev, err)
	}
	on, _, err := netutil.FindAddr(h, r.IP)
	if err != nil {
		return resource.Errorf(r.ID, "start", "%w", err)
	}
	if on != nil {
		if on.Attrs().Index != link.Attrs().Index {
			return resource.Errorf(r.ID, "start", "%s is already on %s", r.IP, on.Attrs().Name)
		}
		log.Info("address already up", "ip", r.IP.String(), "dev", r.Dev)
		return nil
	}
	pfx, err := r.prefix(h, link)
	if err != nil {
		return resource.Errorf(r.ID, "start", "%w", err)
	}
	if resource.IsDryRun(ctx) {
		log.Info("would add address", "addr", pfx.String(), "dev", r.Dev)
		return nil
	}
	if err := h.AddrAdd(link, &netlink.Addr{IPNet: pfx}); err != nil && !errors.Is(err, unix.EEXIST) {
		return resource.Errorf(r.ID, "start", "add %s to %s: %w", pfx, r.Dev, err)
	}
	log.Info("address added", "addr", pfx.String(), "dev", r.Dev)
	return nil
}

// Stop removes ipname from ipdev; absent is success.
func (r *IP) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", r.ID)
	h, err := netutil.Handle(r.Netns)
	if err != nil {
		return resource.Errorf(r.ID, "stop", "%w", err)
	}
	defer h.Close()
	link, err := h.LinkByName(r.Dev)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			log.Info("ipdev absent, nothing to remove", "dev", r.Dev)
			return nil
		}
		return resource.Errorf(r.ID, "stop", "ipdev %s: %w", r.Dev, err)
	}
	on, addr, err := netutil.FindAddr(h, r.IP)
	if err != nil {
		return resource.Errorf(r.ID, "stop", "%w", err)
	}
	if on == nil || on.Attrs().Index != link.Attrs().Index {
		log.Info("address not on ipdev, nothing to remove", "ip", r.IP.String(), "dev", r.Dev)
		return nil
	}
	if resource.IsDryRun(ctx) {
		log.Info("would remove address", "addr", addr.IPNet.String(), "dev", r.Dev)
		return nil
	}
	if err := h.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return resource.Errorf(r.ID, "stop", "remove %s from %s: %w", addr.IPNet, r.Dev, err)
	}
	log.Info("address removed", "addr", addr.IPNet.String(), "dev", r.Dev)
	return nil
}
