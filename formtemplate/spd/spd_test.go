package spd

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/shlex"
	"github.com/stretchr/testify/require"
	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/formtemplate"
)

func nodeNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%02d", prefix, i+1)
	}
	return names
}

func inputs(npods int, nodes []string) Inputs {
	return Inputs{NPods: npods, Svcname: "spdsvc01", App: "RIVER_SPD", Nodes: nodes,
		SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "s3cr3t"}
}

func loadINI(t *testing.T, data []byte) *ini.File {
	t.Helper()
	// go-ini, independent of the reader ParseLayout uses, with the
	// options svc used before internal/inifile.
	f, err := ini.LoadSources(ini.LoadOptions{AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true,
		KeyValueDelimiters: "=", PreserveSurroundedQuote: true}, data)
	require.NoError(t, err)
	return f
}

// podsOf reads, from a generated config, the node each pod is enabled on
// and the gateway of its containers, checking every pod section agrees.
func podsOf(t *testing.T, f *ini.File, npods int, nodes []string) map[int]string {
	t.Helper()
	on := map[int]string{}
	for n := 1; n <= npods; n++ {
		p := Pod{Num: n}
		var node string
		for _, rid := range p.RIDs() {
			s, err := f.GetSection(rid)
			require.NoError(t, err, "pod %d", n)
			require.Equal(t, "true", s.Key("disable").String(), rid)
			var enabled []string
			for _, k := range s.Keys() {
				if nd, ok := strings.CutPrefix(k.Name(), "disable@"); ok {
					require.Equal(t, "false", k.String(), rid)
					enabled = append(enabled, nd)
				}
			}
			require.Len(t, enabled, 1, rid)
			if node == "" {
				node = enabled[0]
			}
			require.Equal(t, node, enabled[0], "%s is enabled on another node than its pod", rid)
		}
		i := slices.Index(nodes, node)
		require.GreaterOrEqual(t, i, 0, "pod %d is on %q, not a node", n, node)
		for _, rid := range []string{"ip#" + p.ID() + "sm", "ip#" + p.ID() + "db"} {
			require.Equal(t, "10.0.0."+strconv.Itoa(i+1), f.Section(rid).Key("gateway").String(), rid)
		}
		on[n] = node
	}
	_, err := f.GetSection("disk#" + Pod{Num: npods + 1}.ID())
	require.Error(t, err, "no pod beyond npods")
	return on
}

func TestUnevenLayouts(t *testing.T) {
	cases := []struct {
		npods  int
		nodes  int
		counts []int
	}{
		{10, 4, []int{3, 3, 2, 2}},
		{33, 4, []int{9, 8, 8, 8}},
		{3, 5, []int{1, 1, 1, 0, 0}},
		{1, 3, []int{1, 0, 0}},
		{110, 32, append(slices.Repeat([]int{4}, 14), slices.Repeat([]int{3}, 18)...)},
		{7, 1, []int{7}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d", c.npods, c.nodes), func(t *testing.T) {
			nodes := nodeNames("spd", c.nodes)
			cfg, err := Generate(inputs(c.npods, nodes))
			require.NoError(t, err)
			require.NotContains(t, string(cfg), "undefined")
			f := loadINI(t, cfg)
			on := podsOf(t, f, c.npods, nodes)
			counts := make([]int, c.nodes)
			prev := 0
			for n := 1; n <= c.npods; n++ {
				i := slices.Index(nodes, on[n])
				require.GreaterOrEqual(t, i, prev, "pods run in contiguous ranges in node order")
				prev = i
				counts[i]++
			}
			require.Equal(t, c.counts, counts)
			// Every node has its disk#00 instance disk.
			for _, n := range nodes {
				require.Equal(t, "spdsvc01-"+n, f.Section("disk#00").Key("names@"+n).String())
			}
		})
	}
}

