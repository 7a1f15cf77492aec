// Command spd plays the seed's scenario (a sharded MariaDB/Spider "flex"
// service, from the sizing form to its day-2 operations) on a simulated
// cluster in one process, in seconds, without root, Docker or a cloud
// account:
//
//	go run ./examples/spd [-pods 32] [-nodes 4] [-latency 0] [-keep] [-format text|json]
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
// and a summary table. The exit code is 0 when every step succeeded, 1
// when one failed, 2 on bad flags.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
