package svc

import (
	"fmt"
	"sort"
	"strings"
)

// limits bounds the expansion of references in one load (see the package
// documentation). Its problems are kept apart from the others so that
// expandQuiet, which drops the problems of a value already checked, never
// drops them.
type limits struct {
	budget     int // bytes references may still expand to, in total
	expanded   int
	overBudget bool
	depth      int // nesting of {env.x} being resolved
	tooDeepHit bool
	limitProbs []Problem
}

func (l *loader) limitProblem(k rawKey, section, format string, args ...any) {
	full := k.Name
	if k.Scope != "" {
		full += "@" + k.Scope
	}
	l.limitProbs = append(l.limitProbs, Problem{File: l.raw.File, Line: k.Line, Section: section, Keyword: full, Message: fmt.Sprintf(format, args...)})
}

// full says that no more problem will be listed: the work of finding
// their details can be saved.
func (l *loader) full() bool {
	if len(l.problems) >= MaxProblems {
		l.dropped++
		return true
	}
	return false
}

func (l *loader) limitProblems() bool { return len(l.limitProbs) > 0 }

// spend accounts for a value of k growing to size bytes by one more
// reference of add bytes; false means a limit is crossed (and reported): the caller
// stops expanding.
func (l *loader) spend(section string, k rawKey, size, add int) bool {
	if size > MaxValueSize {
		l.limitProblem(k, section, "references expand the value to more than %d bytes: expected at most %d (svc.MaxValueSize)", MaxValueSize, MaxValueSize)
		return false
	}
	l.expanded += add
	if l.expanded > l.budget {
		l.overBudget = true
		l.limitProblem(k, section, "references expand to more than %d bytes in total, %dx the file's size: expected at most that (svc.ExpansionFactor)", l.budget, ExpansionFactor)
		return false
	}
	return true
}

// tooDeep reports (once) an {env.x} reference nested deeper than
// MaxReferenceDepth.
func (l *loader) tooDeep(k rawKey) bool {
	if l.depth < MaxReferenceDepth {
		return false
	}
	if !l.tooDeepHit {
		l.tooDeepHit = true
		l.limitProblem(k, "env", "references nested more than %d deep ({env.a} in b in c...): expected at most %d (svc.MaxReferenceDepth)", MaxReferenceDepth, MaxReferenceDepth)
	}
	return true
}

// allProblems returns every problem of the load, by line, at most
// MaxProblems of them plus a note of how many were left out.
func (l *loader) allProblems(data []byte) []Problem {
	p := append(append(l.problems, l.limitProbs...), l.raw.dups...)
	if len(p) == 0 && l.dropped == 0 {
		if empty := l.emptyProblem(data); empty != nil {
			return []Problem{*empty}
		}
		return nil
	}
	sort.SliceStable(p, func(i, j int) bool { return p[i].Line < p[j].Line })
	dropped := l.dropped
	if len(p) > MaxProblems {
		dropped += len(p) - MaxProblems
		p = p[:MaxProblems]
	}
	if dropped > 0 {
		p = append(p, Problem{File: l.raw.File, Message: fmt.Sprintf("%d more problems not listed (svc.MaxProblems is %d)", dropped, MaxProblems)})
	}
	return p
}

// emptyProblem reports a configuration without a single keyword (an empty
// file, only comments and blank lines, or only section headers):
// installed, it would replace a service with nothing.
func (l *loader) emptyProblem(data []byte) *Problem {
	for _, sec := range l.raw.Sections {
		if len(sec.Keys) > 0 {
			return nil
		}
	}
	what := "an empty file"
	switch {
	case len(l.raw.Sections) > 0:
		what = "no keyword in any section"
	case strings.TrimSpace(string(data)) != "":
		what = "only comments and blank lines"
	}
	return &Problem{File: l.raw.File, Message: "empty configuration (" + what + "): expected a [DEFAULT] section with nodes and the service's resource sections"}
}
