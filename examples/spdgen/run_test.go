package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc"
)

func spdgen(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestGenerateDefaults(t *testing.T) {
	out, errs, code := spdgen(t)
	require.Equal(t, 0, code, errs)
	require.Empty(t, errs)
	want, err := spd.Generate(spd.Inputs{NPods: 32, Svcname: "spdsvc01", App: "RIVER_SPD",
		Nodes: []string{"spd01", "spd02", "spd03", "spd04"}, SMImage: "tanji/spdc", DBImage: "mariadb"})
	require.NoError(t, err)
	require.Equal(t, string(want), out)
	// It loads in svc on every node without a validation problem.
	for _, n := range []string{"spd01", "spd02", "spd03", "spd04"} {
		_, err := svc.Parse(context.Background(), "spdsvc01.conf", []byte(out),
			svc.Options{Node: n, Root: t.TempDir(), Registry: fake.Registry(fake.Options{}), NoTriggers: true})
		require.NoError(t, err)
	}
}

func TestGenerateFlags(t *testing.T) {
	dir := t.TempDir()
	pwdFile := filepath.Join(dir, "pwd")
	require.NoError(t, os.WriteFile(pwdFile, []byte("Top secret!\n"), 0o600))
	out, errs, code := spdgen(t, "-npods", "10", "-svcname", "shop", "-app", "SHOP", "-nodes", "n1 n2 n3",
		"-dism", "tanji/spdc:2", "-didb", "mariadb:10", "-myrootpwd-file", pwdFile, "-format", "json")
	require.Equal(t, 0, code, errs)
	var l spd.Layout
	require.NoError(t, json.Unmarshal([]byte(out), &l))
	require.Equal(t, "shop", l.Svcname)
	require.Len(t, l.Pods, 10)
	require.Equal(t, map[string]int{"n1": 4, "n2": 3, "n3": 3}, l.Counts())
	require.Equal(t, "10.0.0.3", l.Pods[9].Gateway.String())
	require.NotContains(t, out, "Top secret")

	conf := filepath.Join(dir, "shop.conf")
	out, errs, code = spdgen(t, "-npods", "10", "-svcname", "shop", "-nodes", "n1 n2 n3", "-myrootpwd-file", pwdFile, "-o", conf)
	require.Equal(t, 0, code, errs)
	require.Empty(t, out, "the config goes to the file")
	st, err := os.Stat(conf)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	back, err := spd.ParseLayoutFile(conf)
	require.NoError(t, err)
	require.Equal(t, "Top secret!", back.RootPassword.Reveal())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary file left")
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		lines []string
	}{
		{"every problem", []string{"-npods", "200", "-nodes", "a1 a1", "-svcname", "Bad", "-dism", "x y"}, []string{
			"spdgen: -npods: 200 pods: the subnet holds at most 110 pods (2 addresses each from 10.0.0.33 to 10.0.0.253)",
			`spdgen: -svcname: "Bad" is not a GCE name: expected a lower case letter, then lower case letters, digits and dashes, not ending with a dash`,
			`spdgen: -nodes: node "a1" is listed twice`,
			`spdgen: -dism: "x y" contains a blank`,
		}},
		{"not an integer", []string{"-npods", "many"}, []string{`spdgen: -npods: "many" is not an integer`}},
		{"injection", []string{"-app", "A\n[DEFAULT]\nnodes = evil"}, []string{`spdgen: -app: "A\n[DEFAULT]\nnodes = evil" contains a line break`}},
		{"password", []string{"-myrootpwd", "open{sesame}"}, []string{"spdgen: -myrootpwd: contains a { later closed by a } with no blank between them, which the service config would read as a {reference}"}},
		{"unknown flag", []string{"-bogus"}, []string{"spdgen: flag provided but not defined: -bogus"}},
		{"argument", []string{"extra"}, []string{`spdgen: unexpected argument "extra": every input is a flag (-npods 32 -nodes "spd01 spd02" ...)`}},
		{"both passwords", []string{"-myrootpwd", "a", "-myrootpwd-file", "/nonexistent"}, []string{"spdgen: -myrootpwd and -myrootpwd-file: give one"}},
		{"format", []string{"-format", "xml", "-config", "x.conf"}, []string{`spdgen: -format "xml": expected text or json`, "spdgen: -config is only used with -relayout"}},
		{"relayout without its flags", []string{"-relayout", "-npods", "3", "-myrootpwd", "x"}, []string{
			"spdgen: -relayout needs -config FILE, the current config",
			"spdgen: -relayout needs -nodes, the new node list",
			"spdgen: -myrootpwd is not used with -relayout: the other inputs come from -config",
			"spdgen: -npods is not used with -relayout: the other inputs come from -config",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := spdgen(t, c.args...)
			require.Equal(t, 2, code)
			require.Empty(t, out, "nothing on stdout")
			require.Equal(t, strings.Join(c.lines, "\n")+"\n", errs)
			require.NotContains(t, errs, "sesame")
		})
	}
}

