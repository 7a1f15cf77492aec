package driver

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"512", 512, false},
		{"17g", 17 << 30, false},
		{"17G", 17 << 30, false},
		{"20GiB", 20 << 30, false},
		{"512mb", 512 << 20, false},
		{"1.5k", 1536, false},
		{"", 0, true},
		{"g", 0, true},
		{"-1g", 0, true},
		{"12x", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestKeywordCheck(t *testing.T) {
	require.NoError(t, Keyword{Kind: Bool}.Check("yes"))
	require.ErrorContains(t, Keyword{Kind: Bool}.Check("maybe"), "not a boolean")
	require.NoError(t, Keyword{Kind: IP}.Check("10.0.0.33"))
	require.ErrorContains(t, Keyword{Kind: IP}.Check("10.0.0.333"), "not an ip")
	require.ErrorContains(t, Keyword{Kind: Int}.Check("3x"), "not an integer")
	require.ErrorContains(t, Keyword{Candidates: []string{"a", "b"}}.Check("c"), "not one of a, b")
	require.NoError(t, Keyword{Kind: Duration}.Check("10"))
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	m := Manifest{ID: "fs.test"}
	require.NoError(t, r.Register(m, func(ctx Ctx, cfg Config) (Res, error) { return nil, nil }))
	require.ErrorContains(t, r.Register(m, func(ctx Ctx, cfg Config) (Res, error) { return nil, nil }), "already registered")
	require.ErrorContains(t, r.Register(Manifest{ID: "nodot"}, func(ctx Ctx, cfg Config) (Res, error) { return nil, nil }), "expected group.type")
	require.Equal(t, []string{"test"}, r.Types("fs"))
}

func TestConfigFlagsAlwaysOn(t *testing.T) {
	c := Config{Nodename: "spd02", Nodes: []string{"spd01", "spd02"}, Values: map[string]string{"always_on": "nodes"}}
	require.True(t, c.Flags().Standby)
	c.Values["always_on"] = "drpnodes"
	require.False(t, c.Flags().Standby)
	c.Values["always_on"] = "spd02"
	require.True(t, c.Flags().Standby)
}
