package fake_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/fs/linux"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

func TestReplace(t *testing.T) {
	ctx := context.Background()
	// A program's registry: a driver svckit does not know, and an fs.ext4
	// whose manifest has a keyword more than the standard one.
	custom := driver.Manifest{ID: "app.flyway", Text: "database migrations", Keywords: []driver.Keyword{
		{Name: "script", Kind: driver.String, Required: true, Text: "the migration script"},
	}}
	ext4 := fs.Ext4
	ext4.Keywords = append(append([]driver.Keyword{}, fs.Ext4.Keywords...), driver.Keyword{Name: "fsck", Kind: driver.Bool, Text: "check at start"})
	real := driver.NewRegistry()
	appCalled, ext4Called := false, false
	require.NoError(t, real.Register(custom, func(context.Context, driver.Config) (resource.Resource, error) {
		appCalled = true
		return nil, nil
	}))
	require.NoError(t, real.Register(ext4, func(context.Context, driver.Config) (resource.Resource, error) {
		ext4Called = true
		return nil, nil
	}))

	rec := fake.NewRecorder()
	reg := fake.Replace(real, fake.Options{Recorder: rec})
	require.NotSame(t, real, reg)
	require.ElementsMatch(t, append(fake.Registry(fake.Options{}).IDs(), "app.flyway"), reg.IDs())
	d, ok := reg.Lookup("fs.ext4")
	require.True(t, ok)
	requireSameManifest(t, ext4, d.Manifest, "the program's manifest is kept")
	d, ok = reg.Lookup("app.flyway")
	require.True(t, ok)
	requireSameManifest(t, custom, d.Manifest)

	f := newFixture(t.TempDir())
	f.add("app#migrate", "app.flyway", "script", "/opt/migrate.sh")
	f.add("fs#01", "fs.ext4", "dev", "/dev/sdb", "mnt", "/srv/db", "fsck", "true")
	app := asFake(t, f.buildOne(t, reg, "app#migrate"))
	require.Equal(t, "fake app.flyway", app.Label())
	require.True(t, appCalled, "the program's own factory tells the fake its ordering")
	_, order := app.Uses()
	require.Equal(t, resource.OrderByGroup, order, "a driver whose resource is no resource.User is ordered by group")
	require.Empty(t, app.Provides())
	require.NoError(t, app.Provision(ctx))
	require.NoError(t, app.Start(ctx))
	require.Equal(t, "up", status(t, app))
	require.Len(t, rec.Actions("start"), 1)

	fs1 := asFake(t, f.buildOne(t, reg, "fs#01"))
	require.Equal(t, "/dev/sdb@/srv/db", fs1.Label())
	require.Equal(t, []string{"/srv/db"}, fs1.Provides())
	require.False(t, ext4Called, "the real factory of a standard driver never runs")
	// The source registry is untouched.
	require.Equal(t, []string{"app.flyway", "fs.ext4"}, real.IDs())
}

// thing is a program's own driver: it needs fs#1 mounted, nothing else.
type thing struct{ resource.Base }

func (*thing) Label() string                                   { return "a thing" }
func (*thing) Status(context.Context) (resource.Status, error) { return resource.Down, nil }
func (*thing) Start(context.Context) error                     { return errors.New("the real thing must not run") }
func (*thing) Stop(context.Context) error                      { return errors.New("the real thing must not run") }
func (*thing) Uses() ([]string, resource.Ordering) {
	return []string{"rid:fs#1"}, resource.OrderByUses
}

