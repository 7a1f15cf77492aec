package svc

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/ini.v1"
)

// rawKey is one "key[@scope] = value" line of a section.
type rawKey struct {
	Name  string // "disable"
	Scope string // "spd01", "nodes", "" for none
	Value string
	Line  int
}

// rawSection is a section as written, before scoping.
type rawSection struct {
	Name string // "DEFAULT", "fs#01", "subset#disk:cge", "env"
	Line int
	Keys []rawKey
}

// rawConfig is a parsed configuration file with the line of every section
// and key, which gopkg.in/ini.v1 does not keep.
type rawConfig struct {
	File     string
	Sections []*rawSection
	byName   map[string]*rawSection
	dups     []Problem
}

func (c *rawConfig) section(name string) *rawSection { return c.byName[name] }

// lineIndex maps section -> key (with scope) -> the line numbers where the
// key is written, from a scan of the text the way ini reads it: a line
// starting at column 0 with "[" opens a section, an unindented
// "key = value" line sets a key, indented lines continue the value.
type lineIndex struct {
	sections map[string]int
	keys     map[string]map[string][]int
	order    []string
}

func scanLines(data []byte) lineIndex {
	idx := lineIndex{sections: map[string]int{}, keys: map[string]map[string][]int{}}
	cur := ini.DefaultSection
	idx.keys[cur] = map[string][]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			if end := strings.IndexByte(t, ']'); end > 0 {
				cur = strings.TrimSpace(t[1:end])
				if _, seen := idx.sections[cur]; !seen {
					idx.sections[cur] = n
					idx.order = append(idx.order, cur)
				}
				if idx.keys[cur] == nil {
					idx.keys[cur] = map[string][]int{}
				}
			}
			continue
		}
		if k, _, ok := strings.Cut(t, "="); ok {
			k = strings.TrimSpace(k)
			idx.keys[cur][k] = append(idx.keys[cur][k], n)
		}
	}
	return idx
}

// parseRaw reads an OpenSVC-format configuration. Syntax errors come back
// as a *ValidationError naming the file and, where it can be found, the
// line.
func parseRaw(file string, data []byte) (*rawConfig, error) {
	opts := ini.LoadOptions{
		AllowPythonMultilineValues: true,
		SpaceBeforeInlineComment:   true,
		KeyValueDelimiters:         "=",
		// A blank line ends a multi-line value; the look-ahead that
		// finds it is bounded by the reader buffer: make it the file.
		ReaderBufferSize:        len(data) + 4096,
		AllowShadows:            true,
		PreserveSurroundedQuote: true,
		SkipUnrecognizableLines: false,
	}
	f, err := ini.LoadSources(opts, data)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{syntaxProblem(file, data, err)}}
	}
	idx := scanLines(data)
	rc := &rawConfig{File: file, byName: map[string]*rawSection{}}
	for _, s := range f.Sections() {
		name := s.Name()
		rs := &rawSection{Name: name, Line: idx.sections[name]}
		lines := idx.keys[name]
		for _, k := range s.Keys() {
			full := k.Name()
			shadows := k.ValueWithShadows()
			ln := lines[full]
			if len(shadows) > 1 || len(ln) > 1 {
				l := 0
				if len(ln) > 1 {
					l = ln[1]
				}
				rc.dups = append(rc.dups, Problem{File: file, Line: l, Section: name, Keyword: full,
					Message: fmt.Sprintf("set more than once (lines %s): expected one value per keyword", joinInts(ln))})
			}
			name, scope, _ := strings.Cut(full, "@")
			line := 0
			if len(ln) > 0 {
				line = ln[0]
			}
			rs.Keys = append(rs.Keys, rawKey{Name: name, Scope: scope, Value: cleanValue(k.Value()), Line: line})
		}
		if name == ini.DefaultSection && len(rs.Keys) == 0 && rs.Line == 0 {
			continue
		}
		rc.Sections = append(rc.Sections, rs)
		rc.byName[name] = rs
	}
	sort.SliceStable(rc.Sections, func(i, j int) bool { return rc.Sections[i].Line < rc.Sections[j].Line })
	return rc, nil
}

// cleanValue trims the indentation ini keeps on continuation lines.
func cleanValue(v string) string {
	if !strings.Contains(v, "\n") {
		return strings.TrimSpace(v)
	}
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// syntaxProblem turns an ini error (which carries the offending text, not
// its line) into a Problem with the line number found by searching the
// text.
func syntaxProblem(file string, data []byte, err error) Problem {
	p := Problem{File: file, Message: "syntax error: " + err.Error() + ": expected [section] headers and key = value lines"}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		needle := strings.TrimSpace(strings.Trim(msg[i+2:], "'\""))
		if needle != "" {
			for n, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, needle) {
					p.Line = n + 1
					break
				}
			}
		}
	}
	return p
}

func joinInts(l []int) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
