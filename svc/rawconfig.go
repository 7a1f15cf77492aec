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
	// key@n1...), so that a lookup in a large section ([env] of
	// thousands of keys) costs no scan; nil for a small section, where
	// a scan of a few keys is cheaper than a map per section.
	byKey map[string][]int
}

// indexFrom is the number of keys from which a section is indexed.
const indexFrom = 16

// index builds byKey for a large section. parseRaw calls it before the
// config is shared: a Service is read concurrently.
func (sec *rawSection) index() {
	if len(sec.Keys) < indexFrom || sec.byKey != nil {
		return
	}
	sec.byKey = make(map[string][]int, len(sec.Keys))
	for i, k := range sec.Keys {
		sec.byKey[k.Name] = append(sec.byKey[k.Name], i)
	}
}

// variants returns the keys of sec named name, scoped or not.
func (sec *rawSection) variants(name string) []rawKey {
	var out []rawKey
	sec.each(name, func(i int) { out = append(out, sec.Keys[i]) })
	return out
}

// each calls fn with the index of every key of sec named name, in the
// order written.
func (sec *rawSection) each(name string, fn func(i int)) {
	if sec.byKey != nil {
		for _, i := range sec.byKey[name] {
			fn(i)
		}
		return
	}
	for i := range sec.Keys {
		if sec.Keys[i].Name == name {
			fn(i)
		}
	}
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
	rc := &rawConfig{File: file, byName: make(map[string]*rawSection, len(secs)), Sections: make([]*rawSection, 0, len(secs))}
	// The sections and their keys in two allocations, not one a section:
	// a config is hundreds of sections.
	nkeys := 0
	for _, s := range secs {
		nkeys += len(s.Keys)
	}
	slab, keys := make([]rawSection, len(secs)), make([]rawKey, 0, nkeys)
	for i, s := range secs {
		name := s.Name
		line := s.Line()
		// A repeated section is most often a copied one whose rid was
		// not changed: ini would merge it silently into the first.
		for _, l := range s.Lines[min(1, len(s.Lines)):] {
			rc.dups = append(rc.dups, Problem{File: file, Line: l, Section: name,
				Message: fmt.Sprintf("section written again (first at line %d): expected each section once", line)})
		}
		rs := &slab[i]
		n := len(keys)
		*rs = rawSection{Name: name, Line: line, Keys: keys[n : n : n+len(s.Keys)]}
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
		keys = keys[:n+len(rs.Keys)]
		if name == defaultSection && len(rs.Keys) == 0 && rs.Line == 0 {
			continue
		}
		rs.index() // now: a Service is read concurrently
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
	// Line by line into one buffer: a Split and a Join cost three
	// allocations a value.
	var b strings.Builder
	b.Grow(len(v))
	first := true
	for line := range strings.SplitSeq(v, "\n") {
		if !first {
			b.WriteByte('\n')
		}
		first = false
		b.WriteString(strings.TrimSpace(line))
	}
	return strings.TrimSpace(b.String())
}

func joinInts(l []int) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
