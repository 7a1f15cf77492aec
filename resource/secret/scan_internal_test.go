package secret

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScanNeedsAssignment backs scan's first look: on texts made of
// secret names, quotes, blanks, dashes and words but no "=", ":" or
// "--", the whole scan finds nothing either; with one of them it may.
func TestScanNeedsAssignment(t *testing.T) {
	words := []string{"password", "MYSQL_ROOT_PASSWORD", "token", "-", " ", "\t", "\n", "'", "\"", "x", "-e", "-password", "secret", "--", "=", ":", "{", "}", ","}
	r := rand.New(rand.NewPCG(17, 1))
	found := 0
	for range 50000 {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(words[r.IntN(len(words))])
		}
		text := b.String()
		var all [][2]int
		scanAll(text, func(s, e int) { all = append(all, [2]int{s, e}) })
		var got [][2]int
		scan(text, func(s, e int) { got = append(got, [2]int{s, e}) })
		require.Equal(t, all, got, "%q", text)
		if !strings.ContainsAny(text, "=:") && !strings.Contains(text, "--") {
			require.Empty(t, all, "%q", text)
		}
		found += len(all)
	}
	require.Positive(t, found, "the texts must exercise the scan")
}
