package fake_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
)

// TestCrashMarkDownFailNext: the documented ways to fail a fake behind
// the service's back.
func TestCrashMarkDownFailNext(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []struct {
		name string
		opts fake.Options
	}{{"files", fake.Options{}}, {"memory", fake.Options{Memory: true}}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			rec := &fake.Recorder{}
			mode.opts.Recorder = rec
			rs := seedFixture(dir).build(t, fake.Registry(mode.opts))
			for _, rid := range podStartOrder("01") {
				require.NoError(t, rs[rid].Start(ctx), rid)
			}
			rec.Reset()

			// Crash: down without a stop call nor an ordering check; the
			// address in its namespace goes with it.
			db := asFake(t, rs["container#01db"])
			require.NoError(t, db.Crash(ctx))
			require.Equal(t, "down", status(t, db))
			require.Equal(t, "down", status(t, rs["ip#01db"]))
			require.Empty(t, rec.Actions("stop"))
			require.NoError(t, db.Start(ctx))
			require.Equal(t, "down", status(t, rs["ip#01db"]), "a new namespace without the address")

			// A crashed fs under a running container: the container's
			// state is its own.
			require.NoError(t, asFake(t, rs["fs#01"]).Crash(ctx))
			require.Equal(t, "down", status(t, rs["fs#01"]))
			require.Equal(t, "up", status(t, db))

			// FailNext: the next n starts fail, then they pass again.
			require.NoError(t, db.Crash(ctx))
			require.NoError(t, asFake(t, rs["fs#01"]).Start(ctx))
			require.NoError(t, db.FailNext("start", 2))
			for range 2 {
				require.ErrorIs(t, db.Start(ctx), fake.ErrInjected)
			}
			require.NoError(t, db.Start(ctx))
			require.NoError(t, db.FailNext("stop", 1))
			require.NoError(t, db.FailNext("stop", 0), "cleared")
			require.ErrorContains(t, db.FailNext("reboot", 1), `unknown action "reboot"`)

			// MarkDown works on the state files, from another process.
			err := fake.MarkDown(dir, "container#01db")
			if mode.opts.Memory {
				require.ErrorContains(t, err, "no state in")
				return
			}
			require.NoError(t, err)
			require.Equal(t, "down", status(t, db))
			require.ErrorContains(t, fake.MarkDown(dir, "container#09db"), "no state in")
			for _, bad := range []string{"../../etc/passwd", "fs#../../x", "container", "#x", "a#b/c"} {
				require.ErrorContains(t, fake.MarkDown(dir, bad), "expected a resource id", bad)
			}
		})
	}
}
