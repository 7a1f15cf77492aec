package ha_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster/ha"
)

func TestConfigOf(t *testing.T) {
	for _, tc := range []struct {
		name      string
		keywords  string
		parseErr  string
		configErr string
		ttl       time.Duration
		min, max  int
	}{
		{name: "defaults", ttl: 10 * time.Second, min: 1},
		{name: "set", keywords: "ha_lease_ttl = 4s\nflex_min_nodes = 3\nha_max_pods_per_node = 9\n", ttl: 4 * time.Second, min: 3, max: 9},
		{name: "seconds", keywords: "ha_lease_ttl = 30\n", ttl: 30 * time.Second, min: 1},
		{name: "not a duration", keywords: "ha_lease_ttl = soon\n", parseErr: "ha_lease_ttl"},
		{name: "not a number", keywords: "flex_min_nodes = two\n", parseErr: "flex_min_nodes"},
		{name: "negative", keywords: "ha_max_pods_per_node = -1\n", configErr: "expected a number of 0 or more"},
		{name: "under a second", keywords: "ha_lease_ttl = 500ms\n", configErr: "expected at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := "[DEFAULT]\nnodes = n1 n2\nflex_primary = n2\ncluster_type = flex\n" + tc.keywords
			s, err := svc.Parse(context.Background(), "s1.conf", []byte(cfg), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), VarDir: t.TempDir()})
			if tc.parseErr != "" {
				require.ErrorContains(t, err, tc.parseErr)
				return
			}
			require.NoError(t, err)
			c, err := ha.ConfigOf(s, map[string]string{"pod01": "n1"})
			if tc.configErr != "" {
				require.ErrorContains(t, err, tc.configErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "s1", c.Service)
			require.Equal(t, "n1", c.Node)
			require.Equal(t, "n2", c.Primary)
			require.Equal(t, []string{"n1", "n2"}, c.Nodes)
			require.Equal(t, tc.ttl, c.LeaseTTL)
			require.Equal(t, tc.ttl/2, c.Grace)
			require.Equal(t, tc.min, c.MinNodes)
			require.Equal(t, tc.max, c.MaxPerNode)
		})
	}
}
