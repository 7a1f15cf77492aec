package compliance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMergeVariables: sorted by name, the last ruleset (and within one,
// the last variable) of a name wins.
func TestMergeVariables(t *testing.T) {
	v := func(name, value string) *Variable { return &Variable{Name: name, Value: value} }
	names := func(vs []*Variable) (out []string) {
		for _, x := range vs {
			out = append(out, x.Name+"="+x.Value)
		}
		return out
	}
	tests := []struct {
		name     string
		rulesets [][]*Variable
		want     []string
	}{
		{"none", nil, nil},
		{"one sorted", [][]*Variable{{v("a", "1"), v("b", "2")}}, []string{"a=1", "b=2"}},
		{"one unsorted", [][]*Variable{{v("c", "3"), v("a", "1"), v("b", "2")}}, []string{"a=1", "b=2", "c=3"}},
		{"later ruleset wins", [][]*Variable{{v("a", "1"), v("b", "2")}, {v("b", "x"), v("c", "3")}}, []string{"a=1", "b=x", "c=3"}},
		{"later in one ruleset wins", [][]*Variable{{v("b", "1"), v("a", "0"), v("b", "2")}}, []string{"a=0", "b=2"}},
		{"three of a name", [][]*Variable{{v("a", "1")}, {v("a", "2")}, {v("z", "9"), v("a", "3")}}, []string{"a=3", "z=9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []*Ruleset
			for _, vars := range tt.rulesets {
				rs = append(rs, &Ruleset{Variables: vars})
			}
			require.Equal(t, tt.want, names(mergeVariables(rs)))
		})
	}
}
