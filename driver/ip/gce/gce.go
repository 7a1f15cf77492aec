// Package gce is the ip.gce driver: a Google Compute Engine route that
// sends ipname/32 to this node (the route's next-hop instance), and the
// address on the local interface ipdev, through netlink.
//
// Import it for its side effect to register ip.gce in the default
// registry, or register NewFactory with options in a registry of your own:
//
//	reg.Register(ip.GCE, ipgce.NewFactory(
//		ipgce.WithGCE(gce.WithEndpoint(url)),
//		ipgce.WithNetNS("/var/run/netns/test1")))
//
// Production plumbs the address in the host's network namespace (the one
// of the calling thread). WithNetNS points the driver at another namespace
// file (a /var/run/netns entry, /proc/<pid>/ns/net): that is how tests run
// the driver against interfaces of a namespace they create, and how a
// program managing several simulated nodes keeps them apart.
package gce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/svckit/svckit/driver"
	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/ip"
	"github.com/svckit/svckit/internal/netutil"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(ip.GCE, NewFactory()) }

// Option configures the factory.
type Option func(*factory)

// WithGCE sets the compute client options. The gce_endpoint keyword wins
// over the endpoint set here.
func WithGCE(opts ...gcec.Option) Option {
	return func(f *factory) { f.gce.Apply(opts...) }
}

// WithNetNS plumbs addresses in the network namespace of the file path
// instead of the calling thread's.
func WithNetNS(path string) Option { return func(f *factory) { f.netns = path } }

type factory struct {
	gce   *gcec.Shared
	netns string
}

// NewFactory returns the ip.gce factory.
func NewFactory(opts ...Option) driver.Factory {
	f := &factory{gce: gcec.NewShared()}
	for _, o := range opts {
		o(f)
	}
	return f.new
}

func (f *factory) new(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := ip.ParseGCESpec(cfg)
	if err != nil {
		return nil, err
	}
	return &IP{
		Base:    cfg.Base(),
		GCESpec: *s,
		API:     f.gce.API(cfg),
		netns:   f.netns,
	}, nil
}

// IP is an ip.gce resource: the spec, and the compute API and netlink at
// action time.
type IP struct {
	resource.Base
	ip.GCESpec
	gcec.API
	netns string
}

func (r *IP) client(ctx context.Context, action string) (*gcec.Client, gcec.Location, error) {
	return r.API.Client(ctx, r.RID(), action)
}

// routeState reads the route and tells whether it sends the address to
// this instance.
func (r *IP) routeState(ctx context.Context, c *gcec.Client, loc gcec.Location) (*computepb.Route, bool, error) {
	rt, err := c.GetRoute(ctx, loc.Project, r.RouteName)
	if gcec.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ok := rt.GetDestRange() == r.DestRange() &&
		gcec.SameResource(rt.GetNextHopInstance(), gcec.InstanceLink(loc.Project, loc.Zone, loc.Instance)) &&
		gcec.LastSegment(rt.GetNetwork()) == gcec.LastSegment(r.Network)
	return rt, ok, nil
}

// Status is up when the route sends the address here and the address is
// on ipdev, down when neither, warn in between. A down resource reports no
// problem unless ipdev is missing; a warn one says which half is missing.
func (r *IP) Status(ctx context.Context) (resource.Status, error) {
	c, loc, err := r.client(ctx, "status")
	if err != nil {
		return resource.Undef, err
	}
	rt, routeOK, err := r.routeState(ctx, c, loc)
	if err != nil {
		return resource.Undef, resource.Errorf(r.RID(), "status", "%w", err)
	}
	addrOK, err := r.hasAddr()
	if err != nil && !isLinkNotFound(err) {
		return resource.Undef, resource.Errorf(r.RID(), "status", "%w", err)
	}
	var notes []string
	switch {
	case rt == nil:
		notes = append(notes, "route "+r.RouteName+" does not exist")
	case !routeOK:
		notes = append(notes, fmt.Sprintf("route %s sends %s to %s", r.RouteName, rt.GetDestRange(), gcec.LastSegment(rt.GetNextHopInstance())))
	}
	if isLinkNotFound(err) {
		notes = append(notes, "interface "+r.Dev+" does not exist")
	} else if !addrOK {
		notes = append(notes, r.IP.String()+" is not on "+r.Dev)
	}
	var note error
	if len(notes) > 0 {
		note = errors.New(strings.Join(notes, "; "))
	}
	switch {
	case routeOK && addrOK:
		return resource.Up, nil
	case !routeOK && !addrOK && !isLinkNotFound(err):
		// Cleanly down: neither half is here (the route may send the
		// address to the node that runs it now). Nothing to report: a
		// note would make the service's overall status warn.
		return resource.Down, nil
	case !routeOK && !addrOK:
		return resource.Down, note
	}
	return resource.Warn, note
}

