package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// seedConf is the seed's 32-pod service (8 pods on spd01, 67 resources).
const seedConf = "../testdata/spdsvc01.conf"

// withKeys adds keyword lines at the top of sections of conf.
func withKeys(t testing.TB, conf string, keys map[string][]string) string {
	t.Helper()
	for sec, lines := range keys {
		head := "[" + sec + "]\n"
		require.Contains(t, conf, head)
		conf = strings.Replace(conf, head, head+strings.Join(lines, "\n")+"\n", 1)
	}
	return conf
}

type fixture struct {
	t      testing.TB
	s      *svc.Service
	now    time.Time
	mu     sync.Mutex
	slept  []time.Duration
	events []string
	acts   []string
}

// load parses the seed with keys added, on fakes, for spd01, in a fresh
// root; the service is provisioned and started.
func load(t testing.TB, keys map[string][]string, fo fake.Options) *fixture {
	t.Helper()
	data, err := os.ReadFile(seedConf)
	require.NoError(t, err)
	conf := withKeys(t, string(data), keys)
	s, err := svc.Parse(context.Background(), "spdsvc01.conf", []byte(conf), svc.Options{Node: "spd01", Registry: fake.Registry(fo), Root: t.TempDir(), NoTriggers: true})
	require.NoError(t, err)
	_, err = s.Provision(context.Background(), svc.ActionOptions{})
	require.NoError(t, err)
	return &fixture{t: t, s: s, now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
}

func (f *fixture) monitor(opts monitor.Options) *monitor.Monitor {
	opts.Now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.slept = append(f.slept, d)
		f.now = f.now.Add(d)
		return nil
	}
	opts.Emit = func(kind, svcname, rid, msg string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.events = append(f.events, kind+" "+rid)
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	if opts.Action == nil {
		opts.Action = func(ctx context.Context, s *svc.Service, action, reason string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.acts = append(f.acts, action+": "+reason)
			return nil
		}
	}
	return monitor.New(opts)
}

func (f *fixture) fake(rid string) *fake.Resource {
	f.t.Helper()
	r, ok := f.s.Resource(rid)
	require.True(f.t, ok, rid)
	return r.(*fake.Resource)
}

func (f *fixture) crash(rids ...string) {
	f.t.Helper()
	for _, rid := range rids {
		require.NoError(f.t, f.fake(rid).Crash(context.Background()))
	}
}

func (f *fixture) status(rid string) resource.Status {
	f.t.Helper()
	r, _ := f.s.Resource(rid)
	st, err := r.Status(context.Background())
	require.NoError(f.t, err)
	return st
}

var pod01 = map[string][]string{
	"container#01db": {"restart = 1", "monitor = true"},
	"ip#01db":        {"restart = 1"},
}

func TestPassRestartsACrashedContainer(t *testing.T) {
	f := load(t, pod01, fake.Options{})
	m := f.monitor(monitor.Options{})
	ctx := context.Background()

	// All up: a pass does nothing.
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Down)
	require.Empty(t, rep.Tries)
	require.Equal(t, resource.Up, rep.Status.Avail)

	// The container crashes: its address goes with its namespace once it
	// restarts; one pass brings both back.
	f.crash("container#01db")
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"container#01db", "ip#01db"}, rep.Down)
	require.ElementsMatch(t, []string{"container#01db", "ip#01db"}, rep.Restarted)
	require.Equal(t, map[string]int{"container#01db": 1, "ip#01db": 1}, rep.Tries)
	require.Equal(t, resource.Up, f.status("container#01db"))
	require.Equal(t, resource.Up, f.status("ip#01db"))
	require.Equal(t, resource.Up, rep.Status.Avail)
	require.Empty(t, rep.MonitorAction)
	require.Empty(t, f.slept, "first tries wait for nothing")
	require.Contains(t, f.events, "down container#01db")
	require.Contains(t, f.events, "restart container#01db")
	require.Contains(t, f.events, "restarted container#01db")
	restarts, err := f.s.Restarts()
	require.NoError(t, err)
	require.Empty(t, restarts, "a restart that brings the resource up resets its count")
}