func TestAddressesAndNames(t *testing.T) {
	cfg, err := Generate(inputs(110, nodeNames("spd", 32)))
	require.NoError(t, err)
	f := loadINI(t, cfg)
	seen := map[string]string{}
	for n := 1; n <= 110; n++ {
		id := Pod{Num: n}.ID()
		require.Equal(t, "spdsvc01-pod"+strconv.Itoa(n), f.Section("disk#"+id).Key("names").String())
		require.Equal(t, "/dev/disk/by-id/google-spdsvc01.disk."+id+".0", f.Section("fs#"+id).Key("dev").String())
		for _, role := range []string{"sm", "db"} {
			ip := f.Section("ip#" + id + role).Key("ipname").String()
			require.Equal(t, ip, f.Section("ip#"+id+role+"g").Key("ipname").String())
			a := netip.MustParseAddr(ip)
			require.Equal(t, "rt-ip"+strconv.Itoa(int(a.As4()[3])), f.Section("ip#"+id+role+"g").Key("routename").String())
			require.NotContains(t, seen, ip, "address reused")
			seen[ip] = id + role
			require.Equal(t, "container#"+id+role, f.Section("ip#"+id+role).Key("container_rid").String())
		}
	}
	require.Equal(t, "01sm", seen["10.0.0.33"])
	require.Equal(t, "110db", seen["10.0.0.252"])
}

func TestValidateRejects(t *testing.T) {
	ok := inputs(32, nodeNames("spd", 4))
	cases := []struct {
		name   string
		mutate func(*Inputs)
		input  string
		msg    string
	}{
		{"no pod", func(in *Inputs) { in.NPods = 0 }, InputNPods, "at least 1"},
		{"too many pods", func(in *Inputs) { in.NPods = 111 }, InputNPods, "at most 110 pods"},
		{"too many nodes", func(in *Inputs) { in.Nodes = nodeNames("n", 33) }, InputNodes, "at most 32"},
		{"no node", func(in *Inputs) { in.Nodes = nil }, InputNodes, "at least one node"},
		{"empty node", func(in *Inputs) { in.Nodes = []string{"spd01", ""} }, InputNodes, "is empty"},
		{"duplicate node", func(in *Inputs) { in.Nodes = []string{"spd01", "spd02", "spd01"} }, InputNodes, `"spd01" is listed twice`},
		{"node newline", func(in *Inputs) { in.Nodes = []string{"spd01\n[DEFAULT]"} }, InputNodes, "line break"},
		{"node bracket", func(in *Inputs) { in.Nodes = []string{"spd]"} }, InputNodes, `"]"`},
		{"node upper case", func(in *Inputs) { in.Nodes = []string{"SPD01"} }, InputNodes, "not a GCE name"},
		{"node at", func(in *Inputs) { in.Nodes = []string{"spd@1"} }, InputNodes, "not a GCE name"},
		{"node named nodes", func(in *Inputs) { in.Nodes = []string{"nodes", "n2"} }, InputNodes, `"nodes" is a scope word`},
		{"node named drpnodes", func(in *Inputs) { in.Nodes = []string{"n1", "drpnodes"} }, InputNodes, `"drpnodes" is a scope word`},
		{"node named encapnodes", func(in *Inputs) { in.Nodes = []string{"encapnodes"} }, InputNodes, "scope word"},
		{"node named flex_primary", func(in *Inputs) { in.Nodes = []string{"flex_primary"} }, InputNodes, "not a GCE name"},
		{"node too long", func(in *Inputs) { in.Nodes = []string{"n" + strings.Repeat("x", 63)} }, InputNodes, "at most 63"},
		{"disk name too long", func(in *Inputs) { in.Nodes = []string{"n" + strings.Repeat("x", 60)} }, InputNodes, "more than 63 characters"},
		{"svcname space", func(in *Inputs) { in.Svcname = "spd svc" }, InputSvcname, "a blank"},
		{"svcname equal", func(in *Inputs) { in.Svcname = "a=b" }, InputSvcname, `"="`},
		{"svcname digit first", func(in *Inputs) { in.Svcname = "1spd" }, InputSvcname, "not a GCE name"},
		{"svcname trailing dash", func(in *Inputs) { in.Svcname = "spd-" }, InputSvcname, "not a GCE name"},
		{"svcname pod disk too long", func(in *Inputs) { in.Svcname = "s" + strings.Repeat("x", 57) }, InputSvcname, "disk name"},
		{"app hash", func(in *Inputs) { in.App = "RIVER#SPD" }, InputApp, `"#"`},
		{"app brace", func(in *Inputs) { in.App = "{svcname}" }, InputApp, `"{"`},
		{"app newline", func(in *Inputs) { in.App = "A\nnodes = evil" }, InputApp, "line break"},
		{"app empty", func(in *Inputs) { in.App = "" }, InputApp, "is empty"},
		{"image space", func(in *Inputs) { in.SMImage = "tanji/spdc --privileged" }, InputSMImage, "a blank"},
		{"image newline", func(in *Inputs) { in.DBImage = "mariadb\n    -v /:/host" }, InputDBImage, "line break"},
		{"image upper case", func(in *Inputs) { in.DBImage = "MariaDB" }, InputDBImage, "not a docker image reference"},
		{"password newline", func(in *Inputs) { in.RootPassword = "top\nsecret" }, InputRootPwd, "line break"},
		{"password control", func(in *Inputs) { in.RootPassword = "top\x00secret" }, InputRootPwd, "control character"},
		{"password reference", func(in *Inputs) { in.RootPassword = "abc{nodename}" }, InputRootPwd, "{reference}"},
		{"password reference in braces", func(in *Inputs) { in.RootPassword = "{{x}" }, InputRootPwd, "{reference}"},
		{"password blanks and both quotes", func(in *Inputs) { in.RootPassword = `it's "a" secret` }, InputRootPwd, "both kinds of quotes"},
		{"password too long", func(in *Inputs) { in.RootPassword = Secret(strings.Repeat("secret", 200)) }, InputRootPwd, "longer than 1024 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok
			in.Nodes = slices.Clone(ok.Nodes)
			c.mutate(&in)
			cfg, err := Generate(in)
			require.Error(t, err)
			require.Nil(t, cfg, "nothing is generated from bad input")
			var verr *formtemplate.ValidationError
			require.ErrorAs(t, err, &verr)
			msgs := verr.ByInput()[c.input]
			require.NotEmpty(t, msgs, "problems: %v", verr.Problems)
			require.Contains(t, strings.Join(msgs, "\n"), c.msg)
			require.NotContains(t, err.Error(), "secret", "the password is not in the error")
		})
	}
	require.NoError(t, ok.Validate())
}

