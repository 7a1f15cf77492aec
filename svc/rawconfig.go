package svc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/svckit/svckit/internal/inifile"
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
	// byKey lists the indexes in Keys of each name's variants (key,
	// key@n1...), so that a lookup costs no scan of the section.
	byKey map[string][]int
}

// variants returns the keys of sec named name, scoped or not.
func (sec *rawSection) variants(name string) []rawKey {
	if sec.byKey == nil {
		sec.byKey = make(map[string][]int, len(sec.Keys))
		for i, k := range sec.Keys {
			sec.byKey[k.Name] = append(sec.byKey[k.Name], i)
		}
	}
	idx := sec.byKey[name]
	if len(idx) == 1 {
		return sec.Keys[idx[0] : idx[0]+1]
	}
	out := make([]rawKey, len(idx))
	for i, j := range idx {
		out[i] = sec.Keys[j]
	}
	return out
}

// rawConfig is a parsed configuration file with the line of every section
// and key.
type rawConfig struct {
	File     string
	Sections []*rawSection
	byName   map[string]*rawSection
	dups     []Problem
}

func (c *rawConfig) section(name string) *rawSection { return c.byName[name] }

// parseRaw reads an OpenSVC-format configuration. Syntax errors and a file
// over MaxFileSize come back as a *ValidationError naming the file and the
// line. check is called between lines (a cancelled load stops).
func parseRaw(file string, data []byte, check func() error) (*rawConfig, error) {
	if len(data) > MaxFileSize {
		return nil, &ValidationError{Problems: []Problem{{File: file,
			Message: fmt.Sprintf("file too large: %d bytes, expected at most %d (svc.MaxFileSize)", len(data), MaxFileSize)}}}
	}
	secs, err := inifile.Read(string(data), check)
	if err != nil {
		var se *inifile.SyntaxError
		if errors.As(err, &se) {
			return nil, &ValidationError{Problems: []Problem{{File: file, Line: se.Line, Message: "syntax error: " + se.Msg}}}
		}
		return nil, err
	}
	rc := &rawConfig{File: file, byName: make(map[string]*rawSection, len(secs))}
	for _, s := range secs {
		name := s.Name
		line := s.Line()
		// A repeated section is most often a copied one whose rid was
		// not changed: ini would merge it silently into the first.
		for _, l := range s.Lines[min(1, len(s.Lines)):] {
			rc.dups = append(rc.dups, Problem{File: file, Line: l, Section: name,
				Message: fmt.Sprintf("section written again (first at line %d): expected each section once", line)})
		}
		rs := &rawSection{Name: name, Line: line, Keys: make([]rawKey, 0, len(s.Keys))}
		for _, k := range s.Keys {
			full := k.Name
			if len(k.Lines) > 1 {
				rc.dups = append(rc.dups, Problem{File: file, Line: k.Lines[1], Section: name, Keyword: full,
					Message: fmt.Sprintf("set more than once (lines %s): expected one value per keyword", joinInts(k.Lines))})
			}
			kname, scope, scoped := k.Split()
			if scoped && scope == "" {
				// "mnt@ = x" would otherwise pass for an unscoped mnt.
				rc.dups = append(rc.dups, Problem{File: file, Line: k.Lines[0], Section: name, Keyword: full,
					Message: "empty scope after @: expected " + kname + "@<node>, @nodes, @drpnodes or @flex_primary"})
			}
			rs.Keys = append(rs.Keys, rawKey{Name: kname, Scope: scope, Value: cleanValue(k.Value), Line: k.Lines[0]})
		}
		if name == defaultSection && len(rs.Keys) == 0 && rs.Line == 0 {
			continue
		}
		rs.variants("") // index the keys now: a Service is read concurrently
		rc.Sections = append(rc.Sections, rs)
		rc.byName[name] = rs
	}
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

func joinInts(l []int) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
