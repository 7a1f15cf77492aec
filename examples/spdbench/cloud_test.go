package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/internal/testenv"
)

// The cloud mode at a small scale: provision --cluster, a migration and
// a relayout run to completion on the model, and the report holds their
// figures (their values are measures, not checked here).
func TestCloudJSON(t *testing.T) {
	testenv.RequireNetns(t)
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"-cloud", "-pods", "4", "-nodes", "2", "-scale", "0.02", "-format", "json", "-dir", t.TempDir()}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	var rep CloudReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	require.Equal(t, 0.02, rep.Scale)
	p := rep.Provision
	require.Equal(t, 6, p.Disks, "4 pods' disks and 2 node disks")
	require.Equal(t, 8, p.Routes, "2 routes a pod")
	require.Positive(t, p.MeasuredS)
	require.Positive(t, p.CriticalPathS)
	require.Greater(t, p.SequentialS, p.CriticalPathS)
	require.NotEmpty(t, p.Bound)
	require.NotNil(t, rep.Migration)
	require.Equal(t, "pod04 spd02 -> spd01", rep.Migration.Move)
	require.Positive(t, rep.Migration.DowntimeS)
	require.Positive(t, rep.Migration.DowntimeCriticalS)
	require.NotNil(t, rep.Relayout)
	require.Equal(t, "spd01 spd02 spd03", rep.Relayout.Nodes)
	require.Positive(t, rep.Relayout.Moves)
}

func TestCloudTable(t *testing.T) {
	testenv.RequireNetns(t)
	var out bytes.Buffer
	err := run(t.Context(), []string{"-cloud", "-pods", "2", "-nodes", "1", "-scale", "0.02", "-dir", t.TempDir()}, &out, &out)
	require.NoError(t, err, out.String())
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	require.Regexp(t, `^cloud mode: 2 pods on 1 nodes, gcetest model x0.02: disk insert 40ms, attach 60ms, `, lines[0])
	require.Equal(t, []string{"operation", "measured_s", "critical_s", "sequential_s", "measured/critical", "sequential/measured"}, strings.Fields(lines[1]))
	require.Regexp(t, `^ *provision --cluster +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{2}x +\d+\.\d{2}x$`, lines[2])
	require.Regexp(t, `^provision: 3 disks, 4 routes; critical path bound: `, lines[3])
	require.Regexp(t, `^model: \d+ requests answered RESOURCE_NOT_READY, \d+ answered 429$`, lines[4])
}

func TestCloudBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-cloud", "-scale", "0"},
		{"-cloud", "-scale", "-1"},
		{"-cloud", "-parallel", "0"},
		{"-cloud", "-fake-latency", "-1s"},
	} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, &out, &errOut)
		require.ErrorContains(t, err, "expected -scale > 0, -fake-latency >= 0 and -parallel >= 1", args)
		require.Empty(t, out.String())
	}
}

// BenchmarkCloud runs the cloud mode on the seed's 32 pods on 4 nodes,
// on the model scaled to 5% (3s attaches take 150ms) so that it runs in
// seconds, and prints the figures (measured, critical path, sequential
// order, and the ratios; fixed CPU costs weigh more at this scale than in
// the full run, `go run ./examples/spdbench -cloud`).
func BenchmarkCloud(b *testing.B) {
	testenv.RequireNetns(b)
	o := cloudOptions{pods: 32, nodes: 4, scale: 0.05, fakeLatency: defaultFakeLatency, parallel: 8, dir: defaultDir()}
	for b.Loop() {
		rep, err := runCloud(b.Context(), o)
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		if err := printCloud(&out, o, rep); err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + out.String())
		b.ReportMetric(rep.Provision.MeasuredS/rep.Provision.CriticalPathS, "provision/critical")
		b.ReportMetric(rep.Provision.SequentialS/rep.Provision.MeasuredS, "sequential/provision")
		b.ReportMetric(rep.Migration.DowntimeS/rep.Migration.DowntimeCriticalS, "downtime/critical")
		b.ReportMetric(rep.Relayout.WallS/rep.Migration.WallS, "relayout/migration")
		b.ReportMetric(rep.Relayout.CriticalPathS/rep.Migration.DowntimeCriticalS, "relayout-bound/migration-critical")
		b.ReportMetric(rep.Relayout.WallS/rep.Relayout.CriticalPathS, "relayout/critical")
	}
}
