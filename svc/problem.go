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
