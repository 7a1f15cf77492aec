// Package docker is the ip.docker driver: an address in a Docker
// container's network namespace, through a veth pair whose host end is
// attached to the bridge ipdev (br0 in the reference).
//
// Import it for its side effect of registering "ip.docker":
//
//	import _ "github.com/svckit/svckit/driver/ip/docker"
//
// The container is the one of the container_rid section (its name keyword,
// default "<svcname>.<rid with # as .>"); it must run, typically with
// --net=none. Start creates the veth pair, attaches the host end to ipdev,
// creates the peer directly in the container's namespace (found from the
// inspect data: the pid, or the sandbox key), names it ethN, sets the
// address and the default route through gateway, and with del_net_route
// replaces the subnet route by a host route to the gateway, so that all
// traffic goes through it. Stop deletes the pair. Status checks the
// address inside the container's namespace.
//
// ipdev_netns names the network namespace of the bridge (a name under
// /run/netns or a path); by default it is the agent's, the host's. Tests
// put their bridge in a namespace of their own with it.
package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/driver/ip"
	"github.com/svckit/svckit/internal/netutil"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(ip.Docker, New) }

// IP is an ip.docker resource: the spec, and the docker API and netlink
// at action time.
type IP struct {
	resource.Base
	ip.DockerSpec

	mu     sync.Mutex
	cli    *client.Client
	lastID string
}

var _ resource.User = (*IP)(nil)

// New is the ip.docker factory.
func New(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := ip.ParseDockerSpec(cfg)
	if err != nil {
		return nil, err
	}
	return &IP{Base: cfg.Base(), DockerSpec: *s}, nil
}

func ones(m net.IPMask) int { n, _ := m.Size(); return n }

// Label is "<ipname>@<ipdev>@<short container id>", as the reference
// shows it, the id once the container was seen.
func (r *IP) Label() string {
	r.mu.Lock()
	id := r.lastID
	r.mu.Unlock()
	l := r.DockerSpec.Label()
	if id != "" {
		if len(id) > 12 {
			id = id[:12]
		}
		l += "@" + id
	}
	return l
}

func (r *IP) client() (*client.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cli != nil {
		return r.cli, nil
	}
	cli, err := dockerd.Client(r.Daemon)
	if err != nil {
		return nil, err
	}
	r.cli = cli
	return cli, nil
}

// target is the running container and a handle in its namespace.
type target struct {
	id string
	ns netns.NsHandle
	h  *netlink.Handle
}

func (t *target) close() {
	t.h.Close()
	t.ns.Close()
}

