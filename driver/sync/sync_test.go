package sync

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

func TestParseRsyncSpec(t *testing.T) {
	cfg := func(v map[string]string) driver.Config {
		return driver.Config{RID: "sync#i0", Manifest: Rsync, Values: v}
	}
	s, err := ParseRsyncSpec(cfg(nil))
	require.NoError(t, err)
	require.Equal(t, []string{"nodes"}, s.Targets, "the manifest's default")
	require.Equal(t, "rsync svc config to nodes", s.Label())

	s, err = ParseRsyncSpec(cfg(map[string]string{"target": "nodes drpnodes nodes"}))
	require.NoError(t, err)
	require.Equal(t, "rsync svc config to drpnodes, nodes", s.Label(), "the seed's label: sorted, once each")
	uses, order := s.Uses()
	require.Empty(t, uses)
	require.Equal(t, resource.OrderByUses, order)

	_, err = ParseRsyncSpec(cfg(map[string]string{"target": "everywhere"}))
	ke, ok := driver.AsKeywordError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "target", ke.Keyword)
}
