package server

import (
	"fmt"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/svckit/svckit/resource/secret"
)

// diffView is what changed between two revisions of a config, as the
// service page shows it: hunks of lines with three lines of context.
type diffView struct {
	From, To       *Revision
	Hunks          []hunkView
	Added, Removed int
}

type hunkView struct {
	Header string
	Lines  []diffLine
}

// diffLine is one line of a hunk: Op is "+", "-" or " ".
type diffLine struct {
	Op, Text string
}

// Class is the CSS class of the line.
func (l diffLine) Class() string {
	switch l.Op {
	case "+":
		return "add"
	case "-":
		return "del"
	}
	return "ctx"
}

// lineDiff compares the configs of two revisions line by line with
// go-udiff (the Myers/LCS diff of gopls), then redacts each line shown
// with the secrets of both configs: a changed password shows as a
// changed line, never as its value.
func lineDiff(from, to *Revision) *diffView {
	a, b := from.EnvFile, to.EnvFile
	set := secret.NewSet(append(secret.Assignments(a), secret.Assignments(b)...)...)
	v := &diffView{From: from, To: to}
	u, err := udiff.ToUnifiedDiff("", "", a, udiff.Lines(a, b), 3)
	if err != nil {
		// The edits come from the same text: an error is a bug of the
		// library; show the whole change.
		u = udiff.UnifiedDiff{Hunks: []*udiff.Hunk{{FromLine: 1}}}
		for l := range strings.Lines(a) {
			u.Hunks[0].Lines = append(u.Hunks[0].Lines, udiff.Line{Kind: udiff.Delete, Content: l})
		}
		for l := range strings.Lines(b) {
			u.Hunks[0].Lines = append(u.Hunks[0].Lines, udiff.Line{Kind: udiff.Insert, Content: l})
		}
	}
	for _, h := range u.Hunks {
		hv := hunkView{}
		var del, ins int
		for _, l := range h.Lines {
			op := " "
			switch l.Kind {
			case udiff.Delete:
				op = "-"
				del++
			case udiff.Insert:
				op = "+"
				ins++
			}
			hv.Lines = append(hv.Lines, diffLine{Op: op, Text: set.Redact(strings.TrimSuffix(l.Content, "\n"))})
		}
		v.Added += ins
		v.Removed += del
		hv.Header = fmt.Sprintf("@@ line %d: -%d +%d @@", h.FromLine, del, ins)
		v.Hunks = append(v.Hunks, hv)
	}
	return v
}
