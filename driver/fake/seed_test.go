package fake_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
)

// loadSeed reads testdata/spdsvc01.conf for one node into a fixture. It
// resolves only what the seed uses (key@<node> over key) and fails on any
// other scope: the svc package does the real loading.
func loadSeed(t *testing.T, node, varDir string) *fixture {
	t.Helper()
	cfg, err := ini.LoadSources(ini.LoadOptions{
		AllowPythonMultilineValues: true,
		SpaceBeforeInlineComment:   true,
		KeyValueDelimiters:         "=",
		ReaderBufferSize:           1 << 16,
	}, "testdata/spdsvc01.conf")
	require.NoError(t, err)
	f := newFixture(varDir)
	f.node = node
	f.defaults = map[string]string{}
	for _, k := range cfg.Section("DEFAULT").Keys() {
		f.defaults[k.Name()] = k.Value()
	}
	for _, sec := range cfg.Sections() {
		rid := sec.Name()
		if rid == ini.DefaultSection || strings.HasPrefix(rid, "subset#") {
			continue
		}
		values := map[string]string{}
		scoped := map[string]string{}
		for _, k := range sec.Keys() {
			name, scope, ok := strings.Cut(k.Name(), "@")
			switch {
			case !ok:
				values[name] = k.Value()
			case scope == node:
				scoped[name] = k.Value()
			default:
				require.Contains(t, f.nodes, scope, "%s: scope %s", rid, k.Name())
			}
		}
		for k, v := range scoped {
			values[k] = v
		}
		// gce_zone is a driver keyword set in DEFAULT: a default for the
		// sections whose driver has it.
		typ := values["type"]
		delete(values, "type")
		var kv []string
		for k, v := range values {
			kv = append(kv, k, v)
		}
		f.add(rid, resource.Group(rid)+"."+typ, kv...)
		if k, ok := fake.Registry(fake.Options{}).Lookup(resource.Group(rid) + "." + typ); ok {
			if _, has := k.Manifest.Keyword("gce_zone"); has {
				if _, set := values["gce_zone"]; !set {
					f.sections[rid].values["gce_zone"] = f.defaults["gce_zone"]
				}
			}
		}
	}
	// The implicit sync of the reference.
	f.add("sync#i0", "sync.rsync", "target", "drpnodes nodes")
	return f
}

// groupOrder is the reference's start order: ip, disk, fs, container by
// rid, each ip.docker after the containers.
func groupOrder(rs map[string]resource.Resource) []string {
	rank := func(r resource.Resource) int {
		if r.DriverID() == "ip.docker" {
			return 5
		}
		return map[string]int{"ip": 0, "disk": 1, "fs": 2, "share": 3, "container": 4}[resource.Group(r.RID())]
	}
	var out []string
	for rid, r := range rs {
		if !r.Flags().Disabled && resource.Group(rid) != "sync" {
			out = append(out, rid)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := rs[out[i]], rs[out[j]]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		return out[i] < out[j]
	})
	return out
}

func TestSeedConfigOnFakes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := fake.Registry(fake.Options{})
	f := loadSeed(t, "spd02", dir)
	require.Len(t, f.sections, 2+32*8+1)
	// Every keyword of the seed is in the manifests the fakes use (the
	// fixture fails on an unknown one) and every section builds.
	rs := f.build(t, reg)

	order := groupOrder(rs)
	require.Len(t, order, 2+8*8, "disk#00, fs#00 and pods 09..16 are enabled on spd02")
	for _, rid := range order {
		require.NoError(t, rs[rid].(resource.Provisioner).Provision(ctx), rid)
		require.NoError(t, rs[rid].Start(ctx), rid)
	}
	up := 0
	for rid, r := range rs {
		st, err := r.Status(ctx)
		require.NoError(t, err)
		if st.IsUp() {
			up++
		}
		if r.Flags().Disabled {
			require.False(t, st.IsUp(), rid)
		}
		require.NotContains(t, r.Label(), "Xs3cr3tX")
	}
	require.Equal(t, 2+8*8+1, up, "the enabled resources and sync#i0 are up")
	require.Equal(t, "gce volumes spdsvc01-spd02", rs["disk#00"].Label())
	require.Equal(t, "gce volumes spdsvc01-pod9", rs["disk#09"].Label())
	require.Equal(t, "/dev/disk/by-id/google-spdsvc01.disk.16.0@/spdsvc01/pod16", rs["fs#16"].Label())
	require.Equal(t, "gce ip 10.0.0.49@br0", rs["ip#09smg"].Label())
	require.Equal(t, fmt.Sprintf("10.0.0.50@br0@%s", fake.ContainerID("spdsvc01", "container#09db")[:12]), rs["ip#09db"].Label())

	// A second process (another svcmgr invocation) stops it in the
	// reverse order; standby disks stay up as the reference leaves them.
	rs2 := loadSeed(t, "spd02", dir).build(t, fake.Registry(fake.Options{}))
	stopOrder := reversed(order)
	for _, rid := range stopOrder {
		if rs2[rid].Flags().Standby {
			continue
		}
		require.NoError(t, rs2[rid].Stop(ctx), rid)
	}
	for _, rid := range order {
		st, err := rs2[rid].Status(ctx)
		require.NoError(t, err)
		if resource.Group(rid) == "disk" {
			require.Equal(t, resource.StandbyUp, st, rid)
		} else {
			require.Equal(t, resource.Down, st, rid)
		}
	}
}

func TestSeedConfigWrongOrdersFail(t *testing.T) {
	ctx := context.Background()
	reg := fake.Registry(fake.Options{})
	rs := loadSeed(t, "spd02", t.TempDir()).build(t, reg)
	order := groupOrder(rs)
	// The reference order without the pod disks: every pod's fs is
	// refused, so are its containers and their addresses.
	for _, rid := range order {
		if resource.Group(rid) == "disk" && rid != "disk#00" {
			continue
		}
		err := rs[rid].Start(ctx)
		if rs[rid].DriverID() == "ip.gce" || rid == "disk#00" || rid == "fs#00" {
			require.NoError(t, err, rid)
			continue
		}
		require.ErrorIs(t, err, fake.ErrOrder, rid)
	}
}
