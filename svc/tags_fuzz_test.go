package svc_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/svckit/svckit/svc"
)

// FuzzTags feeds arbitrary --tags expressions and tag lists to the tag
// expression parser: it never panics; an accepted expression is an OR of
// non-empty ANDs of words that survives printing and parsing again; Match
// agrees with the definition (some AND clause all in the tags: + binds
// tighter than ,); an error names the expression escaped and says what was
// expected.
func FuzzTags(f *testing.F) {
	for _, s := range [][2]string{
		{"sm+pod01,db", "sm pod01"}, {"a", "a"}, {"", "x"}, {" a + b , c ", "c"},
		{"a,,b", "a"}, {"+", ""}, {"a b", "a b"}, {"a\x1b[31m", "a"}, {"é+日本", "日本 é"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, expr, tagList string) {
		e, err := svc.ParseTags(expr)
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, "expected") || strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 }) {
				t.Fatalf("error %q: want an escaped expression and what was expected", msg)
			}
			return
		}
		var clauses []string
		for _, and := range e {
			if len(and) == 0 {
				t.Fatalf("%q: empty AND clause", expr)
			}
			for _, tag := range and {
				if tag == "" || strings.ContainsAny(tag, "+,") || strings.ContainsFunc(tag, unicode.IsSpace) {
					t.Fatalf("%q: bad tag %q", expr, tag)
				}
			}
			clauses = append(clauses, strings.Join(and, "+"))
		}
		again, err := svc.ParseTags(strings.Join(clauses, ","))
		if err != nil || len(again) != len(e) {
			t.Fatalf("%q printed as %q parses as %v, %v", expr, strings.Join(clauses, ","), again, err)
		}
		tags := strings.Fields(tagList)
		set := map[string]bool{}
		for _, tag := range tags {
			set[tag] = true
		}
		want := len(e) == 0
		for _, and := range e {
			all := true
			for _, tag := range and {
				all = all && set[tag]
			}
			want = want || all
		}
		if got := e.Match(tags); got != want {
			t.Fatalf("%q.Match(%q) = %v, want %v", expr, tags, got, want)
		}
		if len(e) > 0 && !e.Match(e[0]) {
			t.Fatalf("%q does not match its own first clause %q", expr, e[0])
		}
	})
}