func TestReplaceKeepsUserDriverUses(t *testing.T) {
	ctx := context.Background()
	thingManifest := driver.Manifest{ID: "app.thing", Text: "a thing on fs#1"}
	real := driver.NewRegistry()
	require.NoError(t, real.Register(thingManifest, func(_ context.Context, cfg driver.Config) (resource.Resource, error) {
		return &thing{Base: cfg.Base()}, nil
	}))
	require.NoError(t, real.Register(fs.Ext4, linux.New))
	// fs#1, fs#2 under it, fs#3 under fs#2: three waves. app#1 needs only
	// fs#1: it starts beside fs#2, where the group order would put it
	// after fs#3.
	conf := []byte(`
[DEFAULT]
nodes = n1

[fs#1]
type = ext4
dev = /dev/sdb
mnt = /srv/a

[fs#2]
type = ext4
dev = /dev/sdc
mnt = /srv/a/b

[fs#3]
type = ext4
dev = /dev/sdd
mnt = /srv/a/b/c

[app#1]
type = thing
`)
	want := [][]string{{"fs#1"}, {"app#1", "fs#2"}, {"fs#3"}}
	plan := func(reg *driver.Registry) [][]string {
		s, err := svc.Parse(ctx, "thing.conf", conf, svc.Options{Node: "n1", Registry: reg, VarDir: t.TempDir()})
		require.NoError(t, err)
		res, err := s.Start(ctx, svc.ActionOptions{DryRun: true})
		require.NoError(t, err)
		// The fakes have a sync.rsync, so the implicit sync#i0, which
		// depends on nothing; the real registry here has none.
		for i, w := range res.Plan {
			res.Plan[i] = slices.DeleteFunc(w, func(rid string) bool { return rid == "sync#i0" })
		}
		return res.Plan
	}
	require.Equal(t, want, plan(real), "the real registry orders app#1 by its uses")
	reg := fake.Replace(real, fake.Options{})
	require.Equal(t, want, plan(reg), "so do the fakes")

	// The fake of app#1 checks what the program's driver uses.
	f := newFixture(t.TempDir())
	f.add("fs#1", "fs.ext4", "dev", "/dev/sdb", "mnt", "/srv/a")
	f.add("app#1", "app.thing")
	rs := f.build(t, reg)
	uses, order := asFake(t, rs["app#1"]).Uses()
	require.Equal(t, []string{"rid:fs#1"}, uses)
	require.Equal(t, resource.OrderByUses, order)
	err := rs["app#1"].Start(ctx)
	require.ErrorIs(t, err, fake.ErrOrder)
	require.ErrorContains(t, err, "fs#1 (providing rid:fs#1) is not up")
	require.NoError(t, rs["fs#1"].Start(ctx))
	require.NoError(t, rs["app#1"].Start(ctx))
	require.Equal(t, "up", status(t, rs["app#1"]))

	// A factory error is the fake's error, as it is the real one's.
	broken := driver.NewRegistry()
	require.NoError(t, broken.Register(thingManifest, func(_ context.Context, cfg driver.Config) (resource.Resource, error) {
		return nil, errors.New(cfg.RID + ": no thing here")
	}))
	f = newFixture(t.TempDir())
	f.add("app#1", "app.thing")
	breg := fake.Replace(broken, fake.Options{})
	d, ok := breg.Lookup("app.thing")
	require.True(t, ok)
	_, err = d.New(ctx, f.config(t, breg, "app#1"))
	require.EqualError(t, err, "app#1: no thing here")
}

