// Package spdconf generates the service configuration of the seed's
// "RIVER SPD service configuration generator" form (the Mangle function of
// spd-flex-howto.txt): a flex service of N MariaDB/Spider pods spread over
// the nodes. It is private to svckit's benchmarks and tests until the
// formtemplate package replaces it.
package spdconf

import (
	"fmt"
	"strconv"
	"strings"
)

// Params are the inputs of the seed's form.
type Params struct {
	Svcname  string   // default spdsvc01
	App      string   // default RIVER_SPD
	Nodes    []string // default spd01 spd02 spd03 spd04
	Pods     int      // default 32
	SMImage  string   // spider image, default tanji/spdc
	DBImage  string   // mariadb image, default mariadb
	RootPass string   // MYSQL_ROOT_PASSWORD of the containers
}

// Defaults returns the form's defaults, with the password of the seed's
// generated sample (svc/testdata/spdsvc01.conf).
func Defaults() Params {
	return Params{
		Svcname:  "spdsvc01",
		App:      "RIVER_SPD",
		Nodes:    []string{"spd01", "spd02", "spd03", "spd04"},
		Pods:     32,
		SMImage:  "tanji/spdc",
		DBImage:  "mariadb",
		RootPass: "s3cr3tPw",
	}
}

// Nodes returns n node names spd01, spd02, ...
func Nodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("spd%02d", i+1)
	}
	return out
}

// firstIP is the last byte of the first pod's spider address (10.0.0.33).
const firstIP = 33

// Generate returns the configuration the seed's Mangle function produces
// for p, byte for byte. Where the seed's arithmetic breaks down it does
// better instead of emitting a broken file: when the pods do not divide
// evenly among the nodes, the remainder goes to the last node (the seed
// names a node "undefined"), and more pods than 10.0.0.0/24 holds are an
// error.
func Generate(p Params) ([]byte, error) {
	if p.Svcname == "" || len(p.Nodes) == 0 || p.Pods < 1 {
		return nil, fmt.Errorf("spdconf: expected a service name, at least one node and one pod")
	}
	if p.Pods < len(p.Nodes) {
		return nil, fmt.Errorf("spdconf: %d pods for %d nodes: expected at least one pod per node", p.Pods, len(p.Nodes))
	}
	if last := firstIP + 2*p.Pods - 1; last > 254 {
		return nil, fmt.Errorf("spdconf: %d pods need addresses up to 10.0.0.%d: expected at most %d pods", p.Pods, last, (254-firstIP+1)/2)
	}
	r := strings.NewReplacer(
		"__APP__", p.App,
		"__NODES__", strings.Join(p.Nodes, " "),
		"__SVCNAME__", p.Svcname,
		"__PRINODE__", p.Nodes[0],
		"__DISK0NAMES__", disk0Names(p),
	)
	var b strings.Builder
	b.WriteString(r.Replace(header))
	perNode := p.Pods / len(p.Nodes)
	ipsm := firstIP
	for pod := 1; pod <= p.Pods; pod++ {
		i := min((pod-1)/perNode, len(p.Nodes)-1)
		pr := strings.NewReplacer(
			"__NODE__", p.Nodes[i],
			"__SVCNAME__", p.Svcname,
			"__POD_PADDED__", fmt.Sprintf("%02d", pod),
			"__POD__", strconv.Itoa(pod),
			"__IPDB__", strconv.Itoa(ipsm+1),
			"__IPSM__", strconv.Itoa(ipsm),
			"__GW__", strconv.Itoa(i+1),
			"__MY_ROOT_PWD__", p.RootPass,
			"__DIDB__", p.DBImage,
			"__DISM__", p.SMImage,
		)
		b.WriteString(pr.Replace(podTemplate))
		ipsm += 2
	}
	return []byte(b.String()), nil
}

func disk0Names(p Params) string {
	l := make([]string, len(p.Nodes))
	for i, n := range p.Nodes {
		l[i] = "names@" + n + " = " + p.Svcname + "-" + n
	}
	return strings.Join(l, "\n")
}

