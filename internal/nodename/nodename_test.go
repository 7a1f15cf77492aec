package nodename

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // substring of the error; "" for valid
	}{
		{"n1", ""},
		{"spd01", ""},
		{"a", ""},
		{"node-2", ""},
		{"0node", ""},
		{"abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc", ""},
		{"abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcd", "at most 63"},
		{"", "empty"},
		{"nodes", "scope word"},
		{"drpnodes", "scope word"},
		{"flex_primary", "scope word"},
		{"drp_flex_primary", "scope word"},
		{"encapnodes", "scope word"},
		{"N1", "lower case"},
		{"-n1", "host name label"},
		{"n1-", "host name label"},
		{"n_1", "host name label"},
		{"n1.example", "host name label"},
		{"n1 n2", "host name label"},
		{"n1\x1b", "host name label"},
		{"../x", "host name label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.name)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestScopeWords(t *testing.T) {
	for _, w := range ScopeWords {
		require.True(t, IsScopeWord(w))
		require.Error(t, Check(w))
	}
	require.False(t, IsScopeWord("n1"))
}

func TestFromHost(t *testing.T) {
	for in, want := range map[string]string{"Node1.example.com": "node1", "spd01": "spd01", "": ""} {
		require.Equal(t, want, FromHost(in))
	}
}