func TestValidateReportsEverything(t *testing.T) {
	in := Inputs{NPods: 200, Svcname: "Bad Name", App: "a]", Nodes: []string{"x", "x"}, SMImage: "", DBImage: "a b", RootPassword: "a\nb"}
	err := in.Validate()
	var verr *formtemplate.ValidationError
	require.ErrorAs(t, err, &verr)
	got := map[string]bool{}
	for id := range verr.ByInput() {
		got[id] = true
	}
	require.Equal(t, map[string]bool{InputNPods: true, InputSvcname: true, InputApp: true, InputNodes: true,
		InputSMImage: true, InputDBImage: true, InputRootPwd: true}, got)
}

func TestPasswordQuoting(t *testing.T) {
	passwords := []string{
		"s3cr3t",
		"with space",
		" leading and trailing ",
		`back\slash\`,
		`quotes'and"double`,
		"hash #comment",
		"semi ;colon",
		"${nodename}",
		"{ nodename }",
		"}{",
		"open{",
		"it's a secret",
		`say "hi" there`,
		`it's_"quoted"`,
		`with' 'space`,
		" lead",
		"trail ",
		`spaced \ back\slash "`,
		"%(app)s",
		"dollar $HOME `id` $(id)",
		"équipe-ünïcode-密码",
		"=== = ===",
		"[DEFAULT]",
		"-v /:/host",
		`\`,
		"'",
		"#",
	}
	for _, pw := range passwords {
		t.Run(pw, func(t *testing.T) {
			in := inputs(4, []string{"spd01", "spd02"})
			in.RootPassword = Secret(pw)
			cfg, err := Generate(in)
			require.NoError(t, err)
			f := loadINI(t, cfg)
			containers := 0
			for _, s := range f.Sections() {
				for _, k := range s.Keys() {
					isArgs := strings.HasPrefix(s.Name(), "container#") && k.Name() == "run_args"
					if !isArgs {
						if len(pw) > 2 {
							require.NotContains(t, k.Value(), pw, "[%s] %s", s.Name(), k.Name())
						}
						continue
					}
					containers++
					words, err := shlex.Split(k.Value())
					require.NoError(t, err)
					i := slices.Index(words, "-e")
					require.GreaterOrEqual(t, i, 0)
					require.Equal(t, "MYSQL_ROOT_PASSWORD="+pw, words[i+1], "[%s] run_args", s.Name())
					require.Len(t, words, 11, "the password is one word: %q", words)
				}
			}
			require.Equal(t, 8, containers)
			// The config is also read back to the same password.
			l, err := ParseLayout(cfg)
			require.NoError(t, err)
			require.Equal(t, pw, l.RootPassword.Reveal())
		})
	}
}

func TestEmptyPasswordKeepsTheReferenceArgument(t *testing.T) {
	in := inputs(2, []string{"spd01"})
	in.RootPassword = ""
	cfg, err := Generate(in)
	require.NoError(t, err)
	words, err := shlex.Split(loadINI(t, cfg).Section("container#01db").Key("run_args").Value())
	require.NoError(t, err)
	require.Equal(t, []string{"--net=none", "-e", "MYSQL_ROOT_PASSWORD=",
		"-v", "/etc/localtime:/etc/localtime:ro",
		"-v", "/spdsvc01/pod01/db/data:/var/lib/mysql:rw",
		"-v", "/spdsvc01/pod01/db/conf:/etc/mysql/conf.d:rw",
		"-v", "/spdsvc01/pod01/db/init:/docker-entrypoint-initdb.d:rw"}, words)
}

func TestSecretsDoNotPrint(t *testing.T) {
	const pw = "Very-Secret-42"
	l, err := NewLayout(Inputs{NPods: 8, Svcname: "spd", App: "A", Nodes: []string{"n1", "n2"}, SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: pw})
	require.NoError(t, err)
	plan, err := Relayout(l, []string{"n1", "n2", "n3"})
	require.NoError(t, err)
	require.Contains(t, string(plan.Config), pw, "the new config carries the password")
	js, err := json.Marshal(plan)
	require.NoError(t, err)
	inJS, err := json.Marshal(l.Inputs())
	require.NoError(t, err)
	for what, s := range map[string]string{
		"%v layout": fmt.Sprintf("%v", l), "%+v layout": fmt.Sprintf("%+v", l), "%#v layout": fmt.Sprintf("%#v", l),
		"%v inputs": fmt.Sprintf("%v", l.Inputs()), "Sprint secret": fmt.Sprint(l.RootPassword),
		"plan text": plan.String(), "plan json": string(js), "inputs json": string(inJS),
	} {
		require.NotContains(t, s, pw, what)
	}
}

func TestParseLayoutRoundTrip(t *testing.T) {
	for _, c := range []struct{ npods, nodes int }{{32, 4}, {10, 4}, {3, 5}, {110, 32}, {1, 1}} {
		t.Run(fmt.Sprintf("%dx%d", c.npods, c.nodes), func(t *testing.T) {
			want, err := NewLayout(inputs(c.npods, nodeNames("spd", c.nodes)))
			require.NoError(t, err)
			cfg, err := want.Config()
			require.NoError(t, err)
			got, err := ParseLayout(cfg)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

// TestParseLayoutReadsReformatted checks that a config that is not byte for
// byte the generated one, but says the same (comments, spacing, blank
// lines, sections and keys in another order), still gives its layout:
// the byte comparison is a shortcut, not the rule.
func TestParseLayoutReadsReformatted(t *testing.T) {
	want, err := NewLayout(inputs(10, nodeNames("spd", 3)))
	require.NoError(t, err)
	cfg, err := want.Config()
	require.NoError(t, err)
	text := string(cfg)
	edits := map[string]func(string) string{
		"comment and blank lines": func(s string) string { return "# edited by nobody\n\n" + strings.ReplaceAll(s, "\n[", "\n\n[") },
		"spaces around =":         func(s string) string { return strings.ReplaceAll(s, " = ", "   =   ") },
		"sections reversed": func(s string) string {
			parts := strings.SplitAfter(s, "\n[")
			head := parts[0][:len(parts[0])-1]
			var secs []string
			for i, p := range parts[1:] {
				if i < len(parts)-2 {
					p = p[:len(p)-1]
				}
				secs = append(secs, "["+strings.TrimSuffix(p, "\n")+"\n")
			}
			slices.Reverse(secs)
			return head + strings.Join(secs, "")
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			edited := edit(text)
			require.NotEqual(t, text, edited, "the edit applies")
			got, err := ParseLayout([]byte(edited))
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

func TestParseLayoutRefusesEdits(t *testing.T) {
	cfg, err := Generate(inputs(8, []string{"spd01", "spd02"}))
	require.NoError(t, err)
	text := string(cfg)
	lineOf := func(s string) int { return strings.Count(text[:strings.Index(text, s)], "\n") + 1 }
	cases := []struct {
		name    string
		edit    func(string) string
		message string
	}{
		{"changed value", func(s string) string {
			return strings.Replace(s, "mnt = /spdsvc01/pod03\nmnt_opt = defaults,rw", "mnt = /spdsvc01/pod03\nmnt_opt = defaults,ro", 1)
		}, fmt.Sprintf(`line %d: [fs#03] mnt_opt: "defaults,ro", expected "defaults,rw"`, lineOf("mnt = /spdsvc01/pod03")+1)},
		{"added key", func(s string) string {
			return strings.Replace(s, "[fs#02]\n", "[fs#02]\nlabel = -m 0\n", 1)
		}, fmt.Sprintf(`line %d: [fs#02] label: unexpected key = "-m 0"`, lineOf("[fs#02]")+1)},
		{"removed section", func(s string) string {
			i := strings.Index(s, "[ip#04dbg]")
			j := strings.Index(s, "[ip#04db]")
			return s[:i] + s[j:]
		}, "[ip#04dbg]: missing section"},
		{"other image on one pod", func(s string) string {
			return strings.Replace(s, "[container#05db]\ntags = db db.container db.container.pod05 pod05\ntype = docker\nsubset = containers\nrun_image = mariadb",
				"[container#05db]\ntags = db db.container db.container.pod05 pod05\ntype = docker\nsubset = containers\nrun_image = mariadb:11", 1)
		}, `[container#05db] run_image: "mariadb:11", expected "mariadb"`},
		{"other password on one pod", func(s string) string {
			i := strings.Index(s, "[container#06sm]")
			return s[:i] + strings.Replace(s[i:], "MYSQL_ROOT_PASSWORD=s3cr3t", "MYSQL_ROOT_PASSWORD=other", 1)
		}, "[container#06sm] run_args: word 3 differs"},
		{"root password in another key", func(s string) string {
			return strings.Replace(s, "[fs#02]\n", "[fs#02]\nlabel = s3cr3t\n", 1)
		}, `[fs#02] label: unexpected key = "xxxx"`},
		{"secret-named variable in a new key", func(s string) string {
			return strings.Replace(s, "[fs#02]\n", "[fs#02]\nlabel = -E DB_PASSWORD=hunter22\n", 1)
		}, `label: unexpected key = "-E DB_PASSWORD=xxxx"`},
		{"pod on no node", func(s string) string {
			return strings.Replace(s, "disable@spd01 = false\n", "", 1)
		}, "[disk#01]: expected one disable@<node> = false"},
		{"pod on an unknown node", func(s string) string {
			return strings.ReplaceAll(s, "disable@spd02 = false", "disable@spd09 = false")
		}, `pod05 is on "spd09", which is not in nodes`},
		{"key written twice", func(s string) string {
			return strings.Replace(s, "[fs#02]\n", "[fs#02]\nmnt_opt = defaults,ro\n", 1)
		}, fmt.Sprintf(`line %d: [fs#02] mnt_opt: set again (first at line %d)`, lineOf("mnt = /spdsvc01/pod02")+1+1, lineOf("[fs#02]")+1)},
		{"section written twice", func(s string) string {
			return s + "\n[fs#02]\nmnt_opt = defaults,ro\n"
		}, fmt.Sprintf(`line %d: [fs#02]: section written again (first at line %d)`, strings.Count(text, "\n")+2, lineOf("[fs#02]"))},
		{"scoped command line", func(s string) string {
			return strings.Replace(s, "[container#03sm]\n", "[container#03sm]\nrun_args@spd01 = -e MYSQL_ROOT_PASSWORD=s3cr3t\n", 1)
		}, `[container#03sm] run_args@spd01: unexpected key = (a command line)`},
		{"missing pod", func(s string) string {
			return strings.Replace(s, "[disk#02]", "[disk#99]", 1)
		}, "pod 2 is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edited := c.edit(text)
			require.NotEqual(t, text, edited, "the edit applies")
			_, err := ParseLayout([]byte(edited))
			require.Error(t, err)
			require.Contains(t, err.Error(), c.message)
			require.NotContains(t, err.Error(), "s3cr3t")
			require.NotContains(t, err.Error(), "hunter22")
		})
	}
}

