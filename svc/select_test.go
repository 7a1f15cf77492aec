package svc_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

func TestParseTags(t *testing.T) {
	tests := []struct {
		expr    string
		want    svc.TagExpr
		wantErr string
	}{
		{"", nil, ""},
		{"a", svc.TagExpr{{"a"}}, ""},
		{"a+b,c", svc.TagExpr{{"a", "b"}, {"c"}}, ""},
		{" a + b , c+d+e ", svc.TagExpr{{"a", "b"}, {"c", "d", "e"}}, ""},
		{"a++b", nil, "empty tag"},
		{"a,", nil, "empty tag"},
		{",a", nil, "empty tag"},
		{"+", nil, "empty tag"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := svc.ParseTags(tt.expr)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, tt.expr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestTagExprMatch(t *testing.T) {
	tests := []struct {
		expr string
		tags []string
		want bool
	}{
		{"", nil, true},
		{"a", []string{"a"}, true},
		{"a", []string{"b"}, false},
		{"a", nil, false},
		{"a+b", []string{"a"}, false},
		{"a+b", []string{"b", "a"}, true},
		{"a+b,c", []string{"c"}, true},                  // + binds tighter than ,
		{"a+b,c", []string{"a", "c"}, true},             // (a AND b) OR c
		{"a+b,c", []string{"a", "d"}, false},            // not a AND (b OR c)... neither term
		{"c,a+b", []string{"a", "b"}, true},             // order does not matter
		{"sm+pod01,db", []string{"sm", "pod02"}, false}, // the reference's example
		{"sm+pod01,db", []string{"db", "pod02"}, true},
		{"sm", []string{"sm.container"}, false}, // whole words, no prefix match
	}
	for _, tt := range tests {
		e, err := svc.ParseTags(tt.expr)
		require.NoError(t, err)
		require.Equal(t, tt.want, e.Match(tt.tags), "%q on %v", tt.expr, tt.tags)
	}
}

const selectConf = `[DEFAULT]
nodes = n1

[subset#disk:cge]
parallel = true

[disk#01]
type = gce
names = a
subset = cge
tags = sm pod01

[disk#02]
type = gce
names = b
subset = cge
tags = db pod02

[fs#01]
type = ext4
dev = /dev/disk/by-id/google-svc1.disk.01.0
mnt = /srv/pod01
tags = sm pod01

[fs#02]
type = ext4
dev = /dev/disk/by-id/google-svc1.disk.02.0
mnt = /srv/pod02
tags = db pod02

[fs#03]
type = ext4
dev = /dev/sdz
mnt = /srv/pod03
tags = sm pod03
disable = true

[container#01sm]
type = docker
run_image = spdc
subset = containers
tags = sm sm.container pod01

[container#01db]
type = docker
run_image = mariadb
subset = containers
tags = db db.container pod01
`

// TestSelect checks --rid (rid, group, glob, lists), --tags, --subsets,
// their combination (a resource must match each given one), that
// disabled resources are never selected, and that selecting nothing is an
// error saying what was asked.
func TestSelect(t *testing.T) {
	s := mustParse(t, selectConf, "n1", fake.Options{})
	tests := []struct {
		name    string
		sel     svc.Selection
		want    []string
		wantErr string
	}{
		{"everything enabled, in group order", svc.Selection{},
			[]string{"disk#01", "disk#02", "fs#01", "fs#02", "container#01db", "container#01sm", "sync#i0"}, ""},
		{"rid", svc.Selection{RIDs: []string{"fs#02"}}, []string{"fs#02"}, ""},
		{"group", svc.Selection{RIDs: []string{"fs"}}, []string{"fs#01", "fs#02"}, ""},
		{"glob", svc.Selection{RIDs: []string{"container#*sm"}}, []string{"container#01sm"}, ""},
		{"glob on the name", svc.Selection{RIDs: []string{"*#01"}}, []string{"disk#01", "fs#01"}, ""},
		{"comma list", svc.Selection{RIDs: []string{"fs#01,disk#02"}}, []string{"disk#02", "fs#01"}, ""},
		{"several items", svc.Selection{RIDs: []string{"fs#01", "container"}}, []string{"fs#01", "container#01db", "container#01sm"}, ""},
		{"tag", svc.Selection{Tags: "sm"}, []string{"disk#01", "fs#01", "container#01sm"}, ""},
		{"tag and", svc.Selection{Tags: "db+pod01"}, []string{"container#01db"}, ""},
		{"tag and, or", svc.Selection{Tags: "sm+pod01,pod02"}, []string{"disk#01", "disk#02", "fs#01", "fs#02", "container#01sm"}, ""},
		{"subset", svc.Selection{Subsets: []string{"cge"}}, []string{"disk#01", "disk#02"}, ""},
		{"subset group:name", svc.Selection{Subsets: []string{"disk:cge"}}, []string{"disk#01", "disk#02"}, ""},
		{"subset without a section", svc.Selection{Subsets: []string{"containers"}}, []string{"container#01db", "container#01sm"}, ""},
		{"subsets list", svc.Selection{Subsets: []string{"cge,containers"}}, []string{"disk#01", "disk#02", "container#01db", "container#01sm"}, ""},
		{"rid and tags", svc.Selection{RIDs: []string{"disk"}, Tags: "pod01"}, []string{"disk#01"}, ""},
		{"subset and tags", svc.Selection{Subsets: []string{"cge"}, Tags: "db"}, []string{"disk#02"}, ""},
		{"rid, tags and subset", svc.Selection{RIDs: []string{"*#01*"}, Tags: "pod01", Subsets: []string{"containers"}}, []string{"container#01db", "container#01sm"}, ""},
		{"disabled rid", svc.Selection{RIDs: []string{"fs#03"}}, nil, "--rid fs#03 selects no enabled resource"},
		{"disabled by tag", svc.Selection{Tags: "pod03"}, nil, "--tags pod03 selects no enabled resource"},
		{"unknown rid", svc.Selection{RIDs: []string{"app#1"}}, nil, "service svc1 on n1: --rid app#1 selects no enabled resource"},
		{"disjoint combination", svc.Selection{RIDs: []string{"fs"}, Subsets: []string{"cge"}}, nil, "--rid fs --subsets cge selects no enabled resource"},
		{"bad tag expression", svc.Selection{Tags: "a++b"}, nil, "empty tag"},
		{"bad glob", svc.Selection{RIDs: []string{"fs#["}}, nil, `--rid "fs#["`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Select(tt.sel)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			var rids []string
			for _, r := range got {
				rids = append(rids, r.RID())
			}
			require.Equal(t, tt.want, rids)
		})
	}
}

// TestActionSelectingNothingFails checks that an action refuses an empty
// selection without running anything.
func TestActionSelectingNothingFails(t *testing.T) {
	rec := fake.NewRecorder()
	s := mustParse(t, selectConf, "n1", fake.Options{Recorder: rec})
	for _, a := range svc.Actions {
		res, err := s.Do(t.Context(), a, svc.ActionOptions{Selection: svc.Selection{Tags: "nosuchtag"}})
		require.ErrorContains(t, err, "--tags nosuchtag selects no enabled resource", a)
		require.Equal(t, err.Error(), res.Error)
	}
	require.Empty(t, rec.Calls())
	_, err := s.Do(t.Context(), svc.StartContainer, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs"}}})
	require.ErrorContains(t, err, "--rid fs selects no container")
	_, err = s.Do(t.Context(), svc.Action("restart"), svc.ActionOptions{})
	require.ErrorContains(t, err, `unknown action "restart"`)
	require.Empty(t, rec.Calls())
}
