package cluster_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

const fsSection = "\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\n"

// A config that parses but cannot be this node's is refused by pull
// (from the store) and by receive and sync nodes (Install), and the
// working config stays in place.
func TestInstallRefusesEmptyOrForeignConfig(t *testing.T) {
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"empty", "", "empty configuration (an empty file)"},
		{"blank lines", "\n  \n\t\n", "empty configuration"},
		{"no nodes", "[DEFAULT]\napp = x\n" + fsSection, "do not include this node spd02"},
		{"other nodes", "[DEFAULT]\nnodes = spd01 spd03\n" + fsSection, `node "spd02" is not one of the service's nodes`},
		{"scope word node", "[DEFAULT]\nnodes = spd01 spd02 nodes\n" + fsSection, `"nodes" is a scope word`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clu := newTestCluster(t, "spd01", "spd02")
			a := clu.agents["spd02"]
			good := []byte("[DEFAULT]\nnodes = spd01 spd02\n" + fsSection)
			_, err := a.Install(ctx, svcname, good, "test", cluster.InstallOptions{})
			require.NoError(t, err)

			// receive and sync nodes: Install on the node.
			ch, err := a.Install(ctx, svcname, []byte(tc.conf), "primary spd01", cluster.InstallOptions{})
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, "refused, the local config is unchanged")
			require.False(t, ch.Changed)
			data, err := a.ReadConfig(svcname)
			require.NoError(t, err)
			require.Equal(t, good, data)

			// pull: the same from the store.
			_, err = clu.store.Put(ctx, svcname, []byte(tc.conf), store.Absent)
			require.NoError(t, err)
			_, err = a.Pull(ctx, svcname, cluster.InstallOptions{})
			require.ErrorContains(t, err, tc.want)
			data, err = a.ReadConfig(svcname)
			require.NoError(t, err)
			require.Equal(t, good, data)
		})
	}
}

func TestInstallAcceptsItsNodes(t *testing.T) {
	for _, conf := range []string{
		"[DEFAULT]\nnodes = spd01 spd02\n" + fsSection,
		"[DEFAULT]\nnodes = spd01\ndrpnodes = spd02\n" + fsSection,
	} {
		clu := newTestCluster(t, "spd02")
		ch, err := clu.agents["spd02"].Install(context.Background(), svcname, []byte(conf), "test", cluster.InstallOptions{})
		require.NoError(t, err, conf)
		require.True(t, ch.Changed)
	}
}

// The node registry and the SSH transport take node names by the same
// rule as the config.
func TestNodeRegistryRefusesScopeWords(t *testing.T) {
	for _, name := range []string{"nodes", "drpnodes", "flex_primary", "drp_flex_primary", "encapnodes", "Spd01", "spd_01"} {
		_, err := cluster.ParseNodes("nodes.conf", []byte("["+name+"]\naddress = 10.0.0.2\n"))
		require.ErrorContains(t, err, "nodes.conf: ["+name+"]", name)
		require.True(t, strings.Contains(err.Error(), "scope word") || strings.Contains(err.Error(), "node name"), err.Error())
	}
	n, err := cluster.ParseNodes("nodes.conf", []byte("[spd-02]\naddress = 10.0.0.2\n"))
	require.NoError(t, err)
	require.Equal(t, []string{"spd-02"}, n.Names())
}
