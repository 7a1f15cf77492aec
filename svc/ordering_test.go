package svc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// orderedApp is a program's driver whose Uses says what the section's
// uses and order keywords say; with order = none it is no resource.User.
type orderedApp struct {
	resource.Base
	uses  []string
	order resource.Ordering
}

func (*orderedApp) Label() string                                   { return "app" }
func (*orderedApp) Status(context.Context) (resource.Status, error) { return resource.Down, nil }
func (*orderedApp) Start(context.Context) error                     { return nil }
func (*orderedApp) Stop(context.Context) error                      { return nil }

type orderedUser struct{ *orderedApp }

func (r orderedUser) Uses() ([]string, resource.Ordering) { return r.uses, r.order }

// The graph scheduler orders a resource.OrderByUses resource after what it
// names and nothing else (no names: nothing), and a resource.OrderByGroup
// one, or one that is no resource.User, after every group before its own,
// whatever names it returns.
func TestGraphOrdering(t *testing.T) {
	m := driver.Manifest{ID: "app.ordered", Text: "an app ordered as told", Keywords: []driver.Keyword{
		{Name: "uses", Kind: driver.String, Text: "what it uses"},
		{Name: "order", Kind: driver.String, Text: "uses, group or none"},
	}}
	own := driver.NewRegistry()
	require.NoError(t, own.Register(m, func(_ context.Context, cfg driver.Config) (resource.Resource, error) {
		a := &orderedApp{Base: cfg.Base(), uses: strings.Fields(cfg.String("uses"))}
		switch cfg.String("order") {
		case "none":
			return a, nil
		case "group":
			a.order = resource.OrderByGroup
		default:
			a.order = resource.OrderByUses
		}
		return orderedUser{a}, nil
	}))
	reg := fake.Replace(own, fake.Options{})
	tests := []struct {
		name, app string
		wave      int
	}{
		{"by uses, nothing used", "order = uses", 0},
		{"by uses, fs#1 used", "order = uses\nuses = rid:fs#1", 2},
		{"by uses, a path under fs#1", "order = uses\nuses = /srv/app", 2},
		{"by group, names ignored", "order = group\nuses = rid:fs#1", 3},
		{"no resource.User", "order = none", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := `[DEFAULT]
nodes = n1

[disk#1]
type = gce
names = d1

[fs#1]
type = ext4
dev = /dev/disk/by-id/google-svc1.disk.1.0
mnt = /srv

[container#1]
type = docker
run_image = busybox
run_args = -v /srv/c:/data

[app#1]
type = ordered
` + tt.app + "\n"
			s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: reg, Root: t.TempDir()})
			require.NoError(t, err)
			res, err := s.Start(t.Context(), svc.ActionOptions{DryRun: true})
			require.NoError(t, err)
			require.Less(t, tt.wave, len(res.Plan), "plan %v", res.Plan)
			require.Contains(t, res.Plan[tt.wave], "app#1", "plan %v", res.Plan)
		})
	}
}

// formerUser implements the former resource.User, Uses() []string.
type formerUser struct{ *orderedApp }

func (formerUser) Uses() []string { return []string{"rid:fs#1"} }

// A driver written for the former contract would silently lose its
// ordering: Load says so.
func TestFormerUsesRefused(t *testing.T) {
	m := driver.Manifest{ID: "app.former", Text: "an app of the former contract"}
	own := driver.NewRegistry()
	require.NoError(t, own.Register(m, func(_ context.Context, cfg driver.Config) (resource.Resource, error) {
		return formerUser{&orderedApp{Base: cfg.Base()}}, nil
	}))
	conf := "[DEFAULT]\nnodes = n1\n\n[app#1]\ntype = former\n"
	_, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: own, Root: t.TempDir()})
	require.ErrorContains(t, err, "svc1.conf:4: [app#1] driver app.former: Uses() []string is the former resource.User: return (uses []string, order resource.Ordering)")
}