func TestRelayout(t *testing.T) {
	cases := []struct {
		name     string
		npods    int
		from, to []string
		moves    int
		// movedFrom, when set, is the only node pods leave.
		movedFrom string
	}{
		{"grow 4 to 5", 32, nodeNames("spd", 4), nodeNames("spd", 5), 6, ""},
		{"remove spd02", 32, nodeNames("spd", 4), []string{"spd01", "spd03", "spd04"}, 8, "spd02"},
		{"remove spd04", 32, nodeNames("spd", 4), nodeNames("spd", 3), 8, "spd04"},
		{"same nodes", 32, nodeNames("spd", 4), nodeNames("spd", 4), 0, ""},
		{"reordered nodes", 32, nodeNames("spd", 4), []string{"spd04", "spd02", "spd03", "spd01"}, 0, ""},
		{"replace a node", 32, nodeNames("spd", 4), []string{"spd01", "spd02", "spd03", "spd05"}, 8, "spd04"},
		{"uneven grow", 10, nodeNames("spd", 3), nodeNames("spd", 4), 2, ""},
		{"shrink to one", 9, nodeNames("spd", 3), []string{"spd02"}, 6, ""},
		{"grow past the pods", 3, nodeNames("spd", 1), nodeNames("spd", 5), 2, ""},
		{"grow 4 to 32", 110, nodeNames("spd", 4), nodeNames("spd", 32), 110 - 4*4, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, err := NewLayout(inputs(c.npods, c.from))
			require.NoError(t, err)
			plan, err := Relayout(old, c.to)
			require.NoError(t, err)
			require.Len(t, plan.Moves, c.moves)
			checkPlan(t, plan, c.to)
			for _, mv := range plan.Moves {
				if c.movedFrom != "" {
					require.Equal(t, c.movedFrom, mv.From)
				}
			}
			require.Equal(t, bestMoves(old, c.to), len(plan.Moves), "the fewest moves")
		})
	}
}

