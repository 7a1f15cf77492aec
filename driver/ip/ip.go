// Package ip holds the keyword manifests and the specs of the ip drivers
// (ip.host, ip.gce, ip.docker). The implementations live in ip/host,
// ip/gce and ip/docker; driver/fake builds its stand-ins from the same
// specs.
package ip

import "github.com/svckit/svckit/driver"

var (
	ipname = driver.Keyword{Name: "ipname", Kind: driver.IP, Required: true, Scopable: true, Claim: "ip.addr", Text: "the address"}
	// A route to an address is no address on the node: ip.gce routes
	// the address that an ip.docker of the pod plumbs.
	routeIPName = driver.Keyword{Name: "ipname", Kind: driver.IP, Required: true, Scopable: true, Claim: "ip.gce.route", Text: "the address routed to the node"}
	ipdev       = driver.Keyword{Name: "ipdev", Kind: driver.String, Required: true, Scopable: true, Text: "the interface (the host bridge for ip.docker)"}
	mask        = driver.Keyword{Name: "netmask", Kind: driver.String, Scopable: true, Text: "the netmask, dotted (255.255.255.0) or a prefix length (24)"}
	ipdevNetns  = driver.Keyword{Name: "ipdev_netns", Kind: driver.String, Scopable: true, Text: "the network namespace of ipdev: a name under /run/netns or a path (default: the namespace of the agent, the host's)"}
)

// Host is the manifest of ip.host: an address on a host interface.
var Host = driver.Manifest{
	ID:       "ip.host",
	Text:     "an address plumbed on a host interface",
	Spec:     driver.SpecOf(ParseHostSpec),
	Keywords: []driver.Keyword{ipname, ipdev, mask, ipdevNetns},
}

// GCE is the manifest of ip.gce: a Google Compute Engine route sending the
// address to this node, and the address on a local interface.
var GCE = driver.Manifest{
	ID:   "ip.gce",
	Text: "a Google Compute Engine route whose next hop is this node, and the /32 address on ipdev",
	Spec: driver.SpecOf(ParseGCESpec),
	Keywords: []driver.Keyword{routeIPName, ipdev, mask,
		{Name: "routename", Kind: driver.String, Required: true, Scopable: true, Claim: "ip.gce.routename", Text: "the name of the route"},
		{Name: "network", Kind: driver.String, Scopable: true, Default: "default", Text: "the VPC network of the route"},
		{Name: "gce_zone", Kind: driver.String, Scopable: true, Text: "the zone of the instance (default: from the metadata server)"},
		{Name: "gce_project", Kind: driver.String, Scopable: true, Text: "the project (default: from the metadata server)"},
		{Name: "gce_instance", Kind: driver.String, Scopable: true, Text: "the next-hop instance (default: the node's, from the metadata server)"},
		{Name: "gce_endpoint", Kind: driver.String, Scopable: true, Text: "a compute API endpoint to use instead of Google's"},
	},
}

// Docker is the manifest of ip.docker: an address plumbed into a
// container's network namespace through a veth pair on a host bridge.
var Docker = driver.Manifest{
	ID:   "ip.docker",
	Text: "an address in a container's network namespace, through a veth pair attached to the host bridge ipdev",
	Spec: driver.SpecOf(ParseDockerSpec),
	Keywords: []driver.Keyword{ipname, ipdev,
		{Name: "netmask", Kind: driver.String, Required: true, Scopable: true, Text: mask.Text},
		{Name: "network", Kind: driver.IP, Scopable: true, Text: "the network address of the subnet"},
		{Name: "gateway", Kind: driver.IP, Scopable: true, Text: "the default gateway set in the container"},
		{Name: "del_net_route", Kind: driver.Bool, Scopable: true, Default: "false", Text: "delete the subnet route in the container, so that all traffic goes through gateway"},
		{Name: "container_rid", Kind: driver.String, Required: true, Text: "the rid of the container resource"},
		ipdevNetns,
	},
}

// Manifests lists every ip manifest.
func Manifests() []driver.Manifest { return []driver.Manifest{Host, GCE, Docker} }
