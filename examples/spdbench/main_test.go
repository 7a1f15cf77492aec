package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The JSON output is one object with the three actions and, for each,
// the three figures; the figures are positive (their values are
// measures, not checked here).
func TestJSONShape(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"-pods", "8", "-nodes", "2", "-latency", "1ms", "-format", "json", "-dir", t.TempDir()}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	require.Empty(t, errOut.String())

	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	var got map[string]map[string]any
	require.NoError(t, dec.Decode(&got))
	require.False(t, dec.More(), "exactly one object: %s", out.String())
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "one line")

	require.ElementsMatch(t, []string{"start", "stop", "provision"}, slices.Collect(maps.Keys(got)))
	for action, figs := range got {
		require.ElementsMatch(t, []string{"graph_s", "groups_s", "critical_path_s"}, slices.Collect(maps.Keys(figs)), action)
		for name, v := range figs {
			f, ok := v.(float64)
			require.True(t, ok, "%s.%s is %T, expected a number", action, name, v)
			require.Greater(t, f, 0.0, "%s.%s", action, name)
		}
	}
}

func TestTable(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"-pods", "4", "-nodes", "1", "-latency", "1ms", "-max-parallel", "3", "-dir", t.TempDir()}, &out, &out)
	require.NoError(t, err, out.String())
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	require.Equal(t, "spdsvc01: 4 pods on 1 nodes, loaded on spd01 (36 resources), fake latency 1ms, max parallel 3", lines[0])
	require.Equal(t, []string{"action", "graph_s", "groups_s", "critical_path_s", "graph/critical", "groups/graph"}, strings.Fields(lines[1]))
	for i, action := range []string{"start", "stop", "provision"} {
		f := strings.Fields(lines[2+i])
		require.Len(t, f, 6, lines[2+i])
		require.Equal(t, action, f[0])
		require.Regexp(t, `^\d+\.\d{2}x$`, f[4])
	}
	require.Equal(t, "critical paths:", lines[5])
	require.Regexp(t, `^  start +\S+ -> fs#00 -> fs#0[1-4] -> container#0[1-4](sm|db) -> ip#0[1-4](sm|db)$`, lines[6])
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-format", "xml"}, `-format "xml": expected table or json`},
		{[]string{"-pods", "200"}, "at most 110 pods"},
		{[]string{"-nodes", "0"}, "expected -nodes >= 1"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-latency", "fast"}, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tt.args, &out, &errOut)
			require.Error(t, err)
			require.Contains(t, err.Error()+errOut.String(), tt.want)
			require.Empty(t, out.String())
		})
	}
}