// checkPlan verifies what every plan must hold: balance, moves that are
// exactly the pods whose node changed, addresses kept, gateways of the
// new nodes, and a config that reads back as the new layout.
func checkPlan(t *testing.T, plan Plan, nodes []string) {
	t.Helper()
	require.Equal(t, nodes, plan.New.NodeNames())
	counts := plan.New.Counts()
	lo, hi := len(plan.New.Pods), 0
	for _, n := range nodes {
		lo, hi = min(lo, counts[n]), max(hi, counts[n])
	}
	require.LessOrEqual(t, hi-lo, 1, "balanced: %v", counts)
	moved := map[int]Move{}
	for _, mv := range plan.Moves {
		moved[mv.Pod] = mv
	}
	for i, p := range plan.New.Pods {
		o := plan.Old.Pods[i]
		require.Equal(t, o.SMIP, p.SMIP, "addresses follow the pod")
		require.Equal(t, o.DBIP, p.DBIP)
		n, ok := plan.New.Node(p.Node)
		require.True(t, ok)
		require.Equal(t, n.Gateway, p.Gateway)
		mv, isMoved := moved[p.Num]
		require.Equal(t, o.Node != p.Node, isMoved, "pod %d", p.Num)
		if isMoved {
			require.Equal(t, Move{Pod: p.Num, Tag: p.Tag(), From: o.Node, To: p.Node, SMIP: p.SMIP, DBIP: p.DBIP, Gateway: n.Gateway}, mv)
		}
	}
	before := plan.Old.Counts()
	for _, n := range plan.New.Nodes {
		if o, ok := plan.Old.Node(n.Name); ok && before[n.Name] > 0 && counts[n.Name] > 0 {
			require.Equal(t, o.Gateway, n.Gateway, "a staying node that keeps pods keeps its gateway")
		}
	}
	require.NoError(t, plan.New.Validate())
	back, err := ParseLayout(plan.Config)
	require.NoError(t, err)
	require.Equal(t, plan.New, back)
}

