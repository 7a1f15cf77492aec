package svc

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCleanValue checks the one-buffer cleanValue against the rule it
// replaced: every line trimmed, then the whole.
func TestCleanValue(t *testing.T) {
	old := func(v string) string {
		lines := strings.Split(v, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSpace(l)
		}
		return strings.TrimSpace(strings.Join(lines, "\n"))
	}
	for _, v := range []string{
		"", "a", "  a  ", "a\n  b", "\n\n a", "a\n\n  b\n", " \n \n ", "a\n\t-e X=1\n\t-e Y=2",
		"\n", "x\r\n y\r\n", "é\n  ü ", strings.Repeat("--opt v\n    ", 2000),
	} {
		require.Equal(t, old(v), cleanValue(v), "%q", v)
	}
}
