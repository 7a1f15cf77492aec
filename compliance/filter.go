package compliance

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func validFilterOp(op string) bool {
	switch strings.ToUpper(op) {
	case "=", "LIKE", "<", "<=", ">", ">=", "IN":
		return true
	}
	return false
}

// parseLogOp splits AND, OR, AND NOT, OR NOT; "" is AND.
func parseLogOp(s string) (or, not bool, err error) {
	switch strings.Join(strings.Fields(strings.ToUpper(s)), " ") {
	case "", "AND":
		return false, false, nil
	case "OR":
		return true, false, nil
	case "AND NOT":
		return false, true, nil
	case "OR NOT":
		return true, true, nil
	}
	return false, false, fmt.Errorf("f_log_op %q, expected AND, OR, AND NOT or OR NOT", s)
}

// MatchFilterset evaluates a filterset on facts. Its entries are folded
// left to right in f_order (entries of equal order keep their place); an
// empty filterset is false.
func (e *Export) MatchFilterset(name string, facts *Facts) (bool, error) {
	return e.matchFilterset(name, facts, map[string]bool{})
}

func (e *Export) matchFilterset(name string, facts *Facts, active map[string]bool) (bool, error) {
	fs, ok := e.filtersets[name]
	if !ok {
		return false, fmt.Errorf("filterset %q is not defined", name)
	}
	if active[name] {
		return false, fmt.Errorf("filterset %q nests itself", name)
	}
	active[name] = true
	defer delete(active, name)
	entries := append([]FilterEntry(nil), fs.Filters...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Order < entries[j].Order })
	var acc bool
	for i, f := range entries {
		or, not, err := parseLogOp(f.LogOp)
		if err != nil {
			return false, fmt.Errorf("filterset %q: %w", name, err)
		}
		var v bool
		nested, err := nestedFilterset(f.Filterset)
		if err != nil {
			return false, fmt.Errorf("filterset %q: %w", name, err)
		}
		switch {
		case nested != "":
			if v, err = e.matchFilterset(nested, facts, active); err != nil {
				return false, err
			}
		case f.Filter != nil:
			if v, err = f.Filter.Match(facts); err != nil {
				return false, fmt.Errorf("filterset %q: %w", name, err)
			}
		default:
			return false, fmt.Errorf("filterset %q: entry %d has neither filter nor filterset", name, i)
		}
		if not {
			v = !v
		}
		switch {
		case i == 0:
			acc = v
		case or:
			acc = acc || v
		default:
			acc = acc && v
		}
	}
	return acc, nil
}

// Match evaluates the filter: a nodes filter on the named node fact, a
// packages filter true when an installed package matches.
func (f *Filter) Match(facts *Facts) (bool, error) {
	switch f.Table {
	case "nodes", "":
		return compare(facts.Node[f.Field], f.Op, f.Value)
	case "packages":
		for _, p := range facts.Packages {
			var v string
			switch f.Field {
			case "pkg_name":
				v = p.Name
			case "pkg_version":
				v = p.Version
			default:
				return false, fmt.Errorf("filter %d: packages field %q, expected pkg_name or pkg_version", f.ID, f.Field)
			}
			ok, err := compare(v, f.Op, f.Value)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("filter %d: f_table %q, expected nodes or packages", f.ID, f.Table)
}

// compare applies op; numbers compare as numbers when both sides are.
func compare(have, op, want string) (bool, error) {
	switch strings.ToUpper(op) {
	case "=":
		return have == want, nil
	case "LIKE":
		return likeRe(want).MatchString(have), nil
	case "IN":
		for _, w := range strings.Split(want, ",") {
			if strings.TrimSpace(w) == have {
				return true, nil
			}
		}
		return false, nil
	case "<", "<=", ">", ">=":
		var c int
		a, errA := strconv.ParseFloat(have, 64)
		b, errB := strconv.ParseFloat(want, 64)
		switch {
		case errA == nil && errB == nil:
			c = cmpFloat(a, b)
		default:
			c = strings.Compare(have, want)
		}
		switch op {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		}
		return c >= 0, nil
	}
	return false, fmt.Errorf("f_op %q, expected one of =, LIKE, <, <=, >, >=, IN", op)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// likeRe turns an SQL LIKE pattern (% any run, _ one character) into an
// anchored, case-insensitive regexp as MySQL's default collation compares.
func likeRe(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range p {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
