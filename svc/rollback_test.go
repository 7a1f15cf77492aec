package svc_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// upRIDs returns the rids of s whose status is up (or stdby up).
func upRIDs(t *testing.T, s *svc.Service) []string {
	t.Helper()
	var out []string
	for _, rs := range s.Status(context.Background()).Resources {
		if rs.Status.IsUp() {
			out = append(out, rs.RID)
		}
	}
	sort.Strings(out)
	return out
}

// TestRollback checks that a failed start stops, in stop order, what
// this action started and only that, and that the error names what
// failed and what was rolled back.
func TestRollback(t *testing.T) {
	tests := []struct {
		name      string
		scheduler string
		fault     fake.Fault
		// before are started by an earlier action: never rolled back.
		before       []string
		wantRolled   []string
		wantStopSeq  []string // for the groups scheduler: exact order
		wantFailedRE string
	}{
		{
			name:       "groups, first start of fs#02",
			scheduler:  svc.SchedulerGroups,
			fault:      fake.Fault{RID: "fs#02", Action: "start", Nth: 1, Message: "mount: wrong fs type"},
			before:     []string{"ip#01g", "disk#00"},
			wantRolled: []string{"disk#01", "disk#02", "disk#03", "fs#01", "ip#02g"},
			// Stop order: fs, then the parallel disk subset (any order
			// inside it, checked below), then ip.
			wantStopSeq:  []string{"fs#01", "disk#0[123]", "disk#0[123]", "disk#0[123]", "ip#02g"},
			wantFailedRE: `^svc1 start failed: fs#02: start: mount: wrong fs type: injected fault; rolled back: disk#01 disk#02 disk#03 fs#01 ip#02g$`,
		},
		{
			name:         "groups, a container of the parallel subset",
			scheduler:    svc.SchedulerGroups,
			fault:        fake.Fault{RID: "container#02", Action: "start", Nth: 1},
			wantRolled:   []string{"container#01", "disk#00", "disk#01", "disk#02", "disk#03", "fs#01", "fs#02", "fs#03", "ip#01g", "ip#02g"},
			wantFailedRE: `^svc1 start failed: container#02: start: start call #1: injected fault; rolled back: container#01 disk#00 .* ip#02g$`,
		},
		{
			name:         "graph, fs#02",
			scheduler:    svc.SchedulerGraph,
			fault:        fake.Fault{RID: "fs#02", Action: "start", Nth: 1},
			before:       []string{"ip#01g"},
			wantFailedRE: `^svc1 start failed: fs#02: start: start call #1: injected fault; rolled back: .*disk#02.*$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			rec := fake.NewRecorder()
			s := mustParse(t, orderConf, "n1", fake.Options{Latency: 5 * time.Millisecond, Recorder: rec, Faults: []fake.Fault{tt.fault}})
			if len(tt.before) > 0 {
				_, err := s.Start(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: tt.before}})
				require.NoError(t, err)
				rec.Reset()
			}
			res, err := s.Start(ctx, svc.ActionOptions{Scheduler: tt.scheduler})
			require.Error(t, err)
			require.Regexp(t, tt.wantFailedRE, err.Error())
			require.Equal(t, err.Error(), res.Error)
			var aerr *svc.ActionError
			require.True(t, errors.As(err, &aerr))
			require.Contains(t, aerr.Failed, tt.fault.RID)
			require.ErrorIs(t, err, fake.ErrInjected)
			require.NoError(t, aerr.Rollback)

			var started []string
			for _, c := range rec.Actions(fake.ActionStart) {
				if c.Err == "" {
					started = append(started, c.RID)
				}
			}
			sort.Strings(started)
			if tt.wantRolled != nil {
				require.Equal(t, tt.wantRolled, started, "what this start brought up")
			}
			require.Equal(t, started, res.RolledBack, "everything it brought up, and only that, is rolled back")
			require.Equal(t, started, aerr.RolledBack)

			// The rollback stops in stop order: a resource stops before
			// what it uses (the fakes refuse otherwise), and with the
			// groups scheduler in the exact reverse group order.
			stops := rec.Actions(fake.ActionStop)
			require.Len(t, stops, len(started))
			for _, c := range stops {
				require.Empty(t, c.Err)
			}
			if tt.wantStopSeq != nil {
				for i, c := range stops {
					require.Regexp(t, "^"+tt.wantStopSeq[i]+"$", c.RID, "stop #%d", i)
				}
			}
			var rolled int
			for _, st := range res.Steps {
				if st.Result == string(resource.RolledBack) {
					rolled++
				}
			}
			require.Equal(t, len(started), rolled)

			// What was up before stays up; nothing else (sync#i0 aside).
			want := append([]string{"sync#i0"}, tt.before...)
			sort.Strings(want)
			require.Equal(t, want, upRIDs(t, s))
		})
	}
}

// TestRollbackNthStart checks a fault on a later start of a rid: the
// first start works, the second (after a stop) fails and rolls back.
func TestRollbackNthStart(t *testing.T) {
	ctx := t.Context()
	s := mustParse(t, orderConf, "n1", fake.Options{Faults: []fake.Fault{{RID: "container#03", Action: "start", Nth: 2}}})
	_, err := s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	_, err = s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#03"}}})
	require.NoError(t, err)
	_, err = s.Start(ctx, svc.ActionOptions{})
	require.ErrorContains(t, err, "container#03: start: start call #2: injected fault; nothing rolled back")
	require.NotContains(t, upRIDs(t, s), "container#03")
	require.Contains(t, upRIDs(t, s), "fs#03", "up before this start: left up")
}

// TestNoRollback checks that rollback = false (or ActionOptions.Rollback)
// leaves what the failed start brought up running.
func TestNoRollback(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name     string
		conf     string
		override *bool
		rollback bool
	}{
		{"rollback = false", "[DEFAULT]\nrollback = false\n" + orderConf[len("[DEFAULT]\n"):], nil, false},
		{"option false", orderConf, &no, false},
		{"option true beats the keyword", "[DEFAULT]\nrollback = false\n" + orderConf[len("[DEFAULT]\n"):], &yes, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fake.NewRecorder()
			s := mustParse(t, tt.conf, "n1", fake.Options{Recorder: rec, Faults: []fake.Fault{{RID: "fs#02", Action: "start"}}})
			res, err := s.Start(t.Context(), svc.ActionOptions{Scheduler: svc.SchedulerGroups, Rollback: tt.override})
			require.ErrorContains(t, err, "fs#02: start: start call #1: injected fault")
			if tt.rollback {
				require.Contains(t, err.Error(), "rolled back: ")
				require.Equal(t, []string{"sync#i0"}, upRIDs(t, s))
				return
			}
			require.Contains(t, err.Error(), "nothing rolled back")
			require.Empty(t, res.RolledBack)
			require.Empty(t, rec.Actions(fake.ActionStop))
			require.Equal(t, []string{"disk#00", "disk#01", "disk#02", "disk#03", "fs#01", "ip#01g", "ip#02g", "sync#i0"}, upRIDs(t, s))
			require.Contains(t, res.NotRun, "container#01", "nothing after the failure runs")
		})
	}
}

// TestRollbackOfProvision checks that a failed provision stops what it
// started, and that an optional resource's failure neither fails the
// action nor triggers a rollback.
func TestRollbackOfProvision(t *testing.T) {
	ctx := t.Context()
	s := mustParse(t, orderConf, "n1", fake.Options{Faults: []fake.Fault{{RID: "fs#03", Action: "provision"}}})
	res, err := s.Provision(ctx, svc.ActionOptions{Scheduler: svc.SchedulerGroups})
	require.ErrorContains(t, err, "svc1 provision failed: fs#03: provision: provision call #1: injected fault; rolled back: ")
	require.Contains(t, res.RolledBack, "fs#02")
	require.Equal(t, []string{"sync#i0"}, upRIDs(t, s))

	optional := "[DEFAULT]\nnodes = n1\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\n[fs#02]\ntype = ext4\ndev = /dev/sdc\nmnt = /b\noptional = true\n"
	s = mustParse(t, optional, "n1", fake.Options{Faults: []fake.Fault{{RID: "fs#02", Action: "start"}}})
	res, err = s.Start(ctx, svc.ActionOptions{})
	require.NoError(t, err)
	var failed []string
	for _, st := range res.Steps {
		if st.Result == string(resource.Failed) {
			failed = append(failed, st.RID+": "+st.Reason)
		}
	}
	require.Equal(t, []string{"fs#02: optional: the action goes on"}, failed)
	require.Equal(t, []string{"fs#01", "sync#i0"}, upRIDs(t, s))
}
