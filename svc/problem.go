package svc

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a configuration, located as precisely as
// the text allows.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Section string `json:"section,omitempty"`
	Keyword string `json:"keyword,omitempty"`
	Message string `json:"message"`
}

// String renders the problem for a terminal: the parts that come from the
// file are escaped where they are not printable (an ESC in a config must
// not reach the terminal raw).
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(EscapeControl(p.File))
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(":")
	if p.Section != "" {
		fmt.Fprintf(&b, " [%s]", EscapeControl(p.Section))
	}
	if p.Keyword != "" {
		fmt.Fprintf(&b, " %s:", EscapeControl(p.Keyword))
	}
	b.WriteString(" ")
	b.WriteString(EscapeControl(p.Message))
	return b.String()
}

// EscapeControl returns s with its non-printable characters (control
// characters, invalid UTF-8, format characters like U+202E) written as Go
// escapes (\x1b, \n, \u202e), and the rest as it is.
func EscapeControl(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if (r == utf8.RuneError && n <= 1) || !strconv.IsPrint(r) {
			q := strconv.QuoteToASCII(s[:n])
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0].String()
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Sprintf("invalid configuration: %d problems:\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// levenshtein is the edit distance between a and b, to suggest the nearest
// known keyword for a misspelt one.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nearest returns the candidate closest to s, if close enough to be a
// likely typo.
func nearest(s string, candidates []string) (string, bool) {
	// A keyword is short: a long word is no typo of one, and the edit
	// distance, quadratic in the lengths, would cost seconds on a
	// pasted blob.
	if len(s) > 64 {
		return "", false
	}
	best, bestD := "", 1<<30
	// Case does not count: MNT is a typo of mnt.
	s = strings.ToLower(s)
	for _, c := range candidates {
		if d := levenshtein(s, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return "", false
	}
	return best, true
}
