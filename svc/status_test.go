package svc_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

const statusConf = `[DEFAULT]
nodes = n1

[fs#01]
type = ext4
dev = /dev/sdb
mnt = /a

[fs#02]
type = ext4
dev = /dev/sdc
mnt = /b

[fs#03]
type = ext4
dev = /dev/sdd
mnt = /c
optional = true

[fs#05]
type = ext4
dev = /dev/sdf
mnt = /e
disable = true
`

const standbyConf = `[DEFAULT]
nodes = n1 n2

[fs#01]
type = ext4
dev = /dev/sdb
mnt = /a

[fs#04]
type = ext4
dev = /dev/sde
mnt = /d
always_on = nodes
`

// TestStatusAggregation checks the avail, optional and overall rules: up
// with down is warn, disabled resources do not count, optional ones count
// in overall only, an up sync is neutral (n/a) and a down one warns, a
// status error warns, a standby resource up with the service down makes
// it "stdby up".
func TestStatusAggregation(t *testing.T) {
	type step struct {
		action svc.Action
		rids   []string
		force  bool
	}
	tests := []struct {
		name                     string
		conf                     string
		faults                   []fake.Fault
		steps                    []step
		avail, optional, overall string
		resources                map[string]string // rid -> status shown
	}{
		{name: "all down", conf: statusConf,
			avail: "down", optional: "down", overall: "down",
			resources: map[string]string{"fs#01": "down", "fs#03": "down", "fs#05": "n/a", "sync#i0": "up"}},
		{name: "up and down is warn", conf: statusConf, steps: []step{{svc.Start, []string{"fs#01"}, false}},
			avail: "warn", optional: "down", overall: "warn"},
		{name: "optional down warns overall only", conf: statusConf, steps: []step{{svc.Start, []string{"fs#01", "fs#02"}, false}},
			avail: "up", optional: "down", overall: "warn"},
		{name: "all up, disabled ignored, up sync neutral", conf: statusConf, steps: []step{{svc.Start, nil, false}},
			avail: "up", optional: "up", overall: "up",
			resources: map[string]string{"fs#01": "up", "fs#03": "up", "fs#05": "n/a", "sync#i0": "up"}},
		{name: "sync down warns overall, not avail", conf: statusConf, steps: []step{{svc.Start, nil, false}, {svc.Stop, []string{"sync#i0"}, false}},
			avail: "up", optional: "up", overall: "warn",
			resources: map[string]string{"sync#i0": "down"}},
		{name: "status error warns", conf: statusConf, faults: []fake.Fault{{RID: "fs#02", Action: "status", Message: "probe timed out"}},
			steps: []step{{svc.Start, []string{"fs#01", "fs#03"}, false}},
			avail: "up", optional: "up", overall: "warn",
			resources: map[string]string{"fs#02": "undef"}},
		{name: "standby up with the service up shows up", conf: standbyConf, steps: []step{{svc.Start, nil, false}},
			avail: "up", optional: "n/a", overall: "up",
			resources: map[string]string{"fs#04": "up"}},
		{name: "standby stays up when the service stops", conf: standbyConf, steps: []step{{svc.Start, nil, false}, {svc.Stop, []string{"fs"}, false}},
			avail: "stdby up", optional: "n/a", overall: "stdby up",
			resources: map[string]string{"fs#01": "down", "fs#04": "stdby up", "sync#i0": "up"}},
		{name: "forced stop stops standby", conf: standbyConf, steps: []step{{svc.Start, nil, false}, {svc.Stop, []string{"fs"}, true}},
			avail: "stdby down", optional: "n/a", overall: "stdby down",
			resources: map[string]string{"fs#01": "down", "fs#04": "stdby down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.conf, "n1", fake.Options{Faults: tt.faults})
			for _, st := range tt.steps {
				_, err := s.Do(t.Context(), st.action, svc.ActionOptions{Selection: svc.Selection{RIDs: st.rids}, Force: st.force})
				require.NoError(t, err)
			}
			rep := s.Status(t.Context())
			require.Equal(t, tt.avail, rep.Avail.String(), "avail")
			require.Equal(t, tt.optional, rep.Optional.String(), "optional")
			require.Equal(t, tt.overall, rep.Overall.String(), "overall")
			for rid, want := range tt.resources {
				var found bool
				for _, rs := range rep.Resources {
					if rs.RID == rid {
						found = true
						require.Equal(t, want, rs.Status.Final().String(), rid)
					}
				}
				require.True(t, found, rid)
			}
			// JSON carries the same data, statuses as words.
			b, err := json.Marshal(rep)
			require.NoError(t, err)
			var back struct {
				Avail, Overall string
				Resources      []struct{ RID, Status string }
			}
			require.NoError(t, json.Unmarshal(b, &back))
			require.Equal(t, tt.avail, back.Avail)
			require.Equal(t, tt.overall, back.Overall)
			require.Len(t, back.Resources, len(rep.Resources))
		})
	}
}

