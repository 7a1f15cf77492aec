package svc_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// wantProblem is a problem a configuration must produce: its exact
// location and words its message must hold.
type wantProblem struct {
	line     int
	section  string
	keyword  string
	contains []string
}

func requireProblem(t *testing.T, got svc.Problem, w wantProblem) {
	t.Helper()
	require.Equal(t, "svc1.conf", got.File, "%+v", got)
	require.Equal(t, w.line, got.Line, "%+v", got)
	require.Equal(t, w.section, got.Section, "%+v", got)
	require.Equal(t, w.keyword, got.Keyword, "%+v", got)
	for _, c := range w.contains {
		require.Contains(t, got.Message, c, "%+v", got)
	}
	// The printed form locates it as file:line: [section] keyword:
	s := got.String()
	require.True(t, strings.HasPrefix(s, "svc1.conf:"), s)
}

// TestValidationErrors checks every kind of validation error, with the
// exact file, line, section and keyword, and what was expected.
func TestValidationErrors(t *testing.T) {
	const head = "[DEFAULT]\nnodes = n1 n2\n\n" // 3 lines
	tests := []struct {
		name string
		conf string
		want wantProblem
	}{
		{"unknown section", head + "[what]\nx = 1\n",
			wantProblem{4, "what", "", []string{"unknown section", "DEFAULT, env, subset#<group>:<name> or <group>#<name>"}}},
		{"bad resource section name", head + "[fs#a b]\ntype = ext4\n",
			wantProblem{4, "fs#a b", "", []string{"bad resource section name"}}},
		{"bad subset section name", head + "[subset#disk]\nparallel = true\n",
			wantProblem{4, "subset#disk", "", []string{"subset#<group>:<name>"}}},
		{"unknown driver type", head + "[fs#01]\ndev = /dev/sdb\ntype = zfs2\nmnt = /a\n",
			wantProblem{6, "fs#01", "type", []string{`unknown driver type "zfs2" for group fs`, "btrfs, ext4, xfs"}}},
		{"unknown group", head + "[share#01]\ntype = nfs\n",
			wantProblem{5, "share#01", "type", []string{`unknown driver type "nfs" for group share`, "none is registered for group share", "container.docker"}}},
		{"missing type with several drivers", head + "[fs#01]\ndev = /dev/sdb\nmnt = /a\n",
			wantProblem{4, "fs#01", "type", []string{"missing required keyword type", "btrfs, ext4, xfs"}}},
		{"unknown keyword suggests the nearest", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmnt_opts = rw\n",
			wantProblem{8, "fs#01", "mnt_opts", []string{"unknown keyword mnt_opts", "did you mean mnt_opt?"}}},
		{"unknown keyword far from any lists them", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nzzzzzzzzzzzz = rw\n",
			wantProblem{8, "fs#01", "zzzzzzzzzzzz", []string{"unknown keyword zzzzzzzzzzzz", "expected one of", "mnt_opt"}}},
		{"unknown keyword in another case", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nMNT = /b\n",
			wantProblem{8, "fs#01", "MNT", []string{"unknown keyword MNT", "did you mean mnt?"}}},
		{"unknown DEFAULT keyword", head + "flex_primry = n1\n",
			wantProblem{4, "DEFAULT", "flex_primry", []string{"did you mean flex_primary?"}}},
		{"unknown subset keyword", head + "[subset#disk:a]\nparalel = true\n",
			wantProblem{5, "subset#disk:a", "paralel", []string{"did you mean parallel?"}}},
		{"bad int", head + "max_parallel = lots\n",
			wantProblem{4, "DEFAULT", "max_parallel", []string{`"lots" is not an integer`, "expected an integer"}}},
		{"bad size", head + "[disk#01]\ntype = gce\nnames = d1\nsize = 17q\n",
			wantProblem{7, "disk#01", "size", []string{`"17q" is not a size: expected a number with an optional unit (k, m, g, t), like 17g`}}},
		{"bad bool", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\ndisable@n2 = maybe\n",
			wantProblem{8, "fs#01", "disable@n2", []string{`"maybe" is not a boolean`, "expected true or false"}}},
		{"bad ip", head + "[ip#01]\ntype = gce\nipname = 10.0.0.300\nipdev = br0\nroutename = r\n",
			wantProblem{6, "ip#01", "ipname", []string{`"10.0.0.300" is not an ip address`, "expected an ip address"}}},
		{"bad duration", head + "[disk#01]\ntype = gce\nnames = d1\nattach_timeout = soon\n",
			wantProblem{7, "disk#01", "attach_timeout", []string{"not a duration", "expected a duration like 10s"}}},
		{"bad candidate", head + "[container#01]\ntype = docker\nrun_image = i\npull = sometimes\n",
			wantProblem{7, "container#01", "pull", []string{`"sometimes" is not one of missing, always, never`}}},
		{"bad service candidate", head + "topology = star\n",
			wantProblem{4, "DEFAULT", "topology", []string{"one of failover, flex"}}},
		{"missing required keyword", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\n",
			wantProblem{4, "fs#01", "mnt", []string{"missing required keyword mnt", "for node n1"}}},
		{"required keyword set for another node only", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt@n2 = /a\n",
			wantProblem{4, "fs#01", "mnt", []string{"missing required keyword mnt", "for node n1"}}},
		{"scoping on a non-scopable keyword", head + "[ip#01]\ntype = docker\nipname = 10.0.0.1\nipdev = br0\ncontainer_rid = container#01\ncontainer_rid@n1 = container#01\nnetmask = 24\n[container#01]\ntype = docker\nrun_image = i\n",
			wantProblem{9, "ip#01", "container_rid@n1", []string{"keyword container_rid cannot be scoped"}}},
		{"scoping on a non-scopable DEFAULT keyword", head + "nodes@n1 = n1\n",
			wantProblem{4, "DEFAULT", "nodes@n1", []string{"keyword nodes cannot be scoped"}}},
		{"scoping the type", head + "[fs#01]\ntype = ext4\ntype@n2 = xfs\ndev = /dev/sdb\nmnt = /a\n",
			wantProblem{6, "fs#01", "type@n2", []string{"keyword type cannot be scoped"}}},
		{"empty scope", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmnt_opt@ = rw\n",
			wantProblem{8, "fs#01", "mnt_opt@", []string{"empty scope after @"}}},
		{"scope naming no node", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmnt@n9 = /b\n",
			wantProblem{8, "fs#01", "mnt@n9", []string{`scope "n9" is not a node of the service`, "n1 n2"}}},
		{"duplicate keyword", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmnt = /b\n",
			wantProblem{8, "fs#01", "mnt", []string{"set more than once (lines 7, 8)"}}},
		{"section written twice", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\n\n[fs#01]\nmnt_opt = rw\n",
			wantProblem{9, "fs#01", "", []string{"section written again (first at line 4)"}}},
		{"DEFAULT driver keyword unfit for a driver that inherits it", head + "network = default\n[ip#01]\ntype = docker\nipname = 10.0.0.1\nipdev = br0\ncontainer_rid = container#01\nnetmask = 24\n[container#01]\ntype = docker\nrun_image = i\n",
			wantProblem{4, "DEFAULT", "network", []string{"bad value for the ip.docker resources (first: ip#01)", `"default" is not an ip address`}}},
		{"DEFAULT driver keyword unfit for every driver", head + "size = big\n",
			wantProblem{4, "DEFAULT", "size", []string{`"big" is not a size`}}},
		{"env reference cycle", head + "[env]\na = {env.b}\nb = x{env.a}\n",
			wantProblem{5, "env", "a", []string{"reference cycle through {env.a}"}}},
		{"container_rid naming no section", head + "[ip#01]\ntype = docker\nipname = 10.0.0.1\nipdev = br0\ncontainer_rid = container#02\nnetmask = 24\n",
			wantProblem{8, "ip#01", "container_rid", []string{`"container#02" names no section`}}},
		{"start_requires naming no section", head + "[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nstart_requires = disk#9\n",
			wantProblem{8, "fs#01", "start_requires", []string{`"disk#9" names no section`}}},
		{"node not in nodes", "[DEFAULT]\nnodes = a b\n",
			wantProblem{2, "DEFAULT", "nodes", []string{`node "n1" is not one of the service's nodes`}}},
		{"flex_primary not in nodes", head + "flex_primary = n7\n",
			wantProblem{4, "DEFAULT", "flex_primary", []string{`"n7" is not one of nodes (n1 n2)`}}},
		{"syntax error", head + "[fs#01]\ntype = ext4\nthis line has no delimiter\n",
			wantProblem{6, "", "", []string{"syntax error", "this line has no delimiter"}}},
		{"syntax error: unclosed section", head + "[fs#01\ntype = ext4\n",
			wantProblem{4, "", "", []string{"syntax error: unclosed section: [fs#01"}}},
		{"syntax error: empty section name", head + "[fs#01]\ntype = ext4\ndev = /a\nmnt = /a\n[]\n",
			wantProblem{8, "", "", []string{"syntax error: empty section name"}}},
		{"blank section name", head + "[ ]\n",
			wantProblem{4, " ", "", []string{"unknown section"}}},
		{"section name with a space", head + "[fs#01 ]\ntype = ext4\n",
			wantProblem{4, "fs#01 ", "", []string{"bad resource section name"}}},
		{"syntax error: empty key", head + "[fs#01]\n= ext4\n",
			wantProblem{5, "", "", []string{"syntax error: empty key name"}}},
		{"syntax error: continuation of nothing", "  nodes\n[DEFAULT]\nnodes = n1\n",
			wantProblem{1, "", "", []string{"syntax error: key-value delimiter not found: nodes: expected"}}},
		{"syntax error: unclosed triple quote", head + "[fs#01]\ntype = ext4\nmnt = \"\"\"/a\n",
			wantProblem{6, "", "", []string{"syntax error"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.conf, "n1", fake.Options{})
			ps := problems(t, err)
			require.Len(t, ps, 1, "%v", err)
			requireProblem(t, ps[0], tt.want)
			require.Contains(t, err.Error(), "invalid configuration: "+ps[0].String())
		})
	}
}

// manyErrorsConf has one problem of each kind: validation must report
// them all at once, in line order.
const manyErrorsConf = `[DEFAULT]
nodes = n1 n2
max_parallel = lots
flex_primry = n1
nodes@n1 = n1

[what]
x = 1

[fs#01]
type = zfs2
dev = /dev/sdb
mnt = /a

[fs#02]
type = ext4
dev = /dev/sdc
mnt_opts = rw
disable = maybe

[disk#01]
type = gce
names = d1
size = 17q
mnt = /a

[ip#01]
type = docker
ipname = 10.0.0.300
ipdev = br0
container_rid = container#02
container_rid@n2 = container#03

[fs#03]
type = ext4
dev = /dev/sdd
mnt = /c
mnt@n9 = /d
mnt_opt = a
mnt_opt = b
`

func TestValidationReportsAllProblems(t *testing.T) {
	_, err := parse(t, manyErrorsConf, "n1", fake.Options{})
	ps := problems(t, err)
	want := []wantProblem{
		{3, "DEFAULT", "max_parallel", []string{"not an integer"}},
		{4, "DEFAULT", "flex_primry", []string{"did you mean flex_primary?"}},
		{5, "DEFAULT", "nodes@n1", []string{"cannot be scoped"}},
		{7, "what", "", []string{"unknown section"}},
		{11, "fs#01", "type", []string{`unknown driver type "zfs2"`}},
		{15, "fs#02", "mnt", []string{"missing required keyword mnt"}},
		{18, "fs#02", "mnt_opts", []string{"did you mean mnt_opt?"}},
		{19, "fs#02", "disable", []string{"not a boolean"}},
		{24, "disk#01", "size", []string{"not a size"}},
		{25, "disk#01", "mnt", []string{"unknown keyword mnt"}},
		{27, "ip#01", "netmask", []string{"missing required keyword netmask"}},
		{29, "ip#01", "ipname", []string{"not an ip address"}},
		{31, "ip#01", "container_rid", []string{`"container#02" names no section`}},
		{32, "ip#01", "container_rid@n2", []string{"cannot be scoped"}},
		{32, "ip#01", "container_rid", []string{`"container#03" names no section`}},
		{38, "fs#03", "mnt@n9", []string{`scope "n9"`}},
		{40, "fs#03", "mnt_opt", []string{"set more than once (lines 39, 40)"}},
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	require.Len(t, ps, len(want), "%s", strings.Join(got, "\n"))
	for i, w := range want {
		requireProblem(t, ps[i], w)
	}
	require.Contains(t, err.Error(), "17 problems")
}

// TestLongValuesLoad: a run_args of 400 continuation lines (about 20 KiB,
// far beyond go-ini's 4 KiB lookahead) and a one-line value of 100 KiB
// load whole, and a problem after them still names its own line.
func TestLongValuesLoad(t *testing.T) {
	var args, want []string
	for i := range 400 {
		w := fmt.Sprintf("-e VAR_%03d=%s", i, strings.Repeat("v", 40))
		args = append(args, "    "+w)
		want = append(want, w)
	}
	long := strings.Repeat("x", 100<<10)
	conf := "[DEFAULT]\nnodes = n1\n\n" + // lines 1-3
		"[container#01]\ntype = docker\nrun_image = mariadb\n" + // 4-6
		"run_args = --net=none\n" + strings.Join(args, "\n") + "\n" + // 7-407
		"[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /srv/" + long + "\n" // 408-411
	require.Greater(t, len(conf), 100<<10+16<<10)

	s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Svcname: "svc1", Registry: fake.Registry(fake.Options{}), Root: t.TempDir(), NoTriggers: true})
	require.NoError(t, err)
	cfg, ok := s.Config("container#01")
	require.True(t, ok)
	require.Equal(t, "--net=none\n"+strings.Join(want, "\n"), cfg.Values["run_args"])
	fsCfg, ok := s.Config("fs#01")
	require.True(t, ok)
	require.Equal(t, "/srv/"+long, fsCfg.Values["mnt"])

	_, err = svc.Parse(t.Context(), "svc1.conf", []byte(conf+"[fs#02]\ntype = ext4\ndev = /dev/sdc\nmnt = /b\ndisable = lots\n"), svc.Options{Node: "n1", Svcname: "svc1", Registry: fake.Registry(fake.Options{}), Root: t.TempDir(), NoTriggers: true})
	var verr *svc.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Len(t, verr.Problems, 1, "%v", verr.Problems)
	requireProblem(t, verr.Problems[0], wantProblem{line: 416, section: "fs#02", keyword: "disable", contains: []string{"bad value", "lots"}})
}
