// Command svcmgr runs the actions of a svckit service on this node, with
// the command line of the OpenSVC agent's svcmgr:
//
//	svcmgr [--root DIR] [--node NAME] [--fake] -s SVC [--rid R] [--tags T]
//	       [--subsets S] [--dry-run] [--format text|json] [--waitlock D] ACTION
//
// ACTION is one of: print status, print config, validate config, start,
// stop, provision, unprovision, startcontainer, stopcontainer, docker ARGS.
// The config is <root>/etc/<svc>.conf and the state lives under
// <root>/var/<svc>/. --fake runs every resource on driver/fake (state in
// the var directory, so successive invocations see it; latency and faults
// from SVCKIT_FAKE_* variables). Exit codes: 0 success, 1 the action
// failed, 2 bad usage or invalid configuration.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
