// Command spd plays the seed's scenario (a sharded MariaDB/Spider "flex"
// service, from the sizing form to its day-2 operations) on a simulated
// cluster in one process, in seconds, without root, Docker or a cloud
// account:
//
//	go run ./examples/spd [-pods 32] [-nodes 4] [-latency 0] [-keep] [-dir D] [-format text|json]
//	                      [-faults 'rid:action[:nth[:message]],...'] [-real]
//
// Each node is an in-process agent (svc/cluster's local transport) with
// its own root directory. GCE is an in-process fake compute API
// (driver/gce/gcetest) that the real disk.gce driver talks to; the drivers
// that need root or a Docker daemon are the fakes of driver/fake. The
// program prints which driver is real and which is fake, then runs:
//
//  1. generate the config from the spd form with the seed's defaults
//     (the root password is random and never printed);
//  2. store it in a directory store and pull it on every node;
//  3. node compliance spdc.node on each node's root: check, fix, check;
//  4. provision and start --cluster;
//  5. print status of spd01;
//  6. replace the spider image: stopcontainer --tags sm --cluster, docker
//     rm of the sm containers, a new config with dism changed, push,
//     pull, startcontainer --tags sm --cluster;
//  7. migrate pod16 from spd02 to spd03;
//  8. relayout onto one more node;
//  9. stop --cluster;
//
// and a summary table. Each node's root (under one temporary directory,
// removed at the end unless -keep) holds its etc/spdsvc01.conf, the
// service's var directory, the files the compliance fix wrote and a fake
// proc/sys; the fake drivers keep their state in memory, one registry per
// node for the whole run.
//
// -real (root, a Docker daemon, loop devices) runs the real drivers of
// the host instead of the fakes, on the seed's config unchanged: disk.loop
// standing in for disk.gce (sparse backing files in <dir>/san, the disks
// every node reaches), fs (mkfs.btrfs, mkfs.ext4, mount), the service's
// private dockerd per node (container.dockerd, its data root on the node's
// btrfs fs#00, as docker_data_dir asks), container.docker on it with local
// stand-ins of the seed's images (the svckit sleeper, FROM scratch, built
// on the spot on the host's daemon: there is no registry; each node's
// daemon loads them when it starts), ip.docker plumbing the
// containers into br0 of a network namespace made per node, and ip.gce
// (routes on the fake compute API, addresses on that br0). The simulated
// nodes share this host: each node's adapter (hostNode) puts the service's
// paths under the node's root (/spdsvc01 becomes <root>/spdsvc01), gives
// the LABEL= of fs#00 the suffix <node>-<run> and labels the containers
// with the run (so that runs sharing the host do not collide either). The
// host's network, mounts and containers are not touched. At the end (even
// on a failure) every node is stopped with --force, the nodes' private
// daemons are stopped and their exec roots removed, what a
// failed step left mounted or attached under the run's directory is
// unmounted and detached, then the directory is removed (unless -keep).
// The stand-in images stay, for the next run.
//
// -faults makes fake driver calls fail, to watch a step fail (a migration
// puts the pod back on its source node).
//
// The exit code is 0 when every step succeeded, 1
// when one failed, 2 on bad flags.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/svckit/svckit/compliance/checker"
)

func main() {
	// Linked as com.opensvc/files.py in the node roots: the service
	// compliance module calls this program as the reference's objects.
	if checker.IsObjectCommand(os.Args[0]) {
		os.Exit(checker.RunObjectCommand(context.Background(), os.Args, os.Environ(), os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