func TestRelayout(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "spdsvc01.conf")
	_, errs, code := spdgen(t, "-myrootpwd", "s3cr3t", "-o", conf)
	require.Equal(t, 0, code, errs)

	out, errs, code := spdgen(t, "-relayout", "-config", conf, "-nodes", "spd01 spd02 spd03 spd04 spd05")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "relayout of spdsvc01: 32 pods, 4 nodes -> 5 nodes, 6 pods move\n")
	require.Contains(t, out, "pod08  spd01                spd05                10.0.0.5     10.0.0.47 10.0.0.48\n")
	require.NotContains(t, out, "s3cr3t")

	newConf := filepath.Join(dir, "new.conf")
	out, errs, code = spdgen(t, "-relayout", "-config", conf, "-nodes", "spd01 spd03 spd04", "-format", "json", "-o", newConf)
	require.Equal(t, 0, code, errs)
	require.NotContains(t, out, "s3cr3t")
	var plan struct {
		Moves []spd.Move `json:"moves"`
		New   spd.Layout `json:"new"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plan))
	require.Len(t, plan.Moves, 8)
	for _, mv := range plan.Moves {
		require.Equal(t, "spd02", mv.From, "removing a node moves only its pods")
	}
	l, err := spd.ParseLayoutFile(newConf)
	require.NoError(t, err)
	require.Equal(t, plan.New.Counts(), l.Counts())
	require.Equal(t, "s3cr3t", l.RootPassword.Reveal(), "the new config keeps the password")

	// A config edited by hand is refused, one line per difference.
	data, err := os.ReadFile(conf)
	require.NoError(t, err)
	edited := strings.Replace(string(data), "size = 17g", "size = 18g", 2)
	require.NoError(t, os.WriteFile(conf, []byte(edited), 0o600))
	out, errs, code = spdgen(t, "-relayout", "-config", conf, "-nodes", "spd01 spd02")
	require.Equal(t, 2, code)
	require.Empty(t, out)
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	require.Len(t, lines, 3, errs)
	require.Contains(t, lines[0], "is not one spd generates")
	require.Regexp(t, `^spdgen: .*spdsvc01.conf: line \d+: \[disk#01\] size: "18g", expected "17g"$`, lines[1])
	require.Regexp(t, `^spdgen: .*spdsvc01.conf: line \d+: \[disk#02\] size: "18g", expected "17g"$`, lines[2])

	_, errs, code = spdgen(t, "-relayout", "-config", filepath.Join(dir, "missing.conf"), "-nodes", "spd01")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "no such file or directory")
}

func TestHelp(t *testing.T) {
	out, errs, code := spdgen(t, "-h")
	require.Equal(t, 0, code)
	require.Empty(t, out)
	require.True(t, strings.HasPrefix(errs, "usage:\n  spdgen [-npods N]"), errs)
	require.Contains(t, errs, "-relayout\n")
}
