package svc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

const scopingConf = `[DEFAULT]
nodes = n1 n2 n3
drpnodes = d1
flex_primary = n2
app = APP
app@n3 = APP3
gce_zone = zone-a
gce_zone@drpnodes = zone-drp

[disk#01]
type = gce
names = base
description = plain
description@nodes = nodes
description@drpnodes = drp
description@flex_primary = primary
description@n1 = one
image = plain
image@drpnodes = drp
source_snapshot = plain
source_snapshot@nodes = nodes
source_snapshot@flex_primary = primary

[disk#02]
type = gce
names = other
gce_zone = zone-own
gce_zone@n1 = zone-own1
`

// TestScoping checks the precedence key@node > @flex_primary > @nodes >
// @drpnodes > key, on every kind of node, and that a driver keyword set
// in DEFAULT (gce_zone) is the default of every section whose driver has
// it, scoped like the others.
func TestScoping(t *testing.T) {
	tests := []struct {
		node string
		want map[string]string // "rid keyword" -> value
	}{
		{"n1", map[string]string{
			"disk#01 description":     "one",         // node beats flex_primary, nodes, drpnodes
			"disk#01 image":           "plain",       // @drpnodes does not apply to a node of nodes
			"disk#01 source_snapshot": "nodes",       // n1 is not the flex primary
			"disk#01 disk_type":       "pd-standard", // manifest default
			"disk#01 gce_zone":        "zone-a",      // DEFAULT driver keyword
			"disk#02 gce_zone":        "zone-own1",
			"DEFAULT app":             "APP",
		}},
		{"n2", map[string]string{
			"disk#01 description":     "primary", // flex_primary beats nodes
			"disk#01 image":           "plain",
			"disk#01 source_snapshot": "primary",
			"disk#01 gce_zone":        "zone-a",
			"disk#02 gce_zone":        "zone-own", // the section beats DEFAULT
			"DEFAULT app":             "APP",
		}},
		{"n3", map[string]string{
			"disk#01 description":     "nodes",
			"disk#01 source_snapshot": "nodes",
			"disk#01 gce_zone":        "zone-a",
			"DEFAULT app":             "APP3",
		}},
		{"d1", map[string]string{
			"disk#01 description":     "drp",
			"disk#01 image":           "drp",
			"disk#01 source_snapshot": "plain", // neither @nodes nor @flex_primary apply
			"disk#01 gce_zone":        "zone-drp",
			"disk#02 gce_zone":        "zone-own",
			"DEFAULT app":             "APP",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			s := mustParse(t, scopingConf, tt.node, fake.Options{})
			require.Equal(t, "n2", s.FlexPrimary())
			require.Equal(t, []string{"n1", "n2", "n3"}, s.Nodes())
			require.Equal(t, []string{"d1"}, s.DRPNodes())
			require.Equal(t, tt.node == "n2", s.IsFlexPrimary())
			for key, want := range tt.want {
				var rid, kw string
				_, err := fmtSscan(key, &rid, &kw)
				require.NoError(t, err)
				if rid == "DEFAULT" {
					require.Equal(t, want, s.Keywords()[kw], key)
					continue
				}
				cfg, ok := s.Config(rid)
				require.True(t, ok, rid)
				require.Equal(t, want, cfg.Values[kw], key)
			}
		})
	}
}