func TestPassRespectsOperatorStop(t *testing.T) {
	f := load(t, pod01, fake.Options{})
	m := f.monitor(monitor.Options{})
	ctx := context.Background()
	_, err := f.s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01db", "ip#01db"}}})
	require.NoError(t, err)
	in, err := f.s.Intent()
	require.NoError(t, err)
	require.Equal(t, svc.IntentDown, in.Of("container#01db"))
	require.Equal(t, svc.IntentUp, in.Of("container#01sm"))

	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Down)
	require.Empty(t, rep.Tries)
	require.Equal(t, resource.Down, f.status("container#01db"))

	// A monitor start of what the operator stopped is refused under the
	// lock, whoever asks.
	_, err = f.s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01db"}}, Monitor: true})
	require.ErrorIs(t, err, svc.ErrNotWanted)

	// The whole service stopped: the standby disks stay up, nothing is
	// restarted.
	_, err = f.s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Down)
	require.Equal(t, resource.StandbyUp, rep.Status.Avail, "the standby disks")

	// A standby disk that fails while the service is stopped is restarted
	// (the stop left it up); once stopped by force, it is not.
	f.crash("disk#01")
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Equal(t, []string{"disk#01"}, rep.Restarted)
	_, err = f.s.Stop(ctx, svc.ActionOptions{Force: true, Selection: svc.Selection{RIDs: []string{"disk#01"}}})
	require.NoError(t, err)
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Down)
	require.Equal(t, resource.StandbyDown, f.status("disk#01"))

	// The operator starts it again: the monitor watches it again.
	_, err = f.s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	f.crash("container#01db")
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Contains(t, rep.Restarted, "container#01db")
}

func TestPassLeavesAFrozenServiceAlone(t *testing.T) {
	f := load(t, pod01, fake.Options{})
	m := f.monitor(monitor.Options{})
	ctx := context.Background()
	require.NoError(t, f.s.Freeze(ctx, svc.ActionOptions{}))
	f.crash("container#01db", "disk#01")
	for range 2 {
		rep, err := m.Pass(ctx, f.s)
		require.NoError(t, err)
		require.True(t, rep.Frozen)
		require.Empty(t, rep.Tries)
		require.Empty(t, rep.MonitorAction)
		require.True(t, rep.Status.Frozen)
	}
	require.Equal(t, resource.Down, f.status("container#01db"))
	require.Equal(t, resource.StandbyDown, f.status("disk#01"), "even standby resources")
	require.Equal(t, []string{"frozen container#01db", "frozen disk#01", "frozen ip#01db"}, sortedCopy(f.events), "once per episode")
	require.Empty(t, f.acts)
	tree := f.s.Status(ctx).Render(svc.StatusOptions{})
	require.Regexp(t, `(?m)^overall +warn +frozen$`, tree)

	// The daemon is refused; an operator is not, as in the reference.
	_, err := f.s.Start(ctx, svc.ActionOptions{Monitor: true, Selection: svc.Selection{RIDs: []string{"container#01db"}}})
	require.ErrorIs(t, err, svc.ErrFrozen)
	_, err = f.s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01db"}}})
	require.NoError(t, err)

	// Thawed, the monitor restarts the standby disk.
	require.NoError(t, f.s.Thaw(ctx, svc.ActionOptions{}))
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.False(t, rep.Frozen)
	require.Contains(t, rep.Restarted, "disk#01")
	require.Equal(t, resource.StandbyUp, f.status("disk#01"))
}