// bestMoves is the fewest moves of any balanced layout: the pods of
// removed nodes plus, for each node, what it holds beyond its share. Up
// to 12 nodes, by brute force over which nodes take the larger shares;
// beyond, by counting: each larger share saves one move on a node that
// holds more than the smaller share.
func bestMoves(old Layout, nodes []string) int {
	n, m := len(old.Pods), len(nodes)
	counts := old.Counts()
	removed := n
	for _, name := range nodes {
		removed -= counts[name]
	}
	if m > 12 {
		moves, over := removed, 0
		for _, name := range nodes {
			if c := counts[name]; c > n/m {
				moves += c - n/m
				over++
			}
		}
		return moves - min(over, n%m)
	}
	best := -1
	for mask := 0; mask < 1<<m; mask++ {
		if bitsSet(mask) != n%m {
			continue
		}
		moves := removed
		for i, name := range nodes {
			share := n / m
			if mask&(1<<i) != 0 {
				share++
			}
			moves += max(0, counts[name]-share)
		}
		if best < 0 || moves < best {
			best = moves
		}
	}
	return best
}

func bitsSet(x int) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

// Relayouts chained from random layouts stay minimal and consistent.
func TestRelayoutChains(t *testing.T) {
	steps := [][]string{
		nodeNames("spd", 3),
		{"spd01", "spd02", "spd03", "spd04", "spd05", "spd06", "spd07"},
		{"spd02", "spd04", "spd06"},
		{"spd06", "spd08", "spd09", "spd10"},
		{"spd10"},
		nodeNames("spd", 8),
	}
	for _, npods := range []int{1, 7, 20, 32, 57} {
		l, err := NewLayout(inputs(npods, steps[0]))
		require.NoError(t, err)
		for _, nodes := range steps[1:] {
			plan, err := Relayout(l, nodes)
			require.NoError(t, err)
			checkPlan(t, plan, nodes)
			require.Equal(t, bestMoves(l, nodes), len(plan.Moves), "%d pods to %v", npods, nodes)
			l = plan.New
		}
	}
}

