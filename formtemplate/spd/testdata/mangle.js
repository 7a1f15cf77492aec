function(data) {
    var fmt_header = String.raw`
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

    var fmt_pod = String.raw`
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

    var nodes = data.nodes.split(/\s+/)
    var nb_nodes = nodes.length
    var ipsm = 33
    var pods_per_node = (data.npods / nb_nodes) >> 0

    data.prinode = nodes[0]
    var l = []
    for (var i=0; !(i>=nb_nodes); i++) {
            l.push("names@"+nodes[i]+" = "+data.svcname+"-"+nodes[i])
    }
    data.disk0names = l.join("\n")

    var buff = fmt_header
            .replace(/^\t*/g, "")
            .replace(/__APP__/g, data.app)
            .replace(/__NODES__/g, data.nodes)
            .replace(/__SVCNAME__/g, data.svcname)
            .replace(/__PRINODE__/g, data.prinode)
            .replace(/__DISK0NAMES__/g, data.disk0names)

    for (var pod=1; !(pod>data.npods); pod++) {
            if (pod>9) {
                    data.pod_padded = ""+pod
            } else {
                    data.pod_padded = "0"+pod
            }
            var i = ((pod - 1) / pods_per_node) >> 0

            data.ipsm = ipsm
            data.ipdb = ipsm + 1
            data.gw = i + 1
            data.node = nodes[i]
            data.pod = pod
            ipsm += 2
            buff += fmt_pod
                    .replace(/^\t*/g, "")
                    .replace(/__APP__/g, data.app)
                    .replace(/__NODE__/g, data.node)
                    .replace(/__SVCNAME__/g, data.svcname)
                    .replace(/__DISK0NAME__/g, data.disk0name)
                    .replace(/__POD_PADDED__/g, data.pod_padded)
                    .replace(/__POD__/g, data.pod)
                    .replace(/__IPDB__/g, data.ipdb)
                    .replace(/__IPSM__/g, data.ipsm)
                    .replace(/__GW__/g, data.gw)
                    .replace(/__MY_ROOT_PWD__/g, data.myrootpwd)
                    .replace(/__DIDB__/g, data.didb)
                    .replace(/__DISM__/g, data.dism)
    }
    ret = {
            "svc_name": data["svcname"],
            "svc_envfile": buff,
                "svc_app": data.app
    }
    return ret
}