func sortedCopy(l []string) []string {
	out := append([]string{}, l...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestPassExhaustsRestartsThenMonitorAction(t *testing.T) {
	f := load(t, map[string][]string{
		"DEFAULT":        {"monitor_action = reboot freezestop"},
		"container#01db": {"restart = 2", "restart_delay = 7s", "monitor = true"},
		"container#01sm": {"restart = 1"},
	}, fake.Options{})
	var called []string
	m := f.monitor(monitor.Options{Action: func(ctx context.Context, s *svc.Service, action, reason string) error {
		called = append(called, action+": "+reason)
		if action == "reboot" {
			return errors.New("not allowed here")
		}
		return nil
	}})
	ctx := context.Background()
	f.crash("container#01db", "container#01sm")
	require.NoError(t, f.fake("container#01db").FailNext("start", 5))
	require.NoError(t, f.fake("container#01sm").FailNext("start", 5))
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Tries["container#01db"])
	require.Equal(t, 1, rep.Tries["container#01sm"])
	require.Equal(t, []time.Duration{7 * time.Second}, f.slept, "restart_delay between the two tries")
	require.Equal(t, 7*time.Second, rep.Duration, "by the injected clock")
	require.ElementsMatch(t, []string{"container#01db", "container#01sm", "ip#01db", "ip#01sm"}, rep.Exhausted, "the addresses in them never came back")
	require.Equal(t, []string{
		"reboot: container#01db down after 2 restarts",
		"freezestop: container#01db down after 2 restarts",
	}, called, "the fallback after the failed reboot; container#01sm is not monitored")
	require.Equal(t, "freezestop", rep.MonitorAction)
	require.Contains(t, f.events, "restart_exhausted container#01sm")
	require.Contains(t, f.events, "monitor_action ")

	// print status shows the restarts left and the monitored flag.
	st := f.s.Status(ctx)
	tree := st.Render(svc.StatusOptions{})
	require.Contains(t, tree, "|  |- container#01db M...0 down")
	require.Contains(t, tree, "|  |- container#01sm ....0 down")
	require.Contains(t, tree, "|  |- container#02db  .... up", "the flags column widened for every row")
	b, err := json.Marshal(st)
	require.NoError(t, err)
	require.Contains(t, string(b), `"rid":"container#01db","driver":"container.docker","status":"down"`)
	for _, rs := range st.Resources {
		if rs.RID == "container#01db" {
			require.Equal(t, 2, rs.Restart)
			require.Equal(t, 2, rs.Retries)
			require.True(t, rs.Monitor)
		}
	}

	// The next pass neither retries nor acts again.
	called = nil
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Tries)
	require.Empty(t, called)

	// A new monitor (the daemon restarted) reads the counts back.
	m2 := f.monitor(monitor.Options{Action: func(context.Context, *svc.Service, string, string) error {
		called = append(called, "again")
		return nil
	}})
	rep, err = m2.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Tries)
	require.Empty(t, called)

	// An operator stops one: its count is dropped.
	_, err = f.s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01sm", "ip#01sm"}}})
	require.NoError(t, err)
	_, err = m2.Pass(ctx, f.s)
	require.NoError(t, err)
	restarts, err := f.s.Restarts()
	require.NoError(t, err)
	require.NotContains(t, restarts, "container#01sm")
	require.Equal(t, 2, restarts["container#01db"].Retries)

	// Up again (an operator fixed it): the counts reset.
	require.NoError(t, f.fake("container#01db").FailNext("start", 0))
	require.NoError(t, f.fake("container#01sm").FailNext("start", 0))
	_, err = f.s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	_, err = m2.Pass(ctx, f.s)
	require.NoError(t, err)
	restarts, err = f.s.Restarts()
	require.NoError(t, err)
	require.Empty(t, restarts)
}

func TestPassRestartsAnFsBeforeItsContainers(t *testing.T) {
	rec := &fake.Recorder{}
	keys := map[string][]string{}
	for _, rid := range []string{"fs#01", "container#01db", "container#01sm", "ip#01db", "ip#01sm"} {
		keys[rid] = []string{"restart = 1"}
	}
	f := load(t, keys, fake.Options{Recorder: rec})
	m := f.monitor(monitor.Options{})
	ctx := context.Background()
	f.crash("fs#01", "container#01db", "container#01sm")
	rec.Reset()
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"fs#01", "container#01db", "container#01sm", "ip#01db", "ip#01sm"}, rep.Restarted)
	var starts []string
	for _, c := range rec.Calls() {
		if c.Action == "start" && c.Err == "" {
			starts = append(starts, c.RID)
		}
	}
	require.Equal(t, "fs#01", starts[0], "%v", starts)
	require.Len(t, starts, 5)
	require.Equal(t, resource.Up, rep.Status.Avail)

	// The fs alone: only the fs (the containers did not go down).
	f.crash("fs#01")
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Equal(t, []string{"fs#01"}, rep.Restarted)
}

func TestPassHonoursTheContext(t *testing.T) {
	f := load(t, map[string][]string{"container#01db": {"restart = 3", "restart_delay = 1m"}}, fake.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	m := monitor.New(monitor.Options{Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}})
	f.crash("container#01db")
	require.NoError(t, f.fake("container#01db").FailNext("start", 5))
	rep, err := m.Pass(ctx, f.s)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, rep.Tries["container#01db"])
	restarts, err := f.s.Restarts()
	require.NoError(t, err)
	require.Equal(t, 1, restarts["container#01db"].Retries, "the try is remembered")
}