func TestRelayoutGateways(t *testing.T) {
	old, err := NewLayout(inputs(8, []string{"spd01", "spd02", "spd03"}))
	require.NoError(t, err)
	// spd01 leaves, spd09 comes first: 10.0.0.1 is free again and taken by
	// spd09; spd02 and spd03 keep theirs; spd04 would take .4 at position 3.
	plan, err := Relayout(old, []string{"spd09", "spd03", "spd02", "spd04"})
	require.NoError(t, err)
	gw := map[string]string{}
	for _, n := range plan.New.Nodes {
		gw[n.Name] = n.Gateway.String()
	}
	require.Equal(t, map[string]string{"spd09": "10.0.0.1", "spd03": "10.0.0.3", "spd02": "10.0.0.2", "spd04": "10.0.0.4"}, gw)
	// A new node whose position collides with a staying node's gateway
	// takes the lowest free one.
	plan, err = Relayout(old, []string{"spd02", "spd03", "spd07"})
	require.NoError(t, err)
	n, _ := plan.New.Node("spd07")
	require.Equal(t, "10.0.0.1", n.Gateway.String())
}

func TestRelayoutRejects(t *testing.T) {
	old, err := NewLayout(inputs(8, nodeNames("spd", 2)))
	require.NoError(t, err)
	for _, c := range []struct {
		nodes []string
		msg   string
	}{
		{nil, "at least one node"},
		{[]string{"spd01", "spd01"}, "listed twice"},
		{[]string{"spd01", "bad node"}, "a blank"},
		{nodeNames("n", 33), "at most 32"},
	} {
		_, err := Relayout(old, c.nodes)
		require.ErrorContains(t, err, c.msg)
	}
	broken := old.clone()
	broken.Pods[3].Node = "elsewhere"
	_, err = Relayout(broken, nodeNames("spd", 3))
	require.ErrorContains(t, err, "current layout")
}

func TestSubmitForm(t *testing.T) {
	in, err := Submit(map[string]any{"npods": "8", "nodes": "a1 a2", "myrootpwd": "pw"})
	require.NoError(t, err)
	require.Equal(t, Inputs{NPods: 8, Svcname: "spdsvc01", App: "RIVER_SPD", Nodes: []string{"a1", "a2"},
		SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "pw"}, in)

	_, err = Submit(map[string]any{"npods": "many", "nodes": "a1 a1", "svcname": "Bad", "color": "red"})
	var verr *formtemplate.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []string{`"many" is not an integer`}, verr.ByInput()[InputNPods])
	require.Equal(t, []string{"not an input of the form"}, verr.ByInput()["color"])
	// Form-level problems stop before the spd checks; once the types are
	// right, the spd checks all report.
	_, err = Submit(map[string]any{"npods": 500, "nodes": "a1 a1", "svcname": "Bad"})
	require.ErrorAs(t, err, &verr)
	require.Len(t, verr.ByInput(), 3, "%v", verr.Problems)
}

