package gcetest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// filter is a parsed list filter: the compute API's syntax, restricted to
// comparisons (field = value, field != value, field eq regexp, field ne
// regexp) joined by AND (or by juxtaposition), with parentheses. OR is
// refused with a 400, so that a test never passes on a filter the fake
// would misread.
type filter []cond

type cond struct {
	field string
	neg   bool
	re    *regexp.Regexp
}

func parseFilter(s string) (filter, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	var f filter
	for i := 0; i < len(toks); {
		t := toks[i]
		switch {
		case t == "(" || t == ")" || strings.EqualFold(t, "AND"):
			i++
			continue
		case strings.EqualFold(t, "OR"):
			return nil, fmt.Errorf("invalid filter %q: OR is not supported", s)
		}
		if i+2 >= len(toks) {
			return nil, fmt.Errorf("invalid filter %q: expected field operator value after %q", s, t)
		}
		field, op, val := t, toks[i+1], toks[i+2]
		i += 3
		var c cond
		c.field = field
		switch strings.ToLower(op) {
		case "=", "!=":
			c.neg = op == "!="
			pat := regexp.QuoteMeta(val)
			pat = strings.ReplaceAll(pat, `\*`, ".*")
			c.re, err = regexp.Compile("^(?:" + pat + ")$")
		case "eq", "ne":
			c.neg = strings.EqualFold(op, "ne")
			c.re, err = regexp.Compile("^(?:" + val + ")$")
		default:
			return nil, fmt.Errorf("invalid filter %q: unknown operator %q (expected =, !=, eq, ne)", s, op)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid filter %q: %v", s, err)
		}
		f = append(f, c)
	}
	return f, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	r := []rune(s)
	for i := 0; i < len(r); {
		switch c := r[i]; {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(r) && r[j] != '"'; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("invalid filter %q: unterminated string", s)
			}
			toks = append(toks, b.String())
			i = j + 1
		case c == '!' && i+1 < len(r) && r[i+1] == '=':
			toks = append(toks, "!=")
			i += 2
		case c == '=':
			toks = append(toks, "=")
			i++
		default:
			j := i
			for j < len(r) && !unicode.IsSpace(r[j]) && r[j] != '(' && r[j] != ')' && r[j] != '=' && !(r[j] == '!' && j+1 < len(r) && r[j+1] == '=') {
				j++
			}
			toks = append(toks, string(r[i:j]))
			i = j
		}
	}
	return toks, nil
}

// match tells whether m satisfies every condition. Fields are named as in
// the JSON the API answers (destRange, nextHopInstance, sizeGb).
func (f filter) match(m proto.Message) bool {
	if len(f) == 0 {
		return true
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		return false
	}
	var fields map[string]any
	if json.Unmarshal(b, &fields) != nil {
		return false
	}
	for _, c := range f {
		v, ok := fields[c.field]
		s := ""
		if ok {
			s = fmt.Sprint(v)
		}
		if c.re.MatchString(s) == c.neg {
			return false
		}
	}
	return true
}