// containerNS returns the running container's namespace, or nil when the
// container does not exist or does not run.
func (r *IP) containerNS(ctx context.Context) (*target, error) {
	cli, err := r.client()
	if err != nil {
		return nil, err
	}
	res, err := cli.ContainerInspect(ctx, r.Container, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		if dockerd.CheckRunning(r.Daemon) != nil {
			// No daemon, no running container: the address is down
			// with it.
			return nil, nil
		}
		return nil, fmt.Errorf("inspect %s: %w", r.Container, err)
	}
	in := res.Container
	r.mu.Lock()
	r.lastID = in.ID
	r.mu.Unlock()
	if in.State == nil || !in.State.Running || in.State.Pid <= 0 {
		return nil, nil
	}
	ns, err := netns.GetFromPid(in.State.Pid)
	if err != nil && in.NetworkSettings != nil && in.NetworkSettings.SandboxKey != "" {
		ns, err = netns.GetFromPath(in.NetworkSettings.SandboxKey)
	}
	if err != nil {
		return nil, fmt.Errorf("network namespace of %s (pid %d): %w", r.Container, in.State.Pid, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in %s: %w", r.Container, err)
	}
	return &target{id: in.ID, ns: ns, h: h}, nil
}

// vethNames returns the host end name and the temporary peer name of the
// pair of this address in container id: derived from both, so that stop
// finds the pair again, and at most 15 bytes (IFNAMSIZ).
func (r *IP) vethNames(id string) (host, peer string) {
	sum := sha256.Sum256([]byte(id + "/" + r.IP.String()))
	h := hex.EncodeToString(sum[:])[:10]
	return "vsk" + h, "vsp" + h
}

// Status is up when ipname is in the container's namespace, and the host
// end of its pair is attached to ipdev; down when the container does not
// run or the address is absent.
func (r *IP) Status(ctx context.Context) (resource.Status, error) {
	t, err := r.containerNS(ctx)
	if err != nil {
		return resource.Undef, err
	}
	if t == nil {
		// No running container, no namespace: the address is down with
		// it, which is the normal state of a stopped service.
		return resource.Down, nil
	}
	defer t.close()
	link, _, err := netutil.FindAddr(t.h, r.IP)
	if err != nil {
		return resource.Undef, err
	}
	if link == nil {
		return resource.Down, nil
	}
	hostName, _ := r.vethNames(t.id)
	bh, err := netutil.Handle(r.Netns)
	if err != nil {
		return resource.Undef, err
	}
	defer bh.Close()
	hl, err := bh.LinkByName(hostName)
	if err != nil {
		return resource.Warn, fmt.Errorf("%s is on %s in the container, but the host end %s is missing: %w", r.IP, link.Attrs().Name, hostName, err)
	}
	br, err := bh.LinkByName(r.Dev)
	if err != nil || hl.Attrs().MasterIndex != br.Attrs().Index {
		return resource.Warn, fmt.Errorf("the host end %s is not attached to %s", hostName, r.Dev)
	}
	return resource.Up, nil
}

// Start plumbs the address into the running container.
func (r *IP) Start(ctx context.Context) (err error) {
	log := resource.Logger(ctx).With("rid", r.ID)
	t, err := r.containerNS(ctx)
	if err != nil {
		return resource.Errorf(r.ID, "start", "%w", err)
	}
	if t == nil {
		return resource.Errorf(r.ID, "start", "container %s does not run: start %s first", r.Container, r.ContainerRID)
	}
	defer t.close()
	if link, _, err := netutil.FindAddr(t.h, r.IP); err != nil {
		return resource.Errorf(r.ID, "start", "%w", err)
	} else if link != nil {
		log.Info("address already in the container", "ip", r.IP.String(), "dev", link.Attrs().Name, "container", r.Container)
		return nil
	}
	bh, err := netutil.Handle(r.Netns)
	if err != nil {
		return resource.Errorf(r.ID, "start", "%w", err)
	}
	defer bh.Close()
	br, err := bh.LinkByName(r.Dev)
	if err != nil {
		return resource.Errorf(r.ID, "start", "ipdev %s: %w", r.Dev, err)
	}
	if br.Type() != "bridge" {
		return resource.Errorf(r.ID, "start", "ipdev %s is a %s, not a bridge", r.Dev, br.Type())
	}
	hostName, peerName := r.vethNames(t.id)
	if resource.IsDryRun(ctx) {
		log.Info("would plumb", "ip", fmt.Sprintf("%s/%d", r.IP, ones(r.Mask)), "bridge", r.Dev, "veth", hostName, "container", r.Container)
		return nil
	}
	// A host end left from an earlier attempt would make the add fail.
	if old, err := bh.LinkByName(hostName); err == nil {
		if err := bh.LinkDel(old); err != nil {
			return resource.Errorf(r.ID, "start", "delete stale %s: %w", hostName, err)
		}
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: hostName, MTU: br.Attrs().MTU, MasterIndex: br.Attrs().Index},
		PeerName:      peerName,
		PeerNamespace: netlink.NsFd(int(t.ns)),
	}
	if err := bh.LinkAdd(veth); err != nil {
		return resource.Errorf(r.ID, "start", "create veth %s in %s: %w", hostName, r.Container, err)
	}
	defer func() {
		if err != nil {
			// Deleting either end deletes the pair.
			if hl, lerr := bh.LinkByName(hostName); lerr == nil {
				_ = bh.LinkDel(hl)
			}
		}
	}()
	hl, err := bh.LinkByName(hostName)
	if err != nil {
		return resource.Errorf(r.ID, "start", "%s: %w", hostName, err)
	}
	if err := bh.LinkSetUp(hl); err != nil {
		return resource.Errorf(r.ID, "start", "set %s up: %w", hostName, err)
	}
	dev, err := r.plumb(t.h, peerName)
	if err != nil {
		return resource.Errorf(r.ID, "start", "in %s: %w", r.Container, err)
	}
	log.Info("address plumbed", "ip", fmt.Sprintf("%s/%d", r.IP, ones(r.Mask)), "dev", dev, "bridge", r.Dev, "veth", hostName, "container", r.Container)
	return nil
}

