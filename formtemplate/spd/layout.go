package spd

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// Layout is where each pod of an spd service runs and with which
// addresses: what the config says, in a form the cluster code (pod
// migration, route checks) can use without parsing the config.
type Layout struct {
	Svcname string `json:"svcname"`
	App     string `json:"app"`
	SMImage string `json:"dism"`
	DBImage string `json:"didb"`
	// RootPassword is never marshalled.
	RootPassword Secret `json:"-"`
	// Nodes in config order; the first is the flex primary.
	Nodes []Node `json:"nodes"`
	// Pods by number, 1 to len(Pods).
	Pods []Pod `json:"pods"`
}

// Node is a flex node and the address of its br0 bridge, the gateway of
// the containers it runs.
type Node struct {
	Name    string     `json:"name"`
	Gateway netip.Addr `json:"gateway"`
}

// Pod is one shard: a Spider (sm) and a MariaDB (db) container.
type Pod struct {
	// Num is the pod number, from 1.
	Num  int    `json:"num"`
	Node string `json:"node"`
	// SMIP and DBIP are the container addresses; they follow the pod
	// when it moves, and so do their GCE routes (rt-ip<last byte>).
	SMIP    netip.Addr `json:"sm_ip"`
	DBIP    netip.Addr `json:"db_ip"`
	Gateway netip.Addr `json:"gateway"`
}

// ID is the pod number as rids write it: "01", "32", "110".
func (p Pod) ID() string { return fmt.Sprintf("%02d", p.Num) }

// Tag is the tag selecting every resource of the pod: "pod01".
func (p Pod) Tag() string { return "pod" + p.ID() }

// RIDs are the resource ids of the pod, in config order.
func (p Pod) RIDs() []string {
	id := p.ID()
	return []string{"disk#" + id, "fs#" + id, "ip#" + id + "smg", "ip#" + id + "sm", "container#" + id + "sm",
		"ip#" + id + "dbg", "ip#" + id + "db", "container#" + id + "db"}
}

// RouteNames are the GCE routes of the pod's addresses.
func (p Pod) RouteNames() []string { return []string{routeName(p.SMIP), routeName(p.DBIP)} }

func routeName(a netip.Addr) string { return "rt-ip" + strconv.Itoa(int(a.As4()[3])) }

var subnet = netip.MustParsePrefix("10.0.0.0/24")

func hostAddr(n int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}) }

// hostNum returns the last byte of a subnet address, or 0.
func hostNum(a netip.Addr) int {
	if !a.Is4() || !subnet.Contains(a) {
		return 0
	}
	return int(a.As4()[3])
}

// NewLayout spreads the pods over the nodes in order, in contiguous runs:
// each node gets NPods/len(Nodes) pods and the first NPods%len(Nodes)
// nodes one more (the Mangle's layout when the nodes divide the pods).
// Pod n gets the addresses 10.0.0.(31+2n) (sm) and 10.0.0.(32+2n) (db);
// the i-th node (0-based) has the gateway 10.0.0.(i+1).
func NewLayout(in Inputs) (Layout, error) {
	if err := in.Validate(); err != nil {
		return Layout{}, err
	}
	l := Layout{
		Svcname: in.Svcname, App: in.App, SMImage: in.SMImage, DBImage: in.DBImage,
		RootPassword: in.RootPassword,
		Nodes:        make([]Node, len(in.Nodes)),
		Pods:         make([]Pod, 0, in.NPods),
	}
	for i, n := range in.Nodes {
		l.Nodes[i] = Node{Name: n, Gateway: hostAddr(i + 1)}
	}
	per, extra := in.NPods/len(in.Nodes), in.NPods%len(in.Nodes)
	num := 1
	for i, n := range l.Nodes {
		count := per
		if i < extra {
			count++
		}
		for range count {
			l.Pods = append(l.Pods, Pod{Num: num, Node: n.Name,
				SMIP: hostAddr(FirstPodIP + 2*(num-1)), DBIP: hostAddr(FirstPodIP + 2*(num-1) + 1), Gateway: n.Gateway})
			num++
		}
	}
	return l, nil
}

