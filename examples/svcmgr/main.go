// Command svcmgr runs the actions of a svckit service on this node, with
// the command line of the OpenSVC agent's svcmgr:
//
//	svcmgr [--root DIR] [--node NAME] [--fake] -s SVC [--rid R] [--tags T]
//	       [--subsets S] [--dry-run] [--format text|json] [--waitlock D] ACTION
//
// ACTION is one of: print status, print config, validate config, start,
// stop, provision, unprovision, startcontainer, stopcontainer, docker ARGS,
// compliance check|fix|fixable|attach|detach|show|list [--moduleset M[,M]]
// [--module M[,M]] [--rules EXPORT.json] [--chroot-modules] (the service's
// compliance: its own attachments under <root>/var/<svc>/compliance, the
// node's modules, the service's variables; exit 1 when a module is not
// ok, 2 for an unknown moduleset or module).
// The config is <root>/etc/<svc>.conf and the state lives under
// <root>/var/<svc>/. --fake runs every resource on driver/fake (state in
// the var directory, so successive invocations see it; latency and faults
// from SVCKIT_FAKE_* variables). Exit codes: 0 success, 1 the action
// failed, 2 bad usage or invalid configuration. -s takes a service name
// as the cluster agent does (letters, digits, '.', '_', '-'); --node a
// node name (RFC 1123 host label in lower case, not a scope word such as
// nodes or drpnodes); --waitlock 0 fails at once when another action
// holds the service lock, a negative one is a usage error.
//
// Cluster commands, run from the flex primary (the reference's
// "Service provisioning" and "Operating the run"):
//
//	svcmgr -s SVC pull                    fetch the config from the store, validate, install
//	svcmgr -s SVC push                    store the local config as a new version (CAS)
//	svcmgr -s SVC sync nodes              copy the local config to the other nodes
//	svcmgr -s SVC print config checksum   the sha256 of the config file (what sync#i0 compares)
//	svcmgr -s SVC --cluster ACTION        run ACTION on every node (also pull, print status, compliance)
//	svcmgr -s SVC migrate --pod N --to NODE
//	svcmgr -s SVC relayout --nodes "NODE..." [--parallel N]
//
// On the real drivers, the status of sync#i0 asks each other node of the
// service for its config checksum over the transport below (within
// --connect-timeout plus 5s) and warns naming those that differ or do not
// answer; with --fake it is the fake's, up.
//
// Each takes --dry-run. The store is --store, SVCKIT_STORE or [store] url
// in <root>/etc/svckit.conf (dir:PATH, etcd://HOST:PORT/PREFIX, or the
// OpenSVC collector's https://HOST/init/rest/api). The other nodes are
// reached over SSH (--ssh-key, --known-hosts: host keys are always
// verified) at the addresses of <root>/etc/nodes.conf, where svcmgr runs
// with --format json; --transport local runs them in this process on the
// roots the registry gives (demos).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
