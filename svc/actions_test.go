package svc_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// TestStartStopContainer checks that startcontainer and stopcontainer act
// on the containers and the addresses plumbed into them, nothing else.
func TestStartStopContainer(t *testing.T) {
	ctx := t.Context()
	rec := fake.NewRecorder()
	s := mustParse(t, orderConf, "n1", fake.Options{Recorder: rec})
	_, err := s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"ip#*g", "disk", "fs"}}})
	require.NoError(t, err)
	rec.Reset()

	res, err := s.Do(ctx, svc.StartContainer, svc.ActionOptions{})
	require.NoError(t, err)
	var rids []string
	for _, c := range rec.Actions(fake.ActionStart) {
		rids = append(rids, c.RID)
	}
	sort.Strings(rids)
	require.Equal(t, []string{"container#01", "container#02", "container#03", "ip#01d", "ip#02d"}, rids)
	require.Equal(t, [][]string{{"container#01", "container#02", "container#03"}, {"ip#01d", "ip#02d"}}, res.Plan)

	// One container: its address comes along.
	rec.Reset()
	_, err = s.Do(ctx, svc.StopContainer, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#01"}}})
	require.NoError(t, err)
	rids = nil
	for _, c := range rec.Actions(fake.ActionStop) {
		rids = append(rids, c.RID)
	}
	require.Equal(t, []string{"ip#01d", "container#01"}, rids)
	require.NotContains(t, upRIDs(t, s), "container#01")
	require.Contains(t, upRIDs(t, s), "container#02")
	require.Contains(t, upRIDs(t, s), "fs#01")
}

// events collects progress events.
type events struct {
	mu sync.Mutex
	l  []resource.Event
}

func (e *events) add(ev resource.Event) {
	e.mu.Lock()
	e.l = append(e.l, ev)
	e.mu.Unlock()
}

func (e *events) strings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.l {
		s := fmt.Sprintf("%s %s %s", ev.RID, ev.Action, ev.Phase)
		if ev.Error != "" {
			s += ": " + ev.Error
		}
		out = append(out, s)
	}
	return out
}

// TestTriggersAndProgress checks that pre_/post_ commands run around the
// driver action with the service's environment, that a failing trigger
// fails the action with its (redacted) command, that its output is logged
// redacted, and the progress events of an action with a rollback.
func TestTriggersAndProgress(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	conf := fmt.Sprintf(`[DEFAULT]
nodes = n1

[env]
db_password = pw-7788

[fs#01]
type = ext4
dev = /dev/sdb
mnt = /a
pre_provision = echo preprov >> %[1]s
post_provision = echo postprov {rid} >> %[1]s
pre_start = echo pre {svcname} $OPENSVC_SVCNAME $OPENSVC_RID $OPENSVC_NODENAME >> %[1]s
post_start = echo post >> %[1]s
pre_stop = echo prestop >> %[1]s
post_stop = echo poststop >> %[1]s

[fs#02]
type = ext4
dev = /dev/sdc
mnt = /b
pre_start = echo connecting with {env.db_password}; exit 3
`, out)
	root := t.TempDir()
	s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), Root: root})
	require.NoError(t, err)

	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	ev := &events{}
	ctx := resource.WithProgress(resource.WithLogger(context.Background(), logger), ev.add)

	_, err = s.Provision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#01"}}})
	require.NoError(t, err)
	_, err = s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#01"}}})
	require.NoError(t, err)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "preprov\npre svc1 svc1 fs#01 n1\npost\npostprov fs#01\nprestop\npoststop\n", string(b))

	ev.l = nil
	// The groups scheduler runs fs#01 then fs#02, then would run sync#i0.
	res, err := s.Start(ctx, svc.ActionOptions{Scheduler: svc.SchedulerGroups})
	require.EqualError(t, err, "svc1 start failed: fs#02: pre_start: echo connecting with xxxx; exit 3: exit status 3; rolled back: fs#01")
	logMu.Lock()
	logText := logs.String()
	logMu.Unlock()
	require.Contains(t, logText, "connecting with xxxx")
	require.NotContains(t, logText, "pw-7788")
	got := ev.strings()
	sort.Strings(got)
	require.Equal(t, []string{
		"fs#01 rollback rolled back",
		"fs#01 rollback started",
		"fs#01 start done",
		"fs#01 start started",
		"fs#02 start failed: fs#02: pre_start: echo connecting with xxxx; exit 3: exit status 3",
		"fs#02 start started",
	}, got)
	require.Equal(t, []string{"sync#i0"}, res.NotRun)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestStartRequires checks that start_requires and stop_requires win
// over the rid order of the groups scheduler, and that a cycle is refused
// before anything runs.
func TestStartRequires(t *testing.T) {
	conf := `[DEFAULT]
nodes = n1

[fs#01]
type = ext4
dev = /dev/sdb
mnt = /a
start_requires = fs#02

[fs#02]
type = ext4
dev = /dev/sdc
mnt = /b
`
	rec := fake.NewRecorder()
	s := mustParse(t, conf, "n1", fake.Options{Recorder: rec})
	res, err := s.Start(t.Context(), svc.ActionOptions{Scheduler: svc.SchedulerGroups})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"fs#02"}, {"fs#01"}, {"sync#i0"}}, res.Plan)
	var order []string
	for _, c := range rec.Actions(fake.ActionStart) {
		order = append(order, c.RID)
	}
	require.Equal(t, []string{"fs#02", "fs#01"}, order)

	// stop_requires against the reverse rid order: fs#02 waits for fs#01
	// to stop.
	stopConf := strings.Replace(conf, "start_requires = fs#02\n", "", 1) + "stop_requires = fs#01\n"
	rec.Reset()
	s = mustParse(t, stopConf, "n1", fake.Options{Recorder: rec})
	_, err = s.Start(t.Context(), svc.ActionOptions{Scheduler: svc.SchedulerGroups})
	require.NoError(t, err)
	_, err = s.Stop(t.Context(), svc.ActionOptions{Scheduler: svc.SchedulerGroups, Selection: svc.Selection{RIDs: []string{"fs"}}})
	require.NoError(t, err)
	order = nil
	for _, c := range rec.Actions(fake.ActionStop) {
		order = append(order, c.RID)
	}
	require.Equal(t, []string{"fs#01", "fs#02"}, order)

	cycle := conf + "start_requires = fs#01\n"
	rec.Reset()
	s = mustParse(t, cycle, "n1", fake.Options{Recorder: rec})
	for _, sched := range []string{svc.SchedulerGroups, svc.SchedulerGraph} {
		_, err = s.Start(t.Context(), svc.ActionOptions{Scheduler: sched})
		require.ErrorContains(t, err, "dependency cycle through fs#0")
	}
	require.Empty(t, rec.Actions(fake.ActionStart))
}