func TestDefaultAction(t *testing.T) {
	f := load(t, nil, fake.Options{})
	ctx := context.Background()
	var switched string
	for _, tc := range []struct {
		name, action string
		opts         monitor.Options
		refused      string
	}{
		{"reboot refused", "reboot", monitor.Options{}, "not allowed on this node"},
		{"crash refused", "crash", monitor.Options{}, "not allowed on this node"},
		{"switch without HA", "switch", monitor.Options{}, "no HA layer"},
		{"switch with HA", "switch", monitor.Options{Switch: func(ctx context.Context, s *svc.Service, reason string) error {
			switched = reason
			return nil
		}}, ""},
		{"none", "none", monitor.Options{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := monitor.New(tc.opts)
			err := m.DefaultAction(ctx, f.s, tc.action, "why")
			if tc.refused == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, monitor.ErrRefused)
			require.ErrorContains(t, err, tc.refused)
		})
	}
	require.Equal(t, "why", switched)

	// freezestop: frozen, then stopped; a frozen service is refused any
	// further action.
	m := monitor.New(monitor.Options{})
	require.NoError(t, m.DefaultAction(ctx, f.s, "freezestop", "why"))
	frozen, err := f.s.Frozen()
	require.NoError(t, err)
	require.True(t, frozen)
	require.Equal(t, resource.StandbyUp, f.s.Status(ctx).Avail, "stopped but the standby disks")
	require.ErrorIs(t, m.DefaultAction(ctx, f.s, "reboot", "why"), monitor.ErrRefused)
}

func TestIntentRecordedByActions(t *testing.T) {
	f := load(t, nil, fake.Options{})
	ctx := context.Background()
	in, err := f.s.Intent()
	require.NoError(t, err)
	require.True(t, in.Recorded)
	require.Equal(t, svc.IntentUp, in.Of("container#01db"))
	require.Empty(t, in.Of("container#09db"), "disabled on spd01: never named")

	// A dry run records nothing.
	_, err = f.s.Stop(ctx, svc.ActionOptions{DryRun: true})
	require.NoError(t, err)
	in, _ = f.s.Intent()
	require.Equal(t, svc.IntentUp, in.Of("container#01db"))

	// A failed start keeps the former intent.
	_, err = f.s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01db"}}})
	require.NoError(t, err)
	require.NoError(t, f.fake("container#01db").FailNext("start", 1))
	_, err = f.s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01db"}}})
	require.Error(t, err)
	in, _ = f.s.Intent()
	require.Equal(t, svc.IntentDown, in.Of("container#01db"))
}

func TestRestartKeywordsValidation(t *testing.T) {
	data, err := os.ReadFile(seedConf)
	require.NoError(t, err)
	for _, tc := range []struct {
		section, line, keyword, want string
	}{
		{"container#01db", "restart = -1", "restart", "expected an integer from 0"},
		{"container#01db", "restart = 1000000", "restart", "expected an integer from 0"},
		{"container#01db", "restart = 99999999999999999999", "restart", "not an integer"},
		{"container#01db", "restart = two", "restart", "not an integer"},
		{"container#01db", "restart_delay = -5s", "restart_delay", "expected a duration from 0"},
		{"container#01db", "restart_delay = 1000h", "restart_delay", "expected a duration from 0"},
		{"container#01db", "restart_delay = soon", "restart_delay", "not a duration"},
		{"DEFAULT", "monitor_action = explode", "monitor_action", `"explode" is not one of none, freezestop, switch, reboot, crash`},
		{"DEFAULT", "monitor_action = freezestop rm-rf", "monitor_action", `"rm-rf" is not one of`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			conf := withKeys(t, string(data), map[string][]string{tc.section: {tc.line}})
			_, err := svc.Parse(context.Background(), "spdsvc01.conf", []byte(conf), svc.Options{Node: "spd01", Registry: fake.Registry(fake.Options{}), Root: t.TempDir()})
			var ve *svc.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1, "%v", ve.Problems)
			p := ve.Problems[0]
			require.Equal(t, "spdsvc01.conf", p.File)
			require.Equal(t, tc.section, p.Section)
			require.Equal(t, tc.keyword, p.Keyword)
			require.Greater(t, p.Line, 0)
			require.Equal(t, tc.line, strings.Split(conf, "\n")[p.Line-1])
			require.Contains(t, p.Message, tc.want)
		})
	}
	// The accepted forms.
	conf := withKeys(t, string(data), map[string][]string{
		"DEFAULT":        {"monitor_action = freezestop reboot"},
		"container#01db": {"restart = 100", "restart_delay = 0"},
		"container#01sm": {"restart@spd01 = 3", "restart_delay = 1m30s"},
	})
	s, err := svc.Parse(context.Background(), "spdsvc01.conf", []byte(conf), svc.Options{Node: "spd01", Registry: fake.Registry(fake.Options{}), Root: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, []string{"freezestop", "reboot"}, s.MonitorAction())
	require.Equal(t, 100, s.RestartLimit("container#01db"))
	require.Equal(t, 3, s.RestartLimit("container#01sm"))
	require.Equal(t, 90*time.Second, s.RestartDelay("container#01sm"))
	require.Equal(t, 500*time.Millisecond, s.RestartDelay("container#02db"), "the reference's default")
	require.Equal(t, 2, s.RestartLimit("disk#01"), "standby: at least 2")
}

