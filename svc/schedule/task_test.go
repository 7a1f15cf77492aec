package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/schedule"
)

func TestTaskClaimRelease(t *testing.T) {
	ctx := context.Background()
	task, err := schedule.NewTask("stats", "@10", schedule.TaskOptions{Node: "spd01"})
	require.NoError(t, err)
	require.Equal(t, "stats", task.Name())
	require.Equal(t, "@10", task.Schedule().String())
	t0 := at(t, "2026-12-03 10:00:00")

	require.True(t, task.Due(t0), "never ran")
	run, err := task.ClaimDue(t0)
	require.NoError(t, err)
	require.Equal(t, t0, run.Start())
	require.True(t, task.Running())
	require.False(t, task.Due(t0), "a run is in progress")
	_, err = task.ClaimDue(t0)
	require.ErrorIs(t, err, schedule.ErrRunning)
	_, err = task.Claim(t0)
	require.ErrorIs(t, err, schedule.ErrRunning, "not even a manual run")

	require.NoError(t, run.Release(ctx, nil))
	require.False(t, task.Running())
	require.Equal(t, t0, task.LastRun())
	require.Equal(t, t0, task.LastSuccess())
	require.Error(t, run.Release(ctx, nil), "released twice")

	_, err = task.ClaimDue(t0.Add(5 * time.Minute))
	require.ErrorIs(t, err, schedule.ErrNotDue)
	next, ok := task.Next(t0.Add(5 * time.Minute))
	require.True(t, ok)
	require.Equal(t, t0.Add(10*time.Minute), next)

	// A manual run counts as a run; a failed one is no success.
	manual, err := task.Claim(t0.Add(5 * time.Minute))
	require.NoError(t, err)
	require.NoError(t, manual.Release(ctx, errors.New("collector unreachable")))
	require.Equal(t, t0.Add(5*time.Minute), task.LastRun())
	require.Equal(t, t0, task.LastSuccess())
	require.False(t, task.Due(t0.Add(10*time.Minute)), "10 minutes after the manual run, not the scheduled one")
	require.True(t, task.Due(t0.Add(15*time.Minute)))
}

func TestTaskNeverRunsTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	task, err := schedule.NewTask("compliance_auto", "@1440", schedule.TaskOptions{Node: "spd01", Store: schedule.NewStore(t.TempDir())})
	require.NoError(t, err)
	now := at(t, "2026-12-03 10:00:00")
	var claimed, running, notDue atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	runs := make(chan *schedule.Run, 64)
	for range 64 {
		wg.Go(func() {
			<-start
			run, err := task.ClaimDue(now)
			switch {
			case err == nil:
				claimed.Add(1)
				runs <- run
			case errors.Is(err, schedule.ErrRunning):
				running.Add(1)
			case errors.Is(err, schedule.ErrNotDue):
				notDue.Add(1)
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), claimed.Load())
	require.Equal(t, int32(63), running.Load())
	require.NoError(t, (<-runs).Release(ctx, nil))

	// Released: the same instant is no longer due (it just ran), whoever asks.
	for range 8 {
		wg.Go(func() {
			_, err := task.ClaimDue(now)
			if !errors.Is(err, schedule.ErrNotDue) {
				t.Errorf("claim after the run: %v", err)
			}
		})
	}
	wg.Wait()
}

// Concurrent manual runs one after the other: the file ends with the state
// in memory, never an older one.
func TestTaskReleasesPersistInOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := schedule.NewStore(dir)
	task, err := schedule.NewTask("sync#i0", "@60", schedule.TaskOptions{Store: store})
	require.NoError(t, err)
	base := at(t, "2026-12-03 10:00:00")
	var wg sync.WaitGroup
	var n atomic.Int64
	for range 16 {
		wg.Go(func() {
			for range 20 {
				for {
					run, err := task.Claim(base.Add(time.Duration(n.Add(1)) * time.Second))
					if err == nil {
						if err := run.Release(ctx, nil); err != nil {
							t.Error(err)
						}
						break
					}
				}
			}
		})
	}
	wg.Wait()
	rec, err := store.Load(ctx, "sync#i0")
	require.NoError(t, err)
	require.True(t, task.LastRun().Equal(rec.LastRun), "file %s, memory %s", rec.LastRun, task.LastRun())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}

func TestTaskSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "var", "schedule") // created on the first save
	opts := schedule.TaskOptions{Node: "spd01", Store: schedule.NewStore(dir)}
	t0 := at(t, "2026-12-03 10:00:00")

	first, err := schedule.NewTask("compliance_auto", "@1440", opts)
	require.NoError(t, err)
	require.NoError(t, first.Restore(ctx, t0), "nothing recorded yet")
	require.True(t, first.LastRun().IsZero())
	run, err := first.ClaimDue(t0)
	require.NoError(t, err)
	require.NoError(t, run.Release(ctx, nil))

	// The daemon restarts: a new task reads the last run back.
	second, err := schedule.NewTask("compliance_auto", "@1440", opts)
	require.NoError(t, err)
	require.NoError(t, second.Restore(ctx, t0.Add(time.Hour)))
	require.True(t, t0.Equal(second.LastRun()))
	require.True(t, t0.Equal(second.LastSuccess()))
	require.False(t, second.Due(t0.Add(time.Hour)))
	next, ok := second.Next(t0.Add(time.Hour))
	require.True(t, ok)
	require.True(t, t0.Add(24*time.Hour).Equal(next))

	data, err := os.ReadFile(filepath.Join(dir, "compliance_auto.json"))
	require.NoError(t, err)
	require.Contains(t, string(data), `"task":"compliance_auto"`)
	require.Contains(t, string(data), `"last_run":"2026-12-03T10:00:00Z"`)

	// Another task's record is its own.
	other, err := schedule.NewTask("stats", "@60", opts)
	require.NoError(t, err)
	require.NoError(t, other.Restore(ctx, t0))
	require.True(t, other.LastRun().IsZero())
}

