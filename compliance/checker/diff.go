package checker

import (
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Bounds of the diff a check prints: whatever the size of the file, the
// diff reads at most maxDiffInput bytes and maxDiffInputLines lines of each
// side (difflib's matcher grows faster than the square of the lines: 4000
// lines of a few repeated values take over half a second) and prints at
// most maxDiffLines lines and maxDiffBytes bytes, with a note when it was
// cut.
const (
	maxDiffInput      = 1 << 20
	maxDiffInputLines = 2000
	maxDiffLines      = 400
	maxDiffBytes      = 64 << 10
)

// differs tells whether the file, of the given size, holds something else
// than the target content; it reads the file as a stream.
func (t *fileTarget) differs(size int64) (bool, error) {
	eq, err := t.root.Equal(t.name, size, t.content)
	return !eq && err == nil, err
}

// diff is the unified diff of the file (size bytes) against the target
// content, bounded as the constants above say.
func (t *fileTarget) diff(size int64) (string, error) {
	f, err := t.root.Open(t.name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	cur, err := io.ReadAll(io.LimitReader(f, maxDiffInput))
	if err != nil {
		return "", err
	}
	target := t.content
	var notes []string
	if size > maxDiffInput || len(target) > maxDiffInput {
		notes = append(notes, fmt.Sprintf("diff cut: only the first %d bytes of each side are compared (current %d bytes, target %d bytes)", maxDiffInput, size, len(t.content)))
		target = target[:min(len(target), maxDiffInput)]
	}
	a, b := difflib.SplitLines(string(cur)), difflib.SplitLines(string(target))
	if len(a) > maxDiffInputLines || len(b) > maxDiffInputLines {
		notes = append(notes, fmt.Sprintf("diff cut: only the first %d lines of each side are compared", maxDiffInputLines))
		a, b = a[:min(len(a), maxDiffInputLines)], b[:min(len(b), maxDiffInputLines)]
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: a, B: b,
		FromFile: t.path + " (current)", ToFile: t.path + " (target)", Context: 3,
	})
	if err != nil {
		return "", err
	}
	out, cut := capText(strings.TrimRight(d, "\n"), maxDiffLines, maxDiffBytes)
	out = strings.TrimRight(out, "\n")
	if cut {
		notes = append(notes, fmt.Sprintf("diff cut: more than %d lines or %d bytes", maxDiffLines, maxDiffBytes))
	}
	for _, n := range notes {
		out += "\n(" + n + ")"
	}
	return out, nil
}

// capText keeps at most maxLines lines and maxBytes bytes of s, cut at a
// line end, and tells whether it cut.
func capText(s string, maxLines, maxBytes int) (string, bool) {
	lines := 0
	for i := 0; i < len(s); i++ {
		if i >= maxBytes {
			return s[:strings.LastIndexByte(s[:i], '\n')+1], true
		}
		if s[i] == '\n' {
			lines++
			if lines == maxLines {
				return s[:i+1], true
			}
		}
	}
	return s, false
}