// Start makes the route send the address here (replacing a route of the
// same name that sends it elsewhere; refusing when a route of another
// name has the same destination), then plumbs the address.
func (r *IP) Start(ctx context.Context) (err error) {
	log := resource.Logger(ctx).With("rid", r.RID())
	c, loc, err := r.client(ctx, "start")
	if err != nil {
		return err
	}
	me := gcec.InstanceLink(loc.Project, loc.Zone, loc.Instance)
	others, err := c.ListRoutes(ctx, loc.Project, fmt.Sprintf("destRange = %q", r.DestRange()))
	if err != nil {
		return resource.Errorf(r.RID(), "start", "%w", err)
	}
	for _, o := range others {
		if o.GetName() != r.RouteName && gcec.LastSegment(o.GetNetwork()) == gcec.LastSegment(r.Network) {
			return resource.Errorf(r.RID(), "start", "route %s already sends %s to %s: it conflicts with route %s; delete it or change routename",
				o.GetName(), r.DestRange(), nextHop(o), r.RouteName)
		}
	}
	rt, ok, err := r.routeState(ctx, c, loc)
	if err != nil {
		return resource.Errorf(r.RID(), "start", "%w", err)
	}
	created := false
	switch {
	case ok:
		log.Info("route already sends the address here", "route", r.RouteName)
	case resource.IsDryRun(ctx):
		if rt != nil {
			log.Info("would replace route", "route", r.RouteName, "next_hop", nextHop(rt))
		}
		log.Info("would create route", "route", r.RouteName, "dest", r.DestRange(), "next_hop", loc.Instance)
	default:
		if rt != nil {
			log.Info("replace route", "route", r.RouteName, "dest", rt.GetDestRange(), "next_hop", nextHop(rt))
			if err := c.DeleteRoute(ctx, loc.Project, r.RouteName); err != nil && !gcec.IsNotFound(err) {
				return resource.Errorf(r.RID(), "start", "%w", err)
			}
		}
		log.Info("create route", "route", r.RouteName, "dest", r.DestRange(), "next_hop", loc.Instance)
		err := c.InsertRoute(ctx, loc.Project, &computepb.Route{
			Name:            proto.String(r.RouteName),
			DestRange:       proto.String(r.DestRange()),
			Network:         proto.String(gcec.NetworkLink(loc.Project, r.Network)),
			NextHopInstance: proto.String(me),
			Description:     proto.String("svckit " + r.RID()),
		})
		if err != nil {
			return resource.Errorf(r.RID(), "start", "%w", err)
		}
		created = true
	}
	if resource.IsDryRun(ctx) {
		log.Info("would add address", "addr", r.addrString(), "dev", r.Dev)
		return nil
	}
	if err := r.addAddr(); err != nil {
		if created {
			// Leave no route to a node that does not answer the address.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if derr := c.DeleteRoute(uctx, loc.Project, r.RouteName); derr != nil {
				log.Error("delete route after failed start", "route", r.RouteName, "error", derr)
			}
		}
		return resource.Errorf(r.RID(), "start", "%w", err)
	}
	log.Info("address plumbed", "addr", r.addrString(), "dev", r.Dev)
	return nil
}

// Stop deletes the route when it sends the address here (a route already
// moved to another node is left alone) and removes the local address.
func (r *IP) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", r.RID())
	c, loc, err := r.client(ctx, "stop")
	if err != nil {
		return err
	}
	rt, _, err := r.routeState(ctx, c, loc)
	if err != nil {
		return resource.Errorf(r.RID(), "stop", "%w", err)
	}
	switch {
	case rt == nil:
		log.Info("route does not exist", "route", r.RouteName)
	case !gcec.SameResource(rt.GetNextHopInstance(), gcec.InstanceLink(loc.Project, loc.Zone, loc.Instance)):
		log.Info("route sends the address to another node: left alone", "route", r.RouteName, "next_hop", nextHop(rt))
	case resource.IsDryRun(ctx):
		log.Info("would delete route", "route", r.RouteName)
	default:
		log.Info("delete route", "route", r.RouteName)
		if err := c.DeleteRoute(ctx, loc.Project, r.RouteName); err != nil && !gcec.IsNotFound(err) {
			return resource.Errorf(r.RID(), "stop", "%w", err)
		}
	}
	if resource.IsDryRun(ctx) {
		log.Info("would remove address", "addr", r.addrString(), "dev", r.Dev)
		return nil
	}
	if err := r.delAddr(); err != nil {
		return resource.Errorf(r.RID(), "stop", "%w", err)
	}
	return nil
}

func (r *IP) addrString() string { return r.IP.String() + "/" + strconv.Itoa(r.Prefix) }

func (r *IP) nlAddr() *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: r.IP, Mask: net.CIDRMask(r.Prefix, 32)}}
}

// handle opens netlink in the configured namespace, or the calling
// thread's.
func (r *IP) handle() (*netlink.Handle, error) { return netutil.Handle(r.netns) }

func (r *IP) link(h *netlink.Handle) (netlink.Link, error) {
	l, err := h.LinkByName(r.Dev)
	if err != nil {
		return nil, fmt.Errorf("ipdev %s: %w", r.Dev, err)
	}
	return l, nil
}

func (r *IP) hasAddr() (bool, error) {
	h, err := r.handle()
	if err != nil {
		return false, err
	}
	defer h.Close()
	l, err := r.link(h)
	if err != nil {
		return false, err
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return false, fmt.Errorf("list addresses of %s: %w", r.Dev, err)
	}
	for _, a := range addrs {
		if a.IP.Equal(r.IP) {
			return true, nil
		}
	}
	return false, nil
}

func (r *IP) addAddr() error {
	h, err := r.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := r.link(h)
	if err != nil {
		return err
	}
	if err := h.AddrAdd(l, r.nlAddr()); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s to %s: %w", r.addrString(), r.Dev, err)
	}
	return nil
}

func (r *IP) delAddr() error {
	h, err := r.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := r.link(h)
	if isLinkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.AddrDel(l, r.nlAddr()); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("remove %s from %s: %w", r.addrString(), r.Dev, err)
	}
	return nil
}

func isLinkNotFound(err error) bool {
	var lnf netlink.LinkNotFoundError
	return err != nil && errors.As(err, &lnf)
}

func nextHop(rt *computepb.Route) string {
	switch {
	case rt.GetNextHopInstance() != "":
		return gcec.LastSegment(rt.GetNextHopInstance())
	case rt.GetNextHopIp() != "":
		return rt.GetNextHopIp()
	case rt.GetNextHopGateway() != "":
		return gcec.LastSegment(rt.GetNextHopGateway())
	}
	return "?"
}