// plumb configures the peer inside the container: name, address, routes.
func (r *IP) plumb(h *netlink.Handle, peerName string) (string, error) {
	peer, err := h.LinkByName(peerName)
	if err != nil {
		return "", fmt.Errorf("peer %s: %w", peerName, err)
	}
	links, err := h.LinkList()
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, l := range links {
		taken[l.Attrs().Name] = true
	}
	dev := ""
	for i := 0; ; i++ {
		if n := fmt.Sprintf("eth%d", i); !taken[n] {
			dev = n
			break
		}
	}
	if err := h.LinkSetName(peer, dev); err != nil {
		return "", fmt.Errorf("rename %s to %s: %w", peerName, dev, err)
	}
	if lo, err := h.LinkByName("lo"); err == nil {
		_ = h.LinkSetUp(lo)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: r.IP, Mask: r.Mask}}
	if err := h.AddrAdd(peer, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return "", fmt.Errorf("add %s to %s: %w", addr.IPNet, dev, err)
	}
	if err := h.LinkSetUp(peer); err != nil {
		return "", fmt.Errorf("set %s up: %w", dev, err)
	}
	if r.Gateway == nil {
		return dev, nil
	}
	idx := peer.Attrs().Index
	if r.DelNetRoute {
		// The gateway first gets a route of its own, so that the default
		// route through it stays valid once the subnet route is gone.
		bits := 8 * len(r.Gateway.To16())
		if r.Gateway.To4() != nil {
			bits = 32
		}
		gw := &netlink.Route{LinkIndex: idx, Dst: &net.IPNet{IP: r.Gateway, Mask: net.CIDRMask(bits, bits)}, Scope: netlink.SCOPE_LINK}
		if err := h.RouteReplace(gw); err != nil {
			return "", fmt.Errorf("route to gateway %s: %w", r.Gateway, err)
		}
	}
	def := &netlink.Route{LinkIndex: idx, Gw: r.Gateway}
	if err := h.RouteReplace(def); err != nil {
		return "", fmt.Errorf("default route via %s: %w", r.Gateway, err)
	}
	if r.DelNetRoute {
		subnet := &netlink.Route{LinkIndex: idx, Dst: &net.IPNet{IP: r.Network, Mask: r.Mask}, Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_KERNEL, Src: r.IP}
		if err := h.RouteDel(subnet); err != nil && !errors.Is(err, unix.ESRCH) {
			return "", fmt.Errorf("delete route %s/%d: %w", r.Network, ones(r.Mask), err)
		}
	}
	return dev, nil
}

// Stop removes the address: the veth pair when it is ours, else only the
// address. A container that does not run has no namespace left to clean.
func (r *IP) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", r.ID)
	t, err := r.containerNS(ctx)
	if err != nil {
		return resource.Errorf(r.ID, "stop", "%w", err)
	}
	if t == nil {
		log.Info("container does not run, nothing to remove", "container", r.Container)
		return nil
	}
	defer t.close()
	bh, err := netutil.Handle(r.Netns)
	if err != nil {
		return resource.Errorf(r.ID, "stop", "%w", err)
	}
	defer bh.Close()
	hostName, _ := r.vethNames(t.id)
	if resource.IsDryRun(ctx) {
		log.Info("would remove", "ip", r.IP.String(), "veth", hostName, "container", r.Container)
		return nil
	}
	if hl, err := bh.LinkByName(hostName); err == nil {
		if err := bh.LinkDel(hl); err != nil {
			return resource.Errorf(r.ID, "stop", "delete %s: %w", hostName, err)
		}
		log.Info("veth pair deleted", "veth", hostName, "container", r.Container)
	}
	// The address may still be there: on a link that is not our pair.
	link, addr, err := netutil.FindAddr(t.h, r.IP)
	if err != nil {
		return resource.Errorf(r.ID, "stop", "%w", err)
	}
	if link != nil {
		if err := t.h.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return resource.Errorf(r.ID, "stop", "remove %s from %s: %w", r.IP, link.Attrs().Name, err)
		}
		log.Info("address removed", "ip", r.IP.String(), "dev", link.Attrs().Name, "container", r.Container)
	}
	return nil
}
