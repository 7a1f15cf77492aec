package fake_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
)

// fixture builds driver.Config values the way the svc package does (one
// node's view, defaults applied, Section resolving the other sections),
// until svc is available to load a real configuration file.
type fixture struct {
	svcname  string
	node     string
	nodes    []string
	varDir   string
	defaults map[string]string
	sections map[string]section
}

type section struct {
	driverID string
	values   map[string]string
}

func newFixture(varDir string) *fixture {
	return &fixture{
		svcname: "spdsvc01",
		node:    "spd01",
		nodes:   []string{"spd01", "spd02", "spd03", "spd04"},
		varDir:  varDir,
		defaults: map[string]string{
			"app":             "spd",
			"nodes":           "spd01 spd02 spd03 spd04",
			"docker_data_dir": "/spdsvc01/docker",
			"flex_primary":    "spd01",
			"cluster_type":    "flex",
			"gce_zone":        "europe-west1-b",
		},
		sections: map[string]section{},
	}
}

// seedFixture holds the sections of the seed's spdsvc01 as spd01 sees
// them: disk#00 and fs#00, pods 01 and 02 (8 resources each) and pod 09,
// which runs on spd02 and is disabled here, and the sync#i0.
func seedFixture(varDir string) *fixture {
	f := newFixture(varDir)
	f.add("disk#00", "disk.gce", "subset", "gce", "size", "20g", "always_on", "nodes", "names", "spdsvc01-spd01", "gce_zone", "europe-west1-b")
	f.add("fs#00", "fs.btrfs", "dev", "LABEL=spdsvc01", "mnt", "/spdsvc01", "mnt_opt", "defaults,rw")
	for _, pod := range []int{1, 2, 9} {
		f.addPod(pod, pod > 8)
	}
	f.add("sync#i0", "sync.rsync", "target", "drpnodes nodes")
	return f
}

// addPod adds the 8 resources of a pod of the seed's form.
func (f *fixture) addPod(pod int, disabled bool) {
	p := fmt.Sprintf("%02d", pod)
	dis := fmt.Sprint(disabled)
	ipsm := 31 + 2*pod
	ipdb := ipsm + 1
	f.add("disk#"+p, "disk.gce", "subset", "cge", "tags", "sm pod"+p, "names", fmt.Sprintf("spdsvc01-pod%d", pod),
		"size", "17g", "always_on", "nodes", "disable", dis)
	f.add("fs#"+p, "fs.ext4", "tags", "sm pod"+p, "dev", "/dev/disk/by-id/google-spdsvc01.disk."+p+".0",
		"mnt", "/spdsvc01/pod"+p, "mnt_opt", "defaults,rw", "disable", dis)
	for _, kind := range []struct {
		name, image string
		ip          int
	}{{"sm", "tanji/spdc", ipsm}, {"db", "mariadb", ipdb}} {
		addr := fmt.Sprintf("10.0.0.%d", kind.ip)
		f.add("ip#"+p+kind.name+"g", "ip.gce", "tags", kind.name+" pod"+p, "subset", "cge", "ipname", addr,
			"ipdev", "br0", "routename", fmt.Sprintf("rt-ip%d", kind.ip), "disable", dis)
		f.add("ip#"+p+kind.name, "ip.docker", "tags", kind.name+" "+kind.name+".container pod"+p, "ipdev", "br0",
			"ipname", addr, "netmask", "255.255.255.0", "network", "10.0.0.0", "gateway", "10.0.0.1",
			"del_net_route", "true", "container_rid", "container#"+p+kind.name, "disable", dis)
		f.add("container#"+p+kind.name, "container.docker", "tags", kind.name+" pod"+p, "subset", "containers",
			"run_image", kind.image, "run_args", "--net=none\n"+
				"    -e MYSQL_ROOT_PASSWORD=s3cr3t-pw\n"+
				"    -v /etc/localtime:/etc/localtime:ro\n"+
				"    -v /spdsvc01/pod"+p+"/"+kind.name+"/data:/var/lib/mysql:rw\n"+
				"    -v /spdsvc01/pod"+p+"/"+kind.name+"/conf:/etc/mysql/conf.d:rw\n"+
				"    -v /spdsvc01/pod"+p+"/"+kind.name+"/init:/docker-entrypoint-initdb.d:rw",
			"disable", dis)
	}
}

// add declares a section; kv are keyword, value pairs.
func (f *fixture) add(rid, driverID string, kv ...string) {
	v := map[string]string{"type": driverID[len(resource.Group(driverID))+1:]}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	f.sections[rid] = section{driverID: driverID, values: v}
}

// config returns the Config svc would give the factory of rid.
func (f *fixture) config(t testing.TB, reg *driver.Registry, rid string) driver.Config {
	t.Helper()
	s, ok := f.sections[rid]
	require.True(t, ok, "no section %s", rid)
	d, ok := reg.Lookup(s.driverID)
	require.True(t, ok, "driver %s not registered", s.driverID)
	values := map[string]string{}
	for _, k := range d.Manifest.AllKeywords() {
		if k.Default != "" {
			values[k.Name] = k.Default
		}
	}
	for k, v := range s.values {
		_, known := d.Manifest.Keyword(k)
		require.True(t, known, "%s: keyword %s is not in the manifest of %s", rid, k, s.driverID)
		values[k] = v
	}
	return driver.Config{
		RID:         rid,
		Manifest:    d.Manifest,
		Svcname:     f.svcname,
		Nodename:    f.node,
		Nodes:       f.nodes,
		FlexPrimary: f.defaults["flex_primary"],
		VarDir:      f.varDir,
		Values:      values,
		Defaults:    f.defaults,
		Section: func(other string) (driver.Config, bool) {
			if _, ok := f.sections[other]; !ok {
				return driver.Config{}, false
			}
			return f.config(t, reg, other), true
		},
	}
}

// build makes every resource of the fixture with reg, as a service load
// does.
func (f *fixture) build(t testing.TB, reg *driver.Registry) map[string]resource.Resource {
	t.Helper()
	out := map[string]resource.Resource{}
	for _, rid := range f.rids() {
		out[rid] = f.buildOne(t, reg, rid)
	}
	return out
}

func (f *fixture) buildOne(t testing.TB, reg *driver.Registry, rid string) resource.Resource {
	t.Helper()
	cfg := f.config(t, reg, rid)
	d, _ := reg.Lookup(cfg.Manifest.ID)
	r, err := d.New(context.Background(), cfg)
	require.NoError(t, err, rid)
	return r
}

func (f *fixture) rids() []string {
	var rids []string
	for rid := range f.sections {
		rids = append(rids, rid)
	}
	sort.Strings(rids)
	return rids
}

// startOrder is the order of the reference for one pod: group by group.
func podStartOrder(p string) []string {
	return []string{"disk#00", "fs#00", "ip#" + p + "smg", "ip#" + p + "dbg", "disk#" + p, "fs#" + p,
		"container#" + p + "db", "container#" + p + "sm", "ip#" + p + "db", "ip#" + p + "sm"}
}

func reversed(l []string) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[len(l)-1-i] = x
	}
	return out
}

func status(t testing.TB, r resource.Resource) string {
	t.Helper()
	st, err := r.Status(context.Background())
	require.NoError(t, err, r.RID())
	return st.String()
}

func asFake(t testing.TB, r resource.Resource) *fake.Resource {
	t.Helper()
	fr, ok := r.(*fake.Resource)
	require.True(t, ok, "%s is a %T, not a fake", r.RID(), r)
	return fr
}
