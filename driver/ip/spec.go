package ip

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/resource"
)

// HostSpec is an ip.host section, parsed.
type HostSpec struct {
	IP net.IP
	// Mask is nil when netmask is unset: the mask of the ipdev address
	// that covers IP is used.
	Mask  net.IPMask
	Dev   string
	Netns string // the namespace path; "" for the agent's own
}

// ParseHostSpec reads an ip.host section.
func ParseHostSpec(cfg driver.Config) (*HostSpec, error) {
	s := &HostSpec{}
	var err error
	if s.IP, err = parseIP(cfg, "ipname"); err != nil {
		return nil, err
	}
	if v := strings.TrimSpace(cfg.String("netmask")); v != "" {
		if s.Mask, err = ParseMask(v, s.IP); err != nil {
			return nil, &driver.KeywordError{Keyword: "netmask", Err: err}
		}
	}
	if s.Dev, err = parseDev(cfg, "an interface name"); err != nil {
		return nil, err
	}
	if s.Netns, err = parseNetns(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Label is "<ipname>@<ipdev>".
func (s *HostSpec) Label() string { return s.IP.String() + "@" + s.Dev }

// Provides names nothing.
func (s *HostSpec) Provides() []string { return nil }

// Uses names nothing: the address depends on no other resource of the
// service.
func (s *HostSpec) Uses() ([]string, resource.Ordering) { return nil, resource.OrderByUses }

// GCESpec is an ip.gce section, parsed.
type GCESpec struct {
	// IP is the IPv4 address routed to the node.
	IP net.IP
	// Prefix is the prefix length of the address on Dev (32 unless
	// netmask says otherwise).
	Prefix    int
	Dev       string
	RouteName string
	Network   string
}

// ParseGCESpec reads an ip.gce section. The location keywords are read by
// driver/gce.
func ParseGCESpec(cfg driver.Config) (*GCESpec, error) {
	s := &GCESpec{Prefix: 32, RouteName: strings.TrimSpace(cfg.String("routename")), Network: strings.TrimSpace(cfg.String("network"))}
	ip, err := parseIP(cfg, "ipname")
	if err != nil {
		return nil, err
	}
	if s.IP = ip.To4(); s.IP == nil {
		return nil, driver.KeywordErrorf("ipname", "%q is not an IPv4 address (GCE routes are IPv4)", cfg.String("ipname"))
	}
	if s.Dev, err = parseDev(cfg, "the interface to plumb "+s.IP.String()+" on"); err != nil {
		return nil, err
	}
	if s.RouteName == "" {
		return nil, driver.KeywordErrorf("routename", "expected the name of the route of %s", s.IP)
	}
	if s.Network == "" {
		return nil, driver.KeywordErrorf("network", "expected the VPC network of the route")
	}
	if m := strings.TrimSpace(cfg.String("netmask")); m != "" {
		mask, err := ParseMask(m, s.IP)
		if err != nil {
			return nil, &driver.KeywordError{Keyword: "netmask", Err: err}
		}
		s.Prefix, _ = mask.Size()
	}
	return s, nil
}

// Label is "gce ip <ipname>@<ipdev>", as the reference prints it.
func (s *GCESpec) Label() string { return "gce ip " + s.IP.String() + "@" + s.Dev }

// Provides names nothing.
func (s *GCESpec) Provides() []string { return nil }

// Uses names nothing: the route and the address depend on no other
// resource.
func (s *GCESpec) Uses() ([]string, resource.Ordering) { return nil, resource.OrderByUses }

// DestRange is the destination of the route: <ipname>/32.
func (s *GCESpec) DestRange() string { return s.IP.String() + "/32" }

// DockerSpec is an ip.docker section, parsed.
type DockerSpec struct {
	IP          net.IP
	Mask        net.IPMask
	Network     net.IP // IP masked by Mask; the network keyword must agree
	Gateway     net.IP // nil when unset
	DelNetRoute bool
	// Dev is the host bridge.
	Dev   string
	Netns string // the namespace of Dev; "" for the agent's own
	// ContainerRID is the rid of the container whose namespace gets the
	// address, and Container its name.
	ContainerRID string
	Container    string
	// Daemon is the Docker daemon of the container: the service's private
	// one when DEFAULT sets docker_data_dir.
	Daemon container.Daemon
}

// ParseDockerSpec reads an ip.docker section. The container is looked up
// with cfg.Section; a Config without one (built by hand) assumes the
// container has its default name.
func ParseDockerSpec(cfg driver.Config) (*DockerSpec, error) {
	s := &DockerSpec{ContainerRID: strings.TrimSpace(cfg.String("container_rid"))}
	var err error
	if s.IP, err = parseIP(cfg, "ipname"); err != nil {
		return nil, err
	}
	v := strings.TrimSpace(cfg.String("netmask"))
	if v == "" {
		return nil, driver.KeywordErrorf("netmask", "required by ip.docker (255.255.255.0 or 24)")
	}
	if s.Mask, err = ParseMask(v, s.IP); err != nil {
		return nil, &driver.KeywordError{Keyword: "netmask", Err: err}
	}
	ones, _ := s.Mask.Size()
	s.Network = s.IP.Mask(s.Mask)
	if v := strings.TrimSpace(cfg.String("network")); v != "" {
		n := net.ParseIP(v)
		if n == nil {
			return nil, driver.KeywordErrorf("network", "%q: expected an ip address", v)
		}
		if !n.Equal(s.Network) {
			return nil, driver.KeywordErrorf("network", "%s: %s/%d is in %s", v, s.IP, ones, s.Network)
		}
	}
	if v := strings.TrimSpace(cfg.String("gateway")); v != "" {
		if s.Gateway = net.ParseIP(v); s.Gateway == nil {
			return nil, driver.KeywordErrorf("gateway", "%q: expected an ip address", v)
		}
		if !(&net.IPNet{IP: s.Network, Mask: s.Mask}).Contains(s.Gateway) {
			return nil, driver.KeywordErrorf("gateway", "%s is not in %s/%d", v, s.Network, ones)
		}
	}
	if s.DelNetRoute, err = cfg.BoolOf("del_net_route"); err != nil {
		return nil, err
	}
	if s.DelNetRoute && s.Gateway == nil {
		return nil, driver.KeywordErrorf("del_net_route", "needs gateway: without the subnet route only the gateway can be reached")
	}
	if s.Dev, err = parseDev(cfg, "the name of a bridge"); err != nil {
		return nil, err
	}
	if s.Netns, err = parseNetns(cfg); err != nil {
		return nil, err
	}
	if resource.Group(s.ContainerRID) != "container" {
		return nil, driver.KeywordErrorf("container_rid", "%q: expected the rid of a container section (container#...)", s.ContainerRID)
	}
	cc := driver.Config{Svcname: cfg.Svcname, RID: s.ContainerRID}
	if cfg.Section != nil {
		var ok bool
		if cc, ok = cfg.Section(s.ContainerRID); !ok {
			return nil, driver.KeywordErrorf("container_rid", "%s is not a section of service %s", s.ContainerRID, cfg.Svcname)
		}
		if cc.Manifest.ID != "" && cc.Manifest.Group() != "container" {
			return nil, driver.KeywordErrorf("container_rid", "%s is a %s resource, expected a container", s.ContainerRID, cc.Manifest.ID)
		}
	}
	s.Container = container.Name(cc)
	if s.Daemon, err = container.DaemonOf(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Label is "<ipname>@<ipdev>"; the driver adds the container id once it
// has seen the container, as the reference shows it.
func (s *DockerSpec) Label() string { return s.IP.String() + "@" + s.Dev }

// Provides names nothing.
func (s *DockerSpec) Provides() []string { return nil }

// Uses names the container: the address is plumbed after it starts and
// removed before it stops.
func (s *DockerSpec) Uses() ([]string, resource.Ordering) {
	return []string{"rid:" + s.ContainerRID}, resource.OrderByUses
}

func parseIP(cfg driver.Config, name string) (net.IP, error) {
	v := strings.TrimSpace(cfg.String(name))
	ip := net.ParseIP(v)
	if ip == nil {
		return nil, driver.KeywordErrorf(name, "%q: expected an ip address", v)
	}
	return ip, nil
}

func parseDev(cfg driver.Config, what string) (string, error) {
	dev := strings.TrimSpace(cfg.String("ipdev"))
	if dev == "" {
		return "", driver.KeywordErrorf("ipdev", "expected %s", what)
	}
	return dev, nil
}

func parseNetns(cfg driver.Config) (string, error) {
	p, err := NetnsPath(strings.TrimSpace(cfg.String("ipdev_netns")))
	if err != nil {
		return "", &driver.KeywordError{Keyword: "ipdev_netns", Err: err}
	}
	return p, nil
}

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
			return nil, fmt.Errorf("%q: prefix length out of 0..%d", v, bits)
		}
		return net.CIDRMask(n, bits), nil
	}
	m := net.ParseIP(s)
	if m == nil || bits != 32 || m.To4() == nil {
		return nil, fmt.Errorf("%q: expected a prefix length (24) or a dotted mask (255.255.255.0)", v)
	}
	mask := net.IPMask(m.To4())
	if ones, b := mask.Size(); ones == 0 && b == 0 {
		return nil, fmt.Errorf("%q: not a contiguous mask", v)
	}
	return mask, nil
}