const header = `
[DEFAULT]
app = __APP__
service_type = PRD
nodes = __NODES__
autostart_node = __NODES__
docker_data_dir = /__SVCNAME__/docker
flex_primary = __PRINODE__
cluster_type = flex
show_disabled = false
rollback = false

# factorize gce resource params here
gce_zone = europe-west1-b

[disk#00]
type = gce
subset = gce
size = 20g
always_on = nodes
__DISK0NAMES__

[fs#00]
type = btrfs
dev = LABEL=__SVCNAME__
mnt = /__SVCNAME__
mnt_opt = defaults,rw

[subset#disk:cge]
parallel = true

[subset#ip:cge]
parallel = true

[subset#container:containers]
parallel = true

`

const podTemplate = `
#
# POD__POD_PADDED__
#
[disk#__POD_PADDED__]
subset = cge
tags = sm pod__POD_PADDED__
type = gce
names = __SVCNAME__-pod__POD__
size = 17g
always_on = nodes
disable = true
disable@__NODE__ = false

[fs#__POD_PADDED__]
tags = sm pod__POD_PADDED__
type = ext4
dev = /dev/disk/by-id/google-__SVCNAME__.disk.__POD_PADDED__.0
mnt = /__SVCNAME__/pod__POD_PADDED__
mnt_opt = defaults,rw
disable = true
disable@__NODE__ = false
post_provision = mkdir -p /__SVCNAME__/pod__POD_PADDED__/sm/init /__SVCNAME__/pod__POD_PADDED__/sm/conf /__SVCNAME__/pod__POD_PADDED__/sm/data /__SVCNAME__/pod__POD_PADDED__/db/init /__SVCNAME__/pod__POD_PADDED__/db/conf /__SVCNAME__/pod__POD_PADDED__/db/data && chown 999:999 /__SVCNAME__/pod__POD_PADDED__/*/*

[ip#__POD_PADDED__smg]
tags = sm pod__POD_PADDED__
subset = cge
type = gce
ipname = 10.0.0.__IPSM__
ipdev = br0
routename = rt-ip__IPSM__
disable = true
disable@__NODE__ = false

[ip#__POD_PADDED__sm]
tags = sm sm.container sm.container.pod__POD_PADDED__ pod__POD_PADDED__
type = docker
ipdev = br0
ipname = 10.0.0.__IPSM__
netmask = 255.255.255.0
network = 10.0.0.0
gateway = 10.0.0.__GW__
del_net_route = true
container_rid = container#__POD_PADDED__sm
disable = true
disable@__NODE__ = false

[container#__POD_PADDED__sm]
tags = sm sm.container sm.container.pod__POD_PADDED__ pod__POD_PADDED__
type = docker
subset = containers
run_image = __DISM__
run_args = --net=none
    -e MYSQL_ROOT_PASSWORD=__MY_ROOT_PWD__
    -v /etc/localtime:/etc/localtime:ro
    -v /__SVCNAME__/pod__POD_PADDED__/sm/data:/var/lib/mysql:rw
    -v /__SVCNAME__/pod__POD_PADDED__/sm/conf:/etc/mysql/conf.d:rw
    -v /__SVCNAME__/pod__POD_PADDED__/sm/init:/docker-entrypoint-initdb.d:rw
disable = true
disable@__NODE__ = false

[ip#__POD_PADDED__dbg]
tags = db pod__POD_PADDED__
subset = cge
type = gce
ipname = 10.0.0.__IPDB__
ipdev = br0
routename = rt-ip__IPDB__
disable = true
disable@__NODE__ = false

[ip#__POD_PADDED__db]
tags = db db.container db.container.pod__POD_PADDED__ pod__POD_PADDED__
type = docker
ipdev = br0
ipname = 10.0.0.__IPDB__
netmask = 255.255.255.0
network = 10.0.0.0
gateway = 10.0.0.__GW__
del_net_route = true
container_rid = container#__POD_PADDED__db
disable = true
disable@__NODE__ = false

[container#__POD_PADDED__db]
tags = db db.container db.container.pod__POD_PADDED__ pod__POD_PADDED__
type = docker
subset = containers
run_image = __DIDB__
run_args = --net=none
    -e MYSQL_ROOT_PASSWORD=__MY_ROOT_PWD__
    -v /etc/localtime:/etc/localtime:ro
    -v /__SVCNAME__/pod__POD_PADDED__/db/data:/var/lib/mysql:rw
    -v /__SVCNAME__/pod__POD_PADDED__/db/conf:/etc/mysql/conf.d:rw
    -v /__SVCNAME__/pod__POD_PADDED__/db/init:/docker-entrypoint-initdb.d:rw
disable = true
disable@__NODE__ = false

`
