// Package nodename holds the one rule for node names: an RFC 1123 host
// label in lower case that is not a scope word of the config loader.
// A node called "nodes" would make key@nodes apply to it as its own
// name and as the node set at once, so every place a node name enters
// (config, form inputs, cluster registry, command line) calls Check.
package nodename

import (
	"fmt"
	"slices"
	"strings"
)

// MaxLen is the longest host label RFC 1123 allows.
const MaxLen = 63

// ScopeWords are the scopes key@<word> that the config loader ranks as
// node sets rather than node names.
var ScopeWords = []string{"nodes", "drpnodes", "flex_primary", "drp_flex_primary", "encapnodes"}

// IsScopeWord tells whether w is one of ScopeWords.
func IsScopeWord(w string) bool { return slices.Contains(ScopeWords, w) }

// Check returns nil when name is a valid node name, else an error that
// says what is expected.
func Check(name string) error {
	if name == "" {
		return fmt.Errorf("node name is empty: expected a host name label (a-z, 0-9, '-', 1 to %d characters)", MaxLen)
	}
	if IsScopeWord(name) {
		return fmt.Errorf("node name %q is a scope word (%s): expected a host name", name, strings.Join(ScopeWords, ", "))
	}
	if len(name) > MaxLen {
		return fmt.Errorf("node name %q has %d characters: expected at most %d", name, len(name), MaxLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(name)-1:
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("node name %q has upper case letters: expected lower case", name)
		default:
			return fmt.Errorf("node name %q: expected a host name label: a-z, 0-9 and '-', not starting or ending with '-'", name)
		}
	}
	return nil
}

// FromHost turns a host name into the default node name: its first
// label, lower cased.
func FromHost(hostname string) string {
	short, _, _ := strings.Cut(hostname, ".")
	return strings.ToLower(short)
}