// TestServiceDefaults checks the flex_primary default, the service
// keyword defaults, and a DEFAULT driver keyword that only some drivers
// with that name accept (network: an ip for ip.docker, a VPC for ip.gce).
func TestServiceDefaults(t *testing.T) {
	s := mustParse(t, "[DEFAULT]\nnodes = b a\n", "a", fake.Options{})
	require.Equal(t, "b", s.FlexPrimary())
	require.False(t, s.IsFlexPrimary())
	require.Equal(t, "failover", s.Topology())
	require.True(t, s.Rollback())
	require.True(t, s.ShowDisabled())
	require.Equal(t, "graph", s.Keywords()["scheduler"])

	s = mustParse(t, "[DEFAULT]\nnodes = a\ntopology = flex\nrollback = false\nshow_disabled = no\n", "a", fake.Options{})
	require.Equal(t, "flex", s.Topology())
	require.False(t, s.Rollback())
	require.False(t, s.ShowDisabled())

	s = mustParse(t, "[DEFAULT]\nnodes = a\ncluster_type = flex\n", "a", fake.Options{})
	require.Equal(t, "flex", s.Topology(), "cluster_type is the older name of topology")

	network := `[DEFAULT]
nodes = n1
network = vpc1
[ip#01]
type = gce
ipname = 10.0.0.1
ipdev = br0
routename = r1
`
	s = mustParse(t, network, "n1", fake.Options{})
	cfg, _ := s.Config("ip#01")
	require.Equal(t, "vpc1", cfg.Values["network"], "a DEFAULT driver keyword fitting the drivers that inherit it")
}

const refConf = `[DEFAULT]
nodes = n1 n2
app = {svcname}-app

[env]
base = {env.top}/{svcname}
base@n2 = /data2/{svcname}
disk = sdb
top = /data

[fs#01]
type = ext4
dev = /dev/{env.disk}
mnt = {env.base}/{rid}/{nodename}
mnt_opt = {nodes}
post_start = echo "${HOME}" ${PATH} {svcname} $HOME
`

// TestReferences checks {svcname}, {nodename}, {rid}, {env.x} (from a
// scoped [env], referencing a key written after it) and {nodes};
// ${shell} is left alone.
func TestReferences(t *testing.T) {
	tests := []struct {
		node string
		want map[string]string
	}{
		{"n1", map[string]string{
			"dev":        "/dev/sdb",
			"mnt":        "/data/svc1/fs#01/n1",
			"mnt_opt":    "n1 n2",
			"post_start": `echo "${HOME}" ${PATH} svc1 $HOME`,
		}},
		{"n2", map[string]string{
			"mnt": "/data2/svc1/fs#01/n2",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			s := mustParse(t, refConf, tt.node, fake.Options{})
			require.Equal(t, "svc1-app", s.Keywords()["app"])
			cfg, ok := s.Config("fs#01")
			require.True(t, ok)
			for kw, want := range tt.want {
				require.Equal(t, want, cfg.Values[kw], kw)
			}
		})
	}
}

// TestUnknownReferences checks that every unknown reference is an error
// located at its line.
func TestUnknownReferences(t *testing.T) {
	conf := `[DEFAULT]
nodes = n1
app = {rid}

[env]
a = 1

[fs#01]
type = ext4
dev = /dev/{env.b}
mnt = /srv/{svcnme}
mnt_opt = {env.a} ${ok} {}
`
	_, err := parse(t, conf, "n1", fake.Options{})
	ps := problems(t, err)
	require.Len(t, ps, 4, "%v", err)
	want := []struct {
		line     int
		section  string
		keyword  string
		contains string
	}{
		{3, "DEFAULT", "app", "unknown reference {rid}"},
		{10, "fs#01", "dev", "unknown reference {env.b}"},
		{11, "fs#01", "mnt", "unknown reference {svcnme}"},
		{12, "fs#01", "mnt_opt", "unknown reference {}"},
	}
	for i, w := range want {
		require.Equal(t, "svc1.conf", ps[i].File)
		require.Equal(t, w.line, ps[i].Line, "%+v", ps[i])
		require.Equal(t, w.section, ps[i].Section, "%+v", ps[i])
		require.Equal(t, w.keyword, ps[i].Keyword, "%+v", ps[i])
		require.Contains(t, ps[i].Message, w.contains)
	}
}

// TestParseCancelled checks that a load whose context is cancelled fails
// with the context's error, not with a config problem made of it.
func TestParseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := svc.Parse(ctx, "svc1.conf", []byte("[DEFAULT]\nnodes = n1\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\n"),
		svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{Latency: time.Second}), Root: t.TempDir()})
	require.ErrorIs(t, err, context.Canceled)
	var ve *svc.ValidationError
	require.False(t, errors.As(err, &ve), "not a validation error: %v", err)
	require.Contains(t, err.Error(), "svc1.conf")
}