// TestStatusRender checks the tree layout, the flags column, the hidden
// disabled resources and the problem lines.
func TestStatusRender(t *testing.T) {
	s := mustParse(t, statusConf, "n1", fake.Options{Faults: []fake.Fault{{RID: "fs#02", Action: "status", Message: "probe timed out"}}})
	_, err := s.Start(t.Context(), svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#01", "fs#03"}}})
	require.NoError(t, err)
	rep := s.Status(t.Context())
	want := `svc1
overall                   warn
|- avail                  up
|  |- fs#01          .... up         /dev/sdb@/a
|  |- fs#02          .... undef      /dev/sdc@/b
|  |     # fs#02: status: probe timed out: injected fault
|  '- fs#03          ..O. up         /dev/sdd@/c
'- accessory
   '- sync#i0        .... up         rsync svc config to drpnodes, nodes
`
	require.Equal(t, want, rep.Render(svc.StatusOptions{}))
	withDisabled := rep.Render(svc.StatusOptions{ShowDisabled: true})
	require.Contains(t, withDisabled, "|  |- fs#03          ..O. up         /dev/sdd@/c\n|  '- fs#05          .D.. n/a        /dev/sdf@/e\n")

	// Without accessories the avail branch closes the tree.
	rep.Resources = rep.Resources[:1]
	require.Equal(t, "svc1\noverall                   warn\n'- avail                  up\n   '- fs#01          .... up         /dev/sdb@/a\n", rep.Render(svc.StatusOptions{}))
	require.True(t, strings.HasSuffix(rep.Render(svc.StatusOptions{}), "\n"))
	require.Equal(t, resource.Up, rep.Resources[0].Status)
}

// A driver that ignores the standby flag still shows a standby resource as
// stdby up/down, so a stopped service whose always_on disk is attached
// aggregates to stdby up, not warn.
func TestStatusStandbyFromFlags(t *testing.T) {
	require.Equal(t, resource.StandbyUp, svc.StandbyStatus(resource.Up, resource.Flags{Standby: true}))
	require.Equal(t, resource.StandbyDown, svc.StandbyStatus(resource.Down, resource.Flags{Standby: true}))
	require.Equal(t, resource.Warn, svc.StandbyStatus(resource.Warn, resource.Flags{Standby: true}))
	require.Equal(t, resource.Up, svc.StandbyStatus(resource.Up, resource.Flags{}))
	require.Equal(t, resource.StandbyUp, resource.MergeAll(resource.Down, svc.StandbyStatus(resource.Up, resource.Flags{Standby: true})))
}

// seenLabel is a resource whose label names what its last status found,
// as container.docker shows the container id.
type seenLabel struct {
	resource.Base
	seen string
}

func (r *seenLabel) Label() string {
	if r.seen == "" {
		return "not seen yet"
	}
	return r.seen
}

func (r *seenLabel) Status(context.Context) (resource.Status, error) {
	r.seen = "id 0123456789ab"
	return resource.Up, nil
}
func (r *seenLabel) Start(context.Context) error { return nil }
func (r *seenLabel) Stop(context.Context) error  { return nil }

// TestStatusLabelAfterStatus checks that the label is read once the
// status ran, so that it shows what the status found.
func TestStatusLabelAfterStatus(t *testing.T) {
	reg := fake.Registry(fake.Options{})
	reg.Replace(ctr.Docker, func(_ context.Context, cfg driver.Config) (resource.Resource, error) {
		return &seenLabel{Base: cfg.Base()}, nil
	})
	s, err := svc.Parse(t.Context(), "svc1.conf", []byte("[DEFAULT]\nnodes = n1\n\n[container#01]\ntype = docker\nrun_image = x\n"),
		svc.Options{Node: "n1", Registry: reg, Root: t.TempDir(), NoTriggers: true})
	require.NoError(t, err)
	rep := s.Status(t.Context())
	var labels []string
	for _, rs := range rep.Resources {
		if rs.RID == "container#01" {
			labels = append(labels, rs.Label)
		}
	}
	require.Equal(t, []string{"id 0123456789ab"}, labels)
}