// Generate returns the service config of the inputs: NewLayout, then
// Layout.Config.
func Generate(in Inputs) ([]byte, error) {
	l, err := NewLayout(in)
	if err != nil {
		return nil, err
	}
	return l.Config()
}

// Inputs returns the form inputs the layout was made from (or would be).
func (l Layout) Inputs() Inputs {
	return Inputs{NPods: len(l.Pods), Svcname: l.Svcname, App: l.App, Nodes: l.NodeNames(),
		SMImage: l.SMImage, DBImage: l.DBImage, RootPassword: l.RootPassword}
}

// NodeNames returns the node names in config order.
func (l Layout) NodeNames() []string {
	names := make([]string, len(l.Nodes))
	for i, n := range l.Nodes {
		names[i] = n.Name
	}
	return names
}

// Node returns the node of name.
func (l Layout) Node(name string) (Node, bool) {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// Pod returns pod number num.
func (l Layout) Pod(num int) (Pod, bool) {
	if num < 1 || num > len(l.Pods) {
		return Pod{}, false
	}
	return l.Pods[num-1], true
}

// PodsOn returns the pods of a node, by number.
func (l Layout) PodsOn(node string) []Pod {
	var pods []Pod
	for _, p := range l.Pods {
		if p.Node == node {
			pods = append(pods, p)
		}
	}
	return pods
}

// Counts returns the number of pods of each node (0 for a node without
// pods).
func (l Layout) Counts() map[string]int {
	c := make(map[string]int, len(l.Nodes))
	for _, n := range l.Nodes {
		c[n.Name] = 0
	}
	for _, p := range l.Pods {
		c[p.Node]++
	}
	return c
}

// Validate checks the layout is one a config can be rendered from: the
// inputs' checks, pods numbered 1..N on listed nodes, addresses in the
// pod range and unique, each pod's gateway its node's, node gateways
// unique in 10.0.0.1-32.
func (l Layout) Validate() error {
	var p problems
	if err := l.Inputs().Validate(); err != nil {
		return err
	}
	gateways := map[netip.Addr]string{}
	nodes := map[string]Node{}
	for _, n := range l.Nodes {
		nodes[n.Name] = n
		if h := hostNum(n.Gateway); h < 1 || h > MaxNodes {
			p.add(InputNodes, "node %s: gateway %v is not a node address (10.0.0.1 to 10.0.0.%d)", n.Name, n.Gateway, MaxNodes)
		} else if other, dup := gateways[n.Gateway]; dup {
			p.add(InputNodes, "nodes %s and %s have the same gateway %v", other, n.Name, n.Gateway)
		}
		gateways[n.Gateway] = n.Name
	}
	addrs := map[netip.Addr]int{}
	for i, pod := range l.Pods {
		if pod.Num != i+1 {
			p.add(InputNPods, "pod %d is listed where pod %d goes: expected pods numbered 1 to %d in order", pod.Num, i+1, len(l.Pods))
			continue
		}
		n, ok := nodes[pod.Node]
		if !ok {
			p.add(InputNodes, "pod%s is on %q, which is not a node of the layout", pod.ID(), pod.Node)
		} else if pod.Gateway != n.Gateway {
			p.add(InputNodes, "pod%s has the gateway %v, its node %s has %v", pod.ID(), pod.Gateway, n.Name, n.Gateway)
		}
		for _, a := range []netip.Addr{pod.SMIP, pod.DBIP} {
			if h := hostNum(a); h < FirstPodIP || h > LastPodIP {
				p.add(InputNPods, "pod%s: address %v is out of the pod range 10.0.0.%d-%d", pod.ID(), a, FirstPodIP, LastPodIP)
			} else if other, dup := addrs[a]; dup {
				p.add(InputNPods, "pods %02d and %s share the address %v", other, pod.ID(), a)
			}
			addrs[a] = pod.Num
		}
	}
	return p.err()
}

// clone returns a deep copy.
func (l Layout) clone() Layout {
	l.Nodes = slices.Clone(l.Nodes)
	l.Pods = slices.Clone(l.Pods)
	return l
}