func TestReplaceNil(t *testing.T) {
	require.Equal(t, fake.Registry(fake.Options{}).IDs(), fake.Replace(nil, fake.Options{}).IDs())
}

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name                string
		latency, lof, fault string
		want                fake.Options
		err                 string
	}{
		{name: "nothing set"},
		{name: "latency", latency: "20ms", want: fake.Options{Latency: 20 * time.Millisecond}},
		{name: "latencies", lof: "disk.gce=2s, start=50ms,fs#01:stop=1s",
			want: fake.Options{LatencyOf: map[string]time.Duration{"disk.gce": 2 * time.Second, "start": 50 * time.Millisecond, "fs#01:stop": time.Second}}},
		{name: "faults", fault: "fs#03:start:2, container#*:stop::disk full: really,ip#01db:provision",
			want: fake.Options{Faults: []fake.Fault{
				{RID: "fs#03", Action: "start", Nth: 2},
				{RID: "container#*", Action: "stop", Message: "disk full: really"},
				{RID: "ip#01db", Action: "provision"},
			}}},
		{name: "bad latency", latency: "fast", err: "SVCKIT_FAKE_LATENCY=\"fast\": expected a duration like 20ms"},
		{name: "negative latency", latency: "-1s", err: "SVCKIT_FAKE_LATENCY"},
		{name: "bad latency of", lof: "disk.gce", err: "SVCKIT_FAKE_LATENCY_OF: latency \"disk.gce\": expected key=duration"},
		{name: "bad latency value", lof: "disk.gce=soon", err: "\"soon\" is not a duration"},
		{name: "fault without action", fault: "fs#03", err: "SVCKIT_FAKE_FAULTS: fault \"fs#03\": expected rid:action[:nth[:message]]"},
		{name: "fault with a bad action", fault: "fs#03:mount", err: "unknown action \"mount\": expected one of start, stop, provision, unprovision, status"},
		{name: "fault with a bad nth", fault: "fs#03:start:second", err: "nth \"second\" is not a number"},
		{name: "fault with a negative nth", fault: "fs#03:start:-1", err: "nth -1"},
		{name: "fault with a bad glob", fault: "fs#[:start", err: "rid pattern \"fs#[\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(fake.EnvLatency, tt.latency)
			t.Setenv(fake.EnvLatencyOf, tt.lof)
			t.Setenv(fake.EnvFaults, tt.fault)
			got, err := fake.OptionsFromEnv()
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFaultsFromEnvFire(t *testing.T) {
	t.Setenv(fake.EnvFaults, "disk#0[12]:start:2:quota exceeded")
	opts, err := fake.OptionsFromEnv()
	require.NoError(t, err)
	ctx := context.Background()
	f := newFixture(t.TempDir())
	f.add("disk#01", "disk.gce", "names", "d1")
	f.add("disk#03", "disk.gce", "names", "d3")
	rs := f.build(t, fake.Registry(opts))
	for i := 1; i <= 3; i++ {
		err := rs["disk#01"].Start(ctx)
		if i == 2 {
			require.ErrorIs(t, err, fake.ErrInjected)
			require.EqualError(t, err, "disk#01: start: quota exceeded: injected fault")
		} else {
			require.NoError(t, err)
		}
		require.NoError(t, rs["disk#03"].Start(ctx))
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts fake.Options
		err  string
	}{
		{"empty", fake.Options{}, ""},
		{"good", fake.Options{Latency: time.Millisecond, Faults: []fake.Fault{{RID: "fs#*", Action: "start", Nth: 1, Node: "spd0?"}}}, ""},
		{"negative latency", fake.Options{Latency: -time.Second}, "negative latency -1s"},
		{"negative latency of", fake.Options{LatencyOf: map[string]time.Duration{"stop": -1}}, "latency of stop"},
		{"empty rid", fake.Options{Faults: []fake.Fault{{Action: "start"}}}, "empty rid pattern"},
		{"bad action", fake.Options{Faults: []fake.Fault{{RID: "fs#01", Action: "Start"}}}, "unknown action \"Start\""},
		{"bad node glob", fake.Options{Faults: []fake.Fault{{RID: "fs#01", Node: "spd[0"}}}, "node pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// widgetSpec is the spec of a program's own driver written the way the
// standard drivers are: parsed from the section, no I/O.
type widgetSpec struct{ mnt string }

func (s *widgetSpec) Label() string      { return "widget on " + s.mnt }
func (s *widgetSpec) Provides() []string { return nil }
func (s *widgetSpec) Uses() ([]string, resource.Ordering) {
	return []string{s.mnt}, resource.OrderByUses
}

func parseWidget(cfg driver.Config) (driver.Spec, error) {
	mnt := cfg.String("on")
	if !filepath.IsAbs(mnt) {
		return nil, driver.KeywordErrorf("on", "%q: expected an absolute path", mnt)
	}
	return &widgetSpec{mnt: filepath.Clean(mnt)}, nil
}

// TestReplaceUsesUserDriverSpec checks that a program's driver that
// exposes its spec keeps its label, its ordering and its errors under
// fake.Replace, without its factory being called.
func TestReplaceUsesUserDriverSpec(t *testing.T) {
	m := driver.Manifest{ID: "app.widget", Text: "a widget", Spec: parseWidget, Keywords: []driver.Keyword{
		{Name: "on", Kind: driver.String, Required: true, Text: "the filesystem it lives on"},
	}}
	real := driver.NewRegistry()
	require.NoError(t, real.Register(m, func(context.Context, driver.Config) (resource.Resource, error) {
		return nil, errors.New("the real factory must not run under fakes")
	}))
	reg := fake.Replace(real, fake.Options{})
	f := newFixture(t.TempDir())
	f.add("fs#1", "fs.ext4", "dev", "/dev/sdb", "mnt", "/srv/a")
	f.add("app#1", "app.widget", "on", "/srv/a/")
	rs := f.build(t, reg)
	w := asFake(t, rs["app#1"])
	require.Equal(t, "widget on /srv/a", w.Label())
	uses, order := w.Uses()
	require.Equal(t, []string{"/srv/a"}, uses)
	require.Equal(t, resource.OrderByUses, order)
	require.ErrorIs(t, w.Start(context.Background()), fake.ErrOrder, "fs#1 provides /srv/a and is down")

	f = newFixture(t.TempDir())
	f.add("app#1", "app.widget", "on", "srv/a")
	d, ok := reg.Lookup("app.widget")
	require.True(t, ok)
	_, err := d.New(context.Background(), f.config(t, reg, "app#1"))
	ke, ok := driver.AsKeywordError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "on", ke.Keyword)
}