// A last run in the future (the clock went back) counts as a run now: the
// task waits one interval, not years.
func TestTaskLastRunInTheFuture(t *testing.T) {
	ctx := context.Background()
	store := schedule.NewStore(t.TempDir())
	now := at(t, "2026-12-03 10:00:00")
	require.NoError(t, store.Save(ctx, schedule.Record{Task: "stats", LastRun: now.AddDate(10, 0, 0)}))
	task, err := schedule.NewTask("stats", "@60", schedule.TaskOptions{Store: store})
	require.NoError(t, err)
	require.NoError(t, task.Restore(ctx, now))
	require.False(t, task.Due(now))
	next, ok := task.Next(now)
	require.True(t, ok)
	require.Equal(t, now.Add(time.Hour), next)
	require.True(t, task.Due(now.Add(time.Hour)))
}

func TestStoreMalformed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, content, want string
	}{
		{"garbage", "not json", "malformed last-run file"},
		{"empty", "", "malformed last-run file"},
		{"the reference's float timestamp", "1764756000.123\n", "malformed last-run file"},
		{"bad time", `{"task":"stats","last_run":"yesterday"}`, "malformed last-run file"},
		{"another task's record", `{"task":"compliance_auto","last_run":"2026-12-03T10:00:00Z"}`, `records task "compliance_auto", expected "stats"`},
		{"huge", `{"task":"stats","last_run":"2026-12-03T10:00:00Z","x":"` + strings.Repeat("a", 70<<10) + `"}`, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "stats.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))
			task, err := schedule.NewTask("stats", "@60", schedule.TaskOptions{Store: schedule.NewStore(dir)})
			require.NoError(t, err)
			err = task.Restore(ctx, time.Now())
			require.Error(t, err)
			require.Contains(t, err.Error(), path, "the file is named")
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// The store reads and writes inside its directory only.
func TestStoreStaysInItsDirectory(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	secret := filepath.Join(outside, "stats.json")
	require.NoError(t, os.WriteFile(secret, []byte(`{"task":"stats","last_run":"2026-12-03T10:00:00Z"}`), 0o644))
	dir := t.TempDir()
	store := schedule.NewStore(dir)

	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "stats.json")))
	_, err := store.Load(ctx, "stats")
	require.Error(t, err, "an absolute link out of the directory")
	require.NoError(t, os.Remove(filepath.Join(dir, "stats.json")))
	rel, err := filepath.Rel(dir, secret)
	require.NoError(t, err)
	require.NoError(t, os.Symlink(rel, filepath.Join(dir, "stats.json")))
	_, err = store.Load(ctx, "stats")
	require.Error(t, err, "a relative link out of the directory")

	for _, name := range []string{"", "../stats", "a/b", ".hidden", "x y", "stats\x00", strings.Repeat("a", 129), "é"} {
		_, err := store.Load(ctx, name)
		require.Error(t, err, "%q", name)
		require.Error(t, store.Save(ctx, schedule.Record{Task: name}), "%q", name)
		_, err = schedule.NewTask(name, "@60", schedule.TaskOptions{})
		require.Error(t, err, "%q", name)
	}
	for _, name := range []string{"compliance_auto", "sync#i0", "status.schedule", "a-b+c@d"} {
		require.NoError(t, schedule.CheckTaskName(name))
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = store.Load(canceled, "stats")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, store.Save(canceled, schedule.Record{Task: "stats"}), context.Canceled)
}

func TestNewTaskBadDefinition(t *testing.T) {
	_, err := schedule.NewTask("compliance_auto", "02:00-04:00 freday", schedule.TaskOptions{})
	require.Error(t, err)
	var perr *schedule.Error
	require.True(t, errors.As(err, &perr))
	require.Equal(t, "days", perr.Field)
	require.Contains(t, err.Error(), "task compliance_auto")
}

func TestSeedDiffers(t *testing.T) {
	seen := map[uint64]string{}
	for _, node := range []string{"spd01", "spd02", "spd03", "spd04"} {
		for _, task := range []string{"compliance_auto", "stats", "sync#i0"} {
			s := schedule.Seed(node, task)
			prev, dup := seen[s]
			require.False(t, dup, "%s/%s and %s", node, task, prev)
			seen[s] = fmt.Sprint(node, "/", task)
		}
	}
	require.NotEqual(t, schedule.Seed("ab", "c"), schedule.Seed("a", "bc"), "the parts are separated")
}
