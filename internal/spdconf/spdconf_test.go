package spdconf

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The seed's form, with its defaults, produced svc/testdata/spdsvc01.conf.
func TestGenerateMatchesSeedSample(t *testing.T) {
	want, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	got, err := Generate(Defaults())
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func TestGenerateSpreadsPods(t *testing.T) {
	tests := []struct {
		name    string
		pods    int
		nodes   int
		perNode map[string]int
		lastIP  string
	}{
		{"even", 8, 2, map[string]int{"spd01": 4, "spd02": 4}, "10.0.0.48"},
		{"remainder on the last node", 110, 4, map[string]int{"spd01": 27, "spd02": 27, "spd03": 27, "spd04": 29}, "10.0.0.252"},
		{"one node", 3, 1, map[string]int{"spd01": 3}, "10.0.0.38"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Defaults()
			p.Pods, p.Nodes = tt.pods, Nodes(tt.nodes)
			data, err := Generate(p)
			require.NoError(t, err)
			text := string(data)
			require.Equal(t, tt.pods, strings.Count(text, "\n[container#")/2)
			got := map[string]int{}
			for _, m := range regexp.MustCompile(`(?m)^\[disk#\d+\]\n(?:.+\n)*?disable@(\S+) = false$`).FindAllStringSubmatch(text, -1) {
				got[m[1]]++
			}
			require.Equal(t, tt.perNode, got)
			require.Contains(t, text, "ipname = "+tt.lastIP+"\n")
			require.NotContains(t, text, "__")
		})
	}
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Params)
		want string
	}{
		{"too many pods", func(p *Params) { p.Pods = 112 }, "expected at most 111 pods"},
		{"fewer pods than nodes", func(p *Params) { p.Pods = 3 }, "3 pods for 4 nodes"},
		{"no pods", func(p *Params) { p.Pods = 0 }, "at least one node and one pod"},
		{"no nodes", func(p *Params) { p.Nodes = nil }, "at least one node and one pod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Defaults()
			tt.edit(&p)
			_, err := Generate(p)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
