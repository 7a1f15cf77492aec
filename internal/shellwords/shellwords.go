// Package shellwords splits command lines (run_args, run_command,
// mkfs_opt, ssh options) into words with shell quoting: the one rule of
// svckit for it, github.com/google/shlex, with a fast path for the common
// line that has nothing to unquote.
package shellwords

import (
	"strings"
	"unicode/utf8"

	"github.com/google/shlex"
)

// Split returns the words of s as a POSIX shell would split them
// (quotes, backslash escapes, # comments), as shlex.Split does. A line
// with none of those characters is split on shlex's blanks without
// shlex's per-call 4 KiB reader: a service load splits the run_args of
// every container.
func Split(s string) ([]string, error) {
	// shlex reads runes: invalid UTF-8 comes back as U+FFFD.
	if strings.ContainsAny(s, "\"'\\#") || !utf8.ValidString(s) {
		return shlex.Split(s)
	}
	return strings.FieldsFunc(s, isBlank), nil
}

// isBlank is shlex's space class.
func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }
