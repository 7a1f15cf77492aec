package svc

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/svckit/svckit/resource"
)

// Selection picks the resources an action applies to. Empty fields select
// everything; set fields are combined: a resource must match each of them.
type Selection struct {
	// RIDs are rids ("fs#01"), group names ("fs") or globs ("container#*sm"),
	// comma-separated or as separate items.
	RIDs []string
	// Tags is a tag expression: "," is OR, "+" is AND and binds tighter:
	// "sm+pod01,db" is (sm AND pod01) OR db.
	Tags string
	// Subsets are subset names ("cge") or "group:name" ("disk:cge").
	Subsets []string
}

// IsZero tells whether the selection selects everything.
func (sel Selection) IsZero() bool {
	return len(sel.RIDs) == 0 && strings.TrimSpace(sel.Tags) == "" && len(sel.Subsets) == 0
}

func (sel Selection) String() string {
	var parts []string
	if len(sel.RIDs) > 0 {
		parts = append(parts, "--rid "+strings.Join(sel.RIDs, ","))
	}
	if sel.Tags != "" {
		parts = append(parts, "--tags "+sel.Tags)
	}
	if len(sel.Subsets) > 0 {
		parts = append(parts, "--subsets "+strings.Join(sel.Subsets, ","))
	}
	if len(parts) == 0 {
		return "all resources"
	}
	return strings.Join(parts, " ")
}

// TagExpr is a parsed tag expression: an OR of ANDs.
type TagExpr [][]string

// ParseTags parses "a+b,c". Empty terms are errors.
func ParseTags(expr string) (TagExpr, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	var out TagExpr
	for _, or := range strings.Split(expr, ",") {
		var and []string
		for _, t := range strings.Split(or, "+") {
			t = strings.TrimSpace(t)
			if t == "" {
				return nil, fmt.Errorf("tag expression %q: empty tag: expected tags joined by + (and) and , (or), like sm+pod01,db", expr)
			}
			// A config's tags are words: a tag with a space or a
			// control character would never match.
			if i := strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }); i >= 0 {
				return nil, fmt.Errorf("tag expression %q: tag %q has a space or control character: expected tags that are words, joined by + (and) and , (or)", expr, t)
			}
			and = append(and, t)
		}
		out = append(out, and)
	}
	return out, nil
}

// Match tells whether tags satisfy the expression.
func (e TagExpr) Match(tags []string) bool {
	if len(e) == 0 {
		return true
	}
	for _, and := range e {
		ok := true
		for _, t := range and {
			if !slices.Contains(tags, t) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func splitList(items []string) []string {
	var out []string
	for _, it := range items {
		for _, p := range strings.Split(it, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func matchRID(pattern, rid string) (bool, error) {
	if pattern == rid || pattern == resource.Group(rid) && !strings.Contains(pattern, "#") {
		return true, nil
	}
	ok, err := path.Match(pattern, rid)
	if err != nil {
		return false, fmt.Errorf("--rid %q: %w", pattern, err)
	}
	return ok, nil
}

// Select returns the enabled resources sel picks, in group then rid order.
// Selecting nothing is an error that says what was asked.
func (s *Service) Select(sel Selection) ([]resource.Resource, error) {
	tags, err := ParseTags(sel.Tags)
	if err != nil {
		return nil, err
	}
	rids := splitList(sel.RIDs)
	subsets := splitList(sel.Subsets)
	var out []resource.Resource
	for _, r := range s.resources {
		if r.Flags().Disabled {
			continue
		}
		if len(rids) > 0 {
			hit := false
			for _, p := range rids {
				ok, err := matchRID(p, r.RID())
				if err != nil {
					return nil, err
				}
				if ok {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
		}
		if !tags.Match(r.Tags()) {
			continue
		}
		if len(subsets) > 0 {
			full := resource.Group(r.RID()) + ":" + r.Subset()
			if r.Subset() == "" || !slices.Contains(subsets, r.Subset()) && !slices.Contains(subsets, full) {
				continue
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("service %s on %s: %s selects no enabled resource", s.name, s.node, sel)
	}
	return out, nil
}
