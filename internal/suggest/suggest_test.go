package suggest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/internal/suggest"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"size", "size", 0},
		{"sise", "size", 1},
		{"mnt_opts", "mnt_opt", 1},
		{"flex_primry", "flex_primary", 1},
		{"sdpc.node", "spdc.node", 1}, // a transposition is one typo
		{"kitten", "sitting", 3},
	} {
		require.Equal(t, tc.want, suggest.Distance(tc.a, tc.b), "%q %q", tc.a, tc.b)
		require.Equal(t, tc.want, suggest.Distance(tc.b, tc.a), "%q %q", tc.b, tc.a)
	}
}

func TestClosest(t *testing.T) {
	keywords := []string{"size", "mnt", "mnt_opt", "flex_primary", "parallel"}
	for _, tc := range []struct {
		word, want string
		ok         bool
	}{
		{"sise", "size", true},
		{"MNT", "mnt", true}, // case does not count
		{"mnt_opts", "mnt_opt", true},
		{"flex_primry", "flex_primary", true},
		{"paralel", "parallel", true},
		{"zzzzzz", "", false},
		{"", "", false}, // every keyword is more than 2 edits away
		{strings.Repeat("size", 17), "", false},
	} {
		got, ok := suggest.Closest(tc.word, keywords)
		require.Equal(t, tc.ok, ok, tc.word)
		require.Equal(t, tc.want, got, tc.word)
	}
	got, ok := suggest.Closest("sdpc.node", []string{"spdc.node", "spdc.app"})
	require.True(t, ok)
	require.Equal(t, "spdc.node", got)
	_, ok = suggest.Closest("x", nil)
	require.False(t, ok)

	// The allowed distance grows with the word: a third of its length,
	// and at least 2.
	got, ok = suggest.Closest("abcdefghijkl", []string{"abcdXXXXijkl"})
	require.True(t, ok, "4 edits in 12 bytes")
	require.Equal(t, "abcdXXXXijkl", got)
	_, ok = suggest.Closest("abcdefghijkl", []string{"abcXXXXXijkl"})
	require.False(t, ok, "5 edits in 12 bytes")
	_, ok = suggest.Closest("abcdef", []string{"aXXXef"})
	require.False(t, ok, "3 edits in 6 bytes")
	_, ok = suggest.Closest("abcdef", []string{"aXXdef"})
	require.True(t, ok, "2 edits in 6 bytes")
}