func TestSeedFormGeneratesThroughFormtemplate(t *testing.T) {
	form, err := formtemplate.LoadYAMLFile("../testdata/seed-form.yaml")
	require.NoError(t, err)
	// The collector's form posts its Mangle's result; here the output is
	// given the spd generator instead.
	form.Outputs[0].Generator = GeneratorName
	gens := formtemplate.NewGenerators()
	require.NoError(t, Register(gens))
	values, err := form.Submit(map[string]any{"myrootpwd": "s3cr3t"})
	require.NoError(t, err)
	docs, err := form.Generate(values, gens)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	want, err := Generate(inputs(32, nodeNames("spd", 4)))
	require.NoError(t, err)
	require.Equal(t, string(want), string(docs[0].Data))

	// Bad answers reach the generator's checks as a validation error.
	values, err = form.Submit(map[string]any{"nodes": "spd01 spd01"})
	require.NoError(t, err, "the collector form types nodes as a free string")
	_, err = form.Generate(values, gens)
	var verr *formtemplate.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	require.Contains(t, verr.ByInput(), InputNodes)
}

func BenchmarkGenerate110PodsOn32Nodes(b *testing.B) {
	in := inputs(110, nodeNames("spd", 32))
	var size int
	for b.Loop() {
		cfg, err := Generate(in)
		if err != nil {
			b.Fatal(err)
		}
		size = len(cfg)
	}
	b.SetBytes(int64(size))
}

func BenchmarkParseLayout110PodsOn32Nodes(b *testing.B) {
	cfg, err := Generate(inputs(110, nodeNames("spd", 32)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseLayout(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLayoutVsGenerate110 alternates one Generate and one
// ParseLayout of the same 110 pods on 32 nodes and reports the ratio of
// their times: on a shared machine both see the same load, where two
// separate benchmarks drift apart. ParseLayout is meant to stay within
// 3x Generate (it regenerates the config to compare it).
func BenchmarkParseLayoutVsGenerate110(b *testing.B) {
	in := inputs(110, nodeNames("spd", 32))
	var gen, parse time.Duration
	for b.Loop() {
		t0 := time.Now()
		cfg, err := Generate(in)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		l, err := ParseLayout(cfg)
		if err != nil {
			b.Fatal(err)
		}
		parse += time.Since(t1)
		gen += t1.Sub(t0)
		if len(l.Pods) != 110 {
			b.Fatalf("%d pods", len(l.Pods))
		}
	}
	b.ReportMetric(float64(gen.Nanoseconds())/float64(b.N), "generate-ns/op")
	b.ReportMetric(float64(parse.Nanoseconds())/float64(b.N), "parse-ns/op")
	b.ReportMetric(float64(parse)/float64(gen), "parse/generate")
}

func BenchmarkRelayout110PodsFrom31To32Nodes(b *testing.B) {
	old, err := NewLayout(inputs(110, nodeNames("spd", 31)))
	if err != nil {
		b.Fatal(err)
	}
	nodes := nodeNames("spd", 32)
	for b.Loop() {
		if _, err := Relayout(old, nodes); err != nil {
			b.Fatal(err)
		}
	}
}

// TestShellKeysComeFromTheManifests checks the command-line keywords Diff
// splits and hides are the manifests' driver.Shell ones, scoped or not.
func TestShellKeysComeFromTheManifests(t *testing.T) {
	for _, k := range []string{"run_args", "run_command", "pre_provision", "post_provision", "pre_start", "post_start", "pre_stop", "post_stop", "run_args@spd01"} {
		require.True(t, isShell(k), k)
	}
	for _, k := range []string{"run_image", "mnt", "disable@spd01", "tags"} {
		require.False(t, isShell(k), k)
	}
	d, err := Diff([]byte("[container#01sm]\npost_start@n1 = echo 'a  b'\n"), []byte("[container#01sm]\npost_start@n1 = echo   \"a  b\"\n"))
	require.NoError(t, err)
	require.Empty(t, d, "command lines compare word by word")
}
