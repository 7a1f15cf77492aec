package svc

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIsRIDMatchesThePattern compares the hand-written rid check with the
// regular expression it replaces, on names built from every class of
// character around the "#".
func TestIsRIDMatchesThePattern(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_]*#[A-Za-z0-9_.:-]+$`)
	parts := []string{"", "a", "fs", "Fs", "1", "_", "a1_", "x-y", "#", "01", "01sm", "a.b:c-d", "é", " ", "a#b", "\n", "Z"}
	for _, g := range parts {
		for _, n := range parts {
			for _, sep := range []string{"#", "", "##"} {
				name := g + sep + n
				require.Equal(t, re.MatchString(name), isRID(name), "%q", name)
			}
		}
	}
}
