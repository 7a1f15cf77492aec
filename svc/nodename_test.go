package svc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
)

// A node named like a scope word would take the key@nodes (or
// @drpnodes, @flex_primary) variants as its own: every node name of the
// config is checked by the one rule of internal/nodename.
func TestNodeNamesScopeWordsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, defaults, node, keyword, want string
	}{
		{"nodes word in nodes", "nodes = n1 nodes", "n1", "nodes", `"nodes" is a scope word`},
		{"drpnodes as a node", "nodes = n1 drpnodes", "n1", "nodes", `"drpnodes" is a scope word`},
		{"flex_primary as a node", "nodes = flex_primary n1", "n1", "nodes", `"flex_primary" is a scope word`},
		{"encapnodes in drpnodes", "nodes = n1\ndrpnodes = encapnodes", "n1", "drpnodes", `"encapnodes" is a scope word`},
		{"flex_primary names a scope word", "nodes = n1\nflex_primary = drpnodes", "n1", "flex_primary", "scope word"},
		{"upper case", "nodes = n1 N2", "n1", "nodes", "lower case"},
		{"underscore", "nodes = n1 n_2", "n1", "nodes", "host name label"},
		{"listed twice", "nodes = n1 n2 n1", "n1", "nodes", "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := "[DEFAULT]\n" + tc.defaults + "\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\n"
			ps := problems(t, func() error { _, err := parse(t, conf, tc.node, fake.Options{}); return err }())
			var found bool
			for _, p := range ps {
				if p.Keyword == tc.keyword && p.Section == "DEFAULT" && strings.Contains(p.Message, tc.want) {
					require.Positive(t, p.Line)
					found = true
				}
			}
			require.True(t, found, "no problem on %s: %v", tc.keyword, ps)
		})
	}
}

func TestNodeNamesValidAccepted(t *testing.T) {
	conf := "[DEFAULT]\nnodes = n1 spd-02 0n3\ndrpnodes = drp1\nflex_primary = spd-02\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\ndisable@nodes = true\n"
	for _, node := range []string{"n1", "spd-02", "0n3", "drp1"} {
		s := mustParse(t, conf, node, fake.Options{})
		require.Equal(t, []string{"n1", "spd-02", "0n3"}, s.Nodes())
	}
}

// The node a config is loaded for follows the same rule.
func TestLoadForScopeWordNodeRefused(t *testing.T) {
	conf := "[DEFAULT]\nnodes = n1 n2\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\n"
	for _, node := range []string{"nodes", "drpnodes", "flex_primary", "N1", "n1.example.com"} {
		_, err := parse(t, conf, node, fake.Options{})
		require.ErrorContains(t, err, "node name", node)
	}
}
