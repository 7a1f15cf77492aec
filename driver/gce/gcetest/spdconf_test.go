package gcetest_test

import (
	"fmt"
	"strconv"
	"strings"
)

// spdParams are the inputs of the seed's form (npods, svcname, app,
// nodes, images, password), plus what the tests change: where pods run
// (a relayout) and the directory where udev names the disks.
type spdParams struct {
	Svcname  string
	App      string
	Nodes    []string
	NPods    int
	ImageSM  string
	ImageDB  string
	Password string
	// Place overrides the node of a pod (1-based); others follow the
	// seed's layout: pods_per_node consecutive pods per node.
	Place map[int]string
	// DevDir replaces /dev/disk/by-id in the disk and fs sections.
	DevDir string
}

// spdConfig is the seed's Mangle function (spd-flex-howto.txt, "Form
// configuration") ported to Go: the same header, the same pod template,
// the same numbering of pods, IPs and gateways.
func spdConfig(p spdParams) string {
	header := `
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
__DEVDIR__
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
	pod := `
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
dev = __BYID__/google-__SVCNAME__.disk.__POD_PADDED__.0
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
	byID := "/dev/disk/by-id"
	devdir := ""
	if p.DevDir != "" && p.DevDir != byID {
		byID = p.DevDir
		devdir = "dev_dir = " + p.DevDir + "\n"
	}
	var l []string
	for _, n := range p.Nodes {
		l = append(l, "names@"+n+" = "+p.Svcname+"-"+n)
	}
	buf := strings.NewReplacer(
		"__APP__", p.App,
		"__NODES__", strings.Join(p.Nodes, " "),
		"__SVCNAME__", p.Svcname,
		"__PRINODE__", p.Nodes[0],
		"__DISK0NAMES__", strings.Join(l, "\n"),
		"__DEVDIR__", devdir,
	).Replace(header)
	perNode := p.NPods / len(p.Nodes)
	ipsm := 33
	for n := 1; n <= p.NPods; n++ {
		i := (n - 1) / perNode
		node := p.Nodes[min(i, len(p.Nodes)-1)]
		gw := i + 1
		if o, ok := p.Place[n]; ok {
			node = o
			for j, x := range p.Nodes {
				if x == o {
					gw = j + 1
				}
			}
		}
		buf += strings.NewReplacer(
			"__NODE__", node,
			"__SVCNAME__", p.Svcname,
			"__POD_PADDED__", fmt.Sprintf("%02d", n),
			"__POD__", strconv.Itoa(n),
			"__IPDB__", strconv.Itoa(ipsm+1),
			"__IPSM__", strconv.Itoa(ipsm),
			"__GW__", strconv.Itoa(gw),
			"__MY_ROOT_PWD__", p.Password,
			"__DIDB__", p.ImageDB,
			"__DISM__", p.ImageSM,
			"__BYID__", byID,
		).Replace(pod)
		ipsm += 2
	}
	return buf
}

// seedParams are the form's defaults: 32 pods of spdsvc01 on spd01..spd04.
func seedParams() spdParams {
	return spdParams{
		Svcname: "spdsvc01", App: "RIVER_SPD", Nodes: []string{"spd01", "spd02", "spd03", "spd04"},
		NPods: 32, ImageSM: "tanji/spdc", ImageDB: "mariadb", Password: "s3cr3tPw",
	}
}
