package svc_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// snapshot returns every file under dir with its content and mode time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.ModTime().String()
		if !d.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			v += " " + string(b)
		}
		out[path] = v
		return nil
	})
	if os.IsNotExist(err) {
		return out
	}
	require.NoError(t, err)
	return out
}

// TestDryRunChangesNothing checks that a dry run of every action returns
// the plan waves, calls no driver action, takes no lock and leaves the
// fake state files as they were.
func TestDryRunChangesNothing(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	rec := fake.NewRecorder()
	s, err := svc.Parse(ctx, "svc1.conf", []byte(orderConf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{Recorder: rec}), Root: root, NoTriggers: true})
	require.NoError(t, err)
	varDir := filepath.Join(root, "var", "svc1")

	// On a service never run: no var directory appears.
	for _, a := range svc.Actions {
		res, err := s.Do(ctx, a, svc.ActionOptions{DryRun: true, Scheduler: svc.SchedulerGroups})
		require.NoError(t, err, a)
		require.True(t, res.DryRun)
		require.NotEmpty(t, res.Plan, a)
		require.Empty(t, res.Steps, a)
	}
	_, err = os.Stat(varDir)
	require.ErrorIs(t, err, os.ErrNotExist, "a dry run creates no var directory, no lock")

	// On a running service: the state stays as it was.
	_, err = s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"ip#*g", "disk"}}})
	require.NoError(t, err)
	before := snapshot(t, varDir)
	require.Contains(t, before, filepath.Join(varDir, "fake", "disk#01.json"))
	rec.Reset()
	for _, a := range svc.Actions {
		res, err := s.Do(ctx, a, svc.ActionOptions{DryRun: true})
		require.NoError(t, err, a)
		var planned []string
		for _, w := range res.Plan {
			planned = append(planned, w...)
		}
		require.NotEmpty(t, planned)
	}
	require.Equal(t, before, snapshot(t, varDir))
	for _, c := range rec.Calls() {
		require.Equal(t, fake.ActionStatus, c.Action, "dry run called %s on %s", c.Action, c.RID)
	}
	_, err = os.Stat(filepath.Join(varDir, "lock.holder"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// The plan of a dry run is the waves the real run follows.
	res, err := s.Stop(ctx, svc.ActionOptions{DryRun: true, Scheduler: svc.SchedulerGroups, Selection: svc.Selection{RIDs: []string{"disk", "ip#01g"}}})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"disk#01", "disk#02", "disk#03"}, {"disk#00"}, {"ip#01g"}}, res.Plan)
	require.Equal(t, []string{"disk#00", "disk#01", "disk#02", "disk#03", "ip#01g", "ip#02g", "sync#i0"}, upRIDs(t, s))
}

// TestContextDryRunIsTheDryRun: resource.WithDryRun on the context is the
// same dry run as ActionOptions.DryRun: a plan, no driver action, no
// trigger (a shell trigger would otherwise run for real), no step
// recorded as done.
func TestContextDryRunIsTheDryRun(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "trigger-ran")
	conf := fmt.Sprintf("[DEFAULT]\nnodes = n1\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\npre_provision = touch %s\npost_start = touch %s\n", marker, marker)
	rec := fake.NewRecorder()
	s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{Recorder: rec}), Root: dir})
	require.NoError(t, err)
	ctx := resource.WithDryRun(t.Context(), true)
	for _, a := range []svc.Action{svc.Provision, svc.Start, svc.Stop, svc.Unprovision} {
		res, err := s.Do(ctx, a, svc.ActionOptions{})
		require.NoError(t, err, a)
		require.True(t, res.DryRun, a)
		require.NotEmpty(t, res.Plan, a)
		require.Contains(t, res.Plan[0], "fs#01", a)
		require.Empty(t, res.Steps, a)
	}
	require.NoFileExists(t, marker, "no trigger runs in a dry run")
	for _, c := range rec.Calls() {
		require.Equal(t, fake.ActionStatus, c.Action, "dry run called %s on %s", c.Action, c.RID)
	}
	// Without the mark, the triggers do run: the test above is not vacuous.
	_, err = s.Provision(t.Context(), svc.ActionOptions{})
	require.NoError(t, err)
	require.FileExists(t, marker)
}