// TestPassAdoptsAServiceWithoutIntent: a service started before intents
// were recorded is watched once a pass saw it up, as the reference sets
// the local expect of an instance it finds up; one never seen up is not.
func TestPassAdoptsAServiceWithoutIntent(t *testing.T) {
	f := load(t, pod01, fake.Options{})
	ctx := context.Background()
	require.NoError(t, os.Remove(filepath.Join(f.s.VarDir(), "intent.json")))
	in, err := f.s.Intent()
	require.NoError(t, err)
	require.False(t, in.Recorded)

	f.crash("container#01db")
	m := f.monitor(monitor.Options{})
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Tries, "never seen up by this monitor: not adopted")

	_, err = f.s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01db", "ip#01db"}}})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(f.s.VarDir(), "intent.json")))
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Down)
	f.crash("container#01db")
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"container#01db", "ip#01db"}, rep.Restarted)
}

// TestPassDoesNotWaitForAnOperator: while an operator's action holds the
// service lock, the pass restarts nothing, counts no try, and a later
// pass does the restart.
func TestPassDoesNotWaitForAnOperator(t *testing.T) {
	f := load(t, pod01, fake.Options{LatencyOf: map[string]time.Duration{"container#02db:stop": time.Hour}})
	ctx := context.Background()
	m := f.monitor(monitor.Options{})
	f.crash("container#01db")

	octx, cancel := context.WithCancel(ctx)
	locked := make(chan struct{})
	done := make(chan error)
	go func() {
		var once sync.Once
		pctx := resource.WithProgress(octx, func(e resource.Event) {
			if e.Phase == resource.Started {
				once.Do(func() { close(locked) })
			}
		})
		_, err := f.s.Stop(pctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#02db"}}})
		done <- err
	}()
	<-locked
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Tries)
	require.Contains(t, rep.Failed["container#01db"], "another action holds the lock")
	cancel()
	require.Error(t, <-done)

	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Contains(t, rep.Restarted, "container#01db")
}

// TestPassMaxWait: with MaxWait shorter than restart_delay, a pass tries
// once and leaves the next try to a later pass, once the delay passed.
func TestPassMaxWait(t *testing.T) {
	f := load(t, map[string][]string{"container#01db": {"restart = 3", "restart_delay = 1m", "monitor = true"}}, fake.Options{})
	m := f.monitor(monitor.Options{MaxWait: 10 * time.Second})
	ctx := context.Background()
	f.crash("container#01db")
	require.NoError(t, f.fake("container#01db").FailNext("start", 2))
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Tries["container#01db"])
	require.Empty(t, f.slept)
	require.NotContains(t, rep.Exhausted, "container#01db")

	// 30s later: not due yet.
	f.now = f.now.Add(30 * time.Second)
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Empty(t, rep.Tries)

	// A minute after the try: the second fails, the third (a minute
	// later still) is left again; then it comes up.
	f.now = f.now.Add(30 * time.Second)
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Tries["container#01db"])
	f.now = f.now.Add(time.Minute)
	rep, err = m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"container#01db", "ip#01db"}, rep.Restarted, "its address with it")
	require.Empty(t, f.slept)
	require.Empty(t, f.acts)
}

// TestFreezeDuringAPass: an operator freezes the service while a pass
// waits between two tries; the next try is refused under the lock and
// no monitor_action runs.
func TestFreezeDuringAPass(t *testing.T) {
	f := load(t, map[string][]string{
		"DEFAULT":        {"monitor_action = freezestop"},
		"container#01db": {"restart = 3", "restart_delay = 10s", "monitor = true"},
	}, fake.Options{})
	ctx := context.Background()
	var acts []string
	m := monitor.New(monitor.Options{
		Logger: slog.New(slog.DiscardHandler),
		Sleep: func(ctx context.Context, d time.Duration) error {
			f.now = f.now.Add(d)
			return f.s.Freeze(ctx, svc.ActionOptions{})
		},
		Now: func() time.Time { return f.now },
		Action: func(ctx context.Context, s *svc.Service, action, reason string) error {
			acts = append(acts, action)
			return nil
		},
	})
	f.crash("container#01db")
	require.NoError(t, f.fake("container#01db").FailNext("start", 5))
	rep, err := m.Pass(ctx, f.s)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Tries["container#01db"])
	require.Empty(t, acts)
	require.Empty(t, rep.Exhausted)
	require.True(t, rep.Status.Frozen)
}
