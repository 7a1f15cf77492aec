package svc

import "github.com/svckit/svckit/driver"

// serviceKeywords are the keywords of the DEFAULT section. Any driver
// keyword may also be set there, as a default for every section whose
// driver has it (gce_zone in the seed).
var serviceKeywords = []driver.Keyword{
	{Name: "nodes", Kind: driver.List, Text: "the nodes of the service; the first is the default flex primary"},
	{Name: "drpnodes", Kind: driver.List, Text: "the disaster recovery nodes"},
	{Name: "flex_primary", Kind: driver.String, Text: "the node allowed to run cluster-wide actions (default: the first of nodes)"},
	{Name: "drp_flex_primary", Kind: driver.String, Text: "the flex primary among the drp nodes"},
	{Name: "flex_min_nodes", Kind: driver.Int, Default: "1", Text: "flex HA: the fewest live nodes for pods of lost nodes to move (below, nothing moves and the cluster status says why)"},
	{Name: "ha_lease_ttl", Kind: driver.Duration, Default: "10s", Text: "flex HA: the node's lease in etcd; a node that cannot renew it stops its pods before it can expire, and the pods of a node whose lease expired move after a grace of half of it"},
	{Name: "ha_max_pods_per_node", Kind: driver.Int, Default: "0", Text: "flex HA: the most pods a failover leaves on a node (0: no limit)"},
	{Name: "cluster_type", Kind: driver.String, Candidates: []string{"failover", "flex"}, Default: "failover", Text: "failover or flex (the reference's older name of topology)"},
	{Name: "topology", Kind: driver.String, Candidates: []string{"failover", "flex"}, Text: "failover or flex"},
	{Name: "app", Kind: driver.String, Scopable: true, Text: "the application code"},
	{Name: "service_type", Kind: driver.String, Scopable: true, Text: "the service environment (PRD, DEV, ...)"},
	{Name: "env", Kind: driver.String, Scopable: true, Text: "the service environment (newer name of service_type)"},
	{Name: "autostart_node", Kind: driver.List, Text: "the nodes where the service starts at boot"},
	{Name: "rollback", Kind: driver.Bool, Scopable: true, Default: "true", Text: "undo what a failed start or provision started"},
	{Name: "show_disabled", Kind: driver.Bool, Scopable: true, Default: "true", Text: "show disabled resources in print status"},
	{Name: "docker_data_dir", Kind: driver.String, Scopable: true, Text: "the data root (an absolute path) of the service's private docker daemon, container#dockerd: its images and container layers"},
	{Name: "docker_daemon_private", Kind: driver.Bool, Scopable: true, Text: "run the service's containers on its own docker daemon (default: true when docker_data_dir is set)"},
	{Name: "docker_daemon_args", Kind: driver.Shell, Scopable: true, Text: "more dockerd arguments of the private daemon, shell-quoted (default network options: --bridge=none --iptables=false --ip-masq=false --ip-forward=false; where the host has a docker0 bridge, which dockerd deletes when its bridge is disabled, the daemon shares it instead and a -b none here is refused)"},
	{Name: "dockerd_exe", Kind: driver.String, Scopable: true, Default: "dockerd", Text: "the dockerd program of the private daemon (looked up in PATH)"},
	{Name: "scheduler", Kind: driver.String, Scopable: true, Candidates: []string{"graph", "groups"}, Default: "graph", Text: "graph: resources start as soon as what they use is up; groups: the reference's group by group order"},
	{Name: "max_parallel", Kind: driver.Int, Scopable: true, Default: "0", Text: "the most resource actions run at once (0: no limit)"},
	{Name: "monitor_action", Kind: driver.List, Scopable: true, Candidates: MonitorActions, Default: "none", Text: "what the monitor does when a monitored resource is still down after its restarts: none, freezestop (freeze, then stop the service), switch (hand the service to another node), reboot or crash (the host; only where the node allows it); more words are fallbacks tried in order when one fails (freezestop reboot)"},
	{Name: "comment", Kind: driver.String, Text: "free text"},
}

// MonitorActions are the values of monitor_action, as the reference's.
var MonitorActions = []string{"none", "freezestop", "switch", "reboot", "crash"}

// subsetKeywords are the keywords of a [subset#group:name] section.
var subsetKeywords = []driver.Keyword{
	{Name: "parallel", Kind: driver.Bool, Scopable: true, Default: "false", Text: "run the actions of the subset's resources concurrently"},
}

func findKeyword(l []driver.Keyword, name string) (driver.Keyword, bool) {
	for _, k := range l {
		if k.Name == name {
			return k, true
		}
	}
	return driver.Keyword{}, false
}

func keywordNames(l []driver.Keyword) []string {
	out := make([]string, len(l))
	for i, k := range l {
		out[i] = k.Name
	}
	return out
}
