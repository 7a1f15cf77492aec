package checker

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// substRe is the rule replaceRefs implements by hand.
var substRe = regexp.MustCompile(`%%(ENV:[A-Za-z0-9_.-]+|HOSTNAME|SHORT_HOSTNAME)%%`)

// TestReplaceRefsMatchesRegexp compares the hand scanner with the regexp
// it replaced, on written cases and on random strings over the letters
// that matter, with a replacement that refuses some tokens.
func TestReplaceRefsMatchesRegexp(t *testing.T) {
	rep := func(tok string) (string, bool) {
		if strings.HasSuffix(tok, "X") {
			return "", false // an undefined variable: the match stays
		}
		return "<" + tok + ">", true
	}
	viaRegexp := func(s string) string {
		return substRe.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := rep(m[2 : len(m)-2]); ok {
				return v
			}
			return m
		})
	}
	cases := []string{
		"", "%%", "%%%%", "%%HOSTNAME%%", "%%%HOSTNAME%%", "%%HOSTNAME%%%%SHORT_HOSTNAME%%",
		"a %%ENV:VALUE%% b", "%%ENV:%%", "%%ENV:a.b-c_d%%", "%%ENV:X%%%%ENV:Y%%", "%%ENV:a%b%%",
		"%%ENV:é%%", "%%hostname%%", "x%%ENV:A%%%%", "%%ENV:AX%%HOSTNAME%%",
	}
	letters := []string{"%", "%%", "ENV:", "HOSTNAME", "SHORT_", "A", "X", ".", "-", " ", ":", "é"}
	r := rand.New(rand.NewPCG(1, 17))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(letters[r.IntN(len(letters))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		require.Equal(t, viaRegexp(s), replaceRefs(s, rep), "%q", s)
	}
}
