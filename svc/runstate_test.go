package svc_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

const runStateConf = `[DEFAULT]
nodes = n1

[fs#1]
type = ext4
dev = /dev/sdb
mnt = /srv/s1

[container#1]
type = docker
run_image = img
restart = 2
`

// TestRunStateFilesHostile: damaged or odd run state files never block an
// operator's action, never make the monitor act, and are reported.
func TestRunStateFilesHostile(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name      string
		file      string
		make      func(path string) error
		frozen    bool
		intentErr string
		startOK   bool
	}{
		{"corrupt intent", "intent.json", func(p string) error { return os.WriteFile(p, []byte("{not json"), 0o644) }, false, "intent.json", true},
		{"intent of the wrong shape", "intent.json", func(p string) error { return os.WriteFile(p, []byte(`{"resources":["up"]}`), 0o644) }, false, "intent.json", true},
		{"intent is a fifo", "intent.json", func(p string) error { return syscall.Mkfifo(p, 0o600) }, false, "expected a regular file", false},
		{"intent links outside", "intent.json", func(p string) error { return os.Symlink("/etc/passwd", p) }, false, "expected a regular file", false},
		{"empty frozen flag", "frozen", func(p string) error { return os.WriteFile(p, nil, 0o644) }, true, "", true},
		{"frozen flag is a fifo", "frozen", func(p string) error { return syscall.Mkfifo(p, 0o600) }, true, "", true},
		{"corrupt restarts", "restarts.json", func(p string) error { return os.WriteFile(p, []byte("[1,2"), 0o644) }, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, runStateConf, "n1", fake.Options{})
			require.NoError(t, os.MkdirAll(s.VarDir(), 0o755))
			require.NoError(t, tc.make(filepath.Join(s.VarDir(), tc.file)))

			frozen, err := s.Frozen()
			require.NoError(t, err)
			require.Equal(t, tc.frozen, frozen)
			_, err = s.Intent()
			if tc.intentErr != "" {
				require.ErrorContains(t, err, tc.intentErr)
			} else {
				require.NoError(t, err)
			}
			rep := s.Status(ctx)
			require.Equal(t, tc.frozen, rep.Frozen)
			if tc.file == "restarts.json" {
				require.Len(t, rep.Problems, 1)
				require.Contains(t, rep.Problems[0], "restarts.json")
			}

			// The monitor's start is refused (frozen, or intent unreadable
			// or damaged: nothing says the resource is wanted).
			_, err = s.Start(ctx, svc.ActionOptions{Monitor: true})
			if tc.file != "restarts.json" {
				require.Error(t, err)
			}
			// An operator's start runs and records a fresh intent, unless
			// the record is no file at all.
			_, err = s.Start(ctx, svc.ActionOptions{})
			if !tc.startOK {
				require.ErrorContains(t, err, "expected a regular file")
				return
			}
			require.NoError(t, err)
			in, err := s.Intent()
			require.NoError(t, err)
			require.Equal(t, svc.IntentUp, in.Of("container#1"))
		})
	}
}

// TestFreezeThawAndIntent: freeze and thaw are idempotent; a dry run
// neither freezes nor records an intent.
func TestFreezeThawAndIntent(t *testing.T) {
	ctx := t.Context()
	s := mustParse(t, runStateConf, "n1", fake.Options{})
	require.NoError(t, s.Freeze(ctx, svc.ActionOptions{DryRun: true}))
	frozen, err := s.Frozen()
	require.NoError(t, err)
	require.False(t, frozen)
	for range 2 {
		require.NoError(t, s.Freeze(ctx, svc.ActionOptions{}))
		frozen, err = s.Frozen()
		require.NoError(t, err)
		require.True(t, frozen)
	}
	for range 2 {
		require.NoError(t, s.Thaw(ctx, svc.ActionOptions{}))
		frozen, err = s.Frozen()
		require.NoError(t, err)
		require.False(t, frozen)
	}
	_, err = s.Start(ctx, svc.ActionOptions{DryRun: true})
	require.NoError(t, err)
	in, err := s.Intent()
	require.NoError(t, err)
	require.False(t, in.Recorded)
	_, err = s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	in, err = s.Intent()
	require.NoError(t, err)
	require.True(t, in.Recorded)
	require.Equal(t, map[string]string{"fs#1": "up", "container#1": "up", "sync#i0": "up"}, in.Resources)
	_, err = s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#1"}}})
	require.NoError(t, err)
	in, err = s.Intent()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"fs#1": "up", "container#1": "down", "sync#i0": "up"}, in.Resources)
}
