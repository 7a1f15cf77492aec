package formtemplate

import (
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/shlex"
	"github.com/stretchr/testify/require"
	"gopkg.in/ini.v1"
)

func TestLoadSeedForm(t *testing.T) {
	f, err := LoadYAMLFile("testdata/seed-form.yaml")
	require.NoError(t, err)
	require.Equal(t, "RIVER SPD service configuration generator", f.Label)
	require.Equal(t, "svc48", f.CSS)
	require.Contains(t, f.Description, "Spider cluster sizing")
	type row struct {
		ID        string
		Type      Type
		Mandatory bool
		Default   string
	}
	var got []row
	for _, in := range f.Inputs {
		got = append(got, row{in.ID, in.Type, in.Mandatory, in.Default})
	}
	require.Equal(t, []row{
		{"npods", Integer, true, "32"},
		{"svcname", String, true, "spdsvc01"},
		{"app", String, true, "RIVER_SPD"},
		{"nodes", String, true, "spd01 spd02 spd03 spd04"},
		{"dism", String, true, "tanji/spdc"},
		{"didb", String, true, "mariadb"},
		{"myrootpwd", String, false, ""},
	}, got)
	pwd, ok := f.Input("myrootpwd")
	require.True(t, ok)
	require.Equal(t, "MariaDB&Spider root password", pwd.Label)
	require.Equal(t, "lock", pwd.LabelCSS)
	require.Equal(t, "db root pwd", pwd.DisplayModeLabel)

	require.Len(t, f.Outputs, 1)
	o := f.Outputs[0]
	require.Equal(t, []string{"json", "dict", "rest", "/services", "POST"}, []string{o.Type, o.Format, o.Dest, o.Function, o.Handler})
	require.True(t, strings.HasPrefix(o.Mangle, "function(data) {"), "the Mangle is kept as text")

	// The Mangle is never run.
	values, err := f.Submit(nil)
	require.NoError(t, err)
	_, err = f.Generate(values, nil)
	require.ErrorContains(t, err, "Mangle function is not run")
}

func TestLoadSeedFormWithoutMangle(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-form.yaml")
	require.NoError(t, err)
	// Cut the Mangle block and give the output a template instead.
	text := string(data)
	start := strings.Index(text, "    Mangle: |")
	end := strings.Index(text, "Inputs:")
	require.Positive(t, start)
	text = text[:start] + "    Template: \"{{.svcname}} on {{.nodes}}\"\n\n" + text[end:]
	f, err := LoadYAML([]byte(text))
	require.NoError(t, err)
	values, err := f.Submit(map[string]any{"svcname": "spdsvc02"})
	require.NoError(t, err)
	docs, err := f.Generate(values, nil)
	require.NoError(t, err)
	require.Equal(t, []Document{{Output: "output1", Data: []byte("spdsvc02 on spd01 spd02 spd03 spd04")}}, docs)
}

func TestLoadYAMLErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown key", "Label: x\nInputs:\n  - Id: a\n    Type: string\n    Mandatroy: Yes\n",
			[]string{`line 3: input 1: line 5: unknown key "Mandatroy"`}},
		{"bad type", "Inputs:\n  - Id: a\n    Type: integr\n",
			[]string{`line 2: a: type "integr" is not one of string, integer, boolean, size, list of string`}},
		{"duplicate id and bad default", "Inputs:\n  - Id: a\n    Type: integer\n    Default: many\n  - Id: a\n    Type: string\n",
			[]string{`line 2: a: default: "many" is not an integer`, `line 5: a: the id is used by another input`}},
		{"bad constraint", "Inputs:\n  - Id: n\n    Type: integer\n    Constraint: about 3\n",
			[]string{`line 2: n: constraint "about 3": expected "match REGEXP"`}},
		{"bad mandatory", "Inputs:\n  - Id: n\n    Type: integer\n    Mandatory: perhaps\n",
			[]string{`line 4: "perhaps" is not Yes or No`}},
		{"output without generator", "Outputs:\n  - Type: json\n",
			[]string{"line 2: output output1: no template and no generator"}},
		{"bad template", "Outputs:\n  - Template: \"{{.x\"\n",
			[]string{"line 2: output output1: template:"}},
		{"top-level typo", "Lable: x\n", []string{"field Lable not found"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadYAML([]byte(c.src))
			require.Error(t, err)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := LoadYAMLFile("testdata/nonexistent.yaml")
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestConstraints(t *testing.T) {
	f, err := LoadYAML([]byte(`
Inputs:
  - Id: npods
    Type: integer
    Constraint: "> 0"
  - Id: maxpods
    Type: integer
    Constraint: "<= 110"
  - Id: name
    Type: string
    Constraint: match [a-z]+
  - Id: size
    Type: size
    Constraint: ">= 1g"
  - Id: nodes
    Type: list
    Pattern: "spd[0-9]{2}"
`))
	require.NoError(t, err)
	in, _ := f.Input("npods")
	require.Equal(t, int64(1), *in.Min)
	in, _ = f.Input("maxpods")
	require.Equal(t, int64(110), *in.Max)
	in, _ = f.Input("size")
	require.Equal(t, int64(1<<30), *in.Min)
	in, _ = f.Input("nodes")
	require.Equal(t, StringList, in.Type)

	_, err = f.Submit(map[string]any{"npods": "0", "maxpods": 111, "name": "abc1", "size": "512m", "nodes": "spd01 node2"})
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, map[string][]string{
		"npods":   {"0 is less than the minimum 1"},
		"maxpods": {"111 is more than the maximum 110"},
		"name":    {`"abc1" does not match [a-z]+`},
		"size":    {"512m is less than the minimum 1073741824"},
		"nodes":   {`"node2" does not match spd[0-9]{2}`},
	}, verr.ByInput())
}

func testForm() *Form {
	return &Form{
		Label: "test",
		Inputs: []Input{
			{ID: "count", Type: Integer, Mandatory: true, Default: "32", Min: Int64(1)},
			{ID: "name", Type: String, Mandatory: true},
			{ID: "flag", Type: Boolean, Default: "no"},
			{ID: "disk", Type: Size, Default: "17g"},
			{ID: "nodes", Type: StringList, Mandatory: true},
			{ID: "zone", Type: String, Candidates: []string{"eu", "us"}, StrictCandidates: true},
			{ID: "hint", Type: String, Candidates: []string{"a", "b"}},
			{ID: "note", Type: String},
		},
		Outputs: []Output{{Name: "summary", Template: `{{.name}}: {{.count}} x {{.disk}} on {{join "," .nodes}}{{if .flag}} (flag){{end}}` +
			`{{range seq 3}} {{pad2 .}}{{end}} {{shellquote .note}}`}},
	}
}

func TestSubmitConvertsAndDefaults(t *testing.T) {
	f := testForm()
	require.NoError(t, f.Check())
	cases := []struct {
		name    string
		answers map[string]any
		want    Values
	}{
		{"strings as typed", map[string]any{"name": "x", "nodes": "n1  n2\tn3", "count": " 8 ", "flag": "Yes", "disk": "1.5G", "zone": "eu", "hint": "other", "note": "a b"},
			Values{"name": "x", "nodes": []string{"n1", "n2", "n3"}, "count": int64(8), "flag": true, "disk": int64(3 << 29), "zone": "eu", "hint": "other", "note": "a b"}},
		{"go values", map[string]any{"name": "x", "nodes": []string{"n1"}, "count": 3, "flag": true, "disk": int64(4096)},
			Values{"name": "x", "nodes": []string{"n1"}, "count": int64(3), "flag": true, "disk": int64(4096)}},
		{"defaults", map[string]any{"name": "x", "nodes": "n1", "count": "", "note": ""},
			Values{"name": "x", "nodes": []string{"n1"}, "count": int64(32), "flag": false, "disk": int64(17 << 30)}},
		{"blanks are a string answer", map[string]any{"name": "x", "nodes": "n1", "note": "  "},
			Values{"name": "x", "nodes": []string{"n1"}, "count": int64(32), "flag": false, "disk": int64(17 << 30), "note": "  "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(c.answers)
			got, err := f.Submit(c.answers)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			require.Len(t, c.answers, before, "answers are not modified")
		})
	}
}

func TestSubmitReportsEveryProblem(t *testing.T) {
	f := testForm()
	_, err := f.Submit(map[string]any{"count": "0x20", "flag": "maybe", "disk": "big", "nodes": "  ", "zone": "asia", "extra": 1, "another": "x"})
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []Problem{
		{Input: "count", Message: `"0x20" is not an integer`},
		{Input: "name", Message: "is mandatory"},
		{Input: "flag", Message: `"maybe" is not a boolean (true or false)`},
		{Input: "disk", Message: `"big" is not a size: expected a number with an optional unit (k, m, g, t), like 17g`},
		{Input: "nodes", Message: "is mandatory"},
		{Input: "zone", Message: `"asia" is not one of eu, us`},
		{Input: "another", Message: "not an input of the form"},
		{Input: "extra", Message: "not an input of the form"},
	}, verr.Problems)
	require.Contains(t, err.Error(), "count: \"0x20\" is not an integer\nname: is mandatory\n")

	_, err = f.Submit(map[string]any{"name": "x", "nodes": "n", "count": 2.5})
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []string{"a float64 cannot be a integer"}, verr.ByInput()["count"])
}

func TestCheckForm(t *testing.T) {
	f := &Form{
		Inputs: []Input{
			{ID: "", Type: String},
			{ID: "1x", Type: String},
			{ID: "a", Type: "text"},
			{ID: "b", Type: String, Pattern: "("},
			{ID: "c", Type: String, Min: Int64(1)},
			{ID: "d", Type: Integer, Min: Int64(5), Max: Int64(1)},
			{ID: "e", Type: Integer, Default: "0", Min: Int64(1)},
			{ID: "f", Type: String, StrictCandidates: true},
		},
		Outputs: []Output{{Template: "x", Generator: "y"}, {}},
	}
	err := f.Check()
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	msgs := verr.ByInput()
	require.Equal(t, []string{"the input has no id"}, msgs["input 1"])
	require.Contains(t, msgs["1x"][0], "expected letters, digits and underscores")
	require.Contains(t, msgs["a"][0], `type "text" is not one of`)
	require.Contains(t, msgs["b"][0], `pattern "("`)
	require.Equal(t, []string{"bounds apply to integer and size inputs, not string"}, msgs["c"])
	require.Equal(t, []string{"min 5 is greater than max 1"}, msgs["d"])
	require.Equal(t, []string{"default: 0 is less than the minimum 1"}, msgs["e"])
	require.Equal(t, []string{"strict candidates without any candidate"}, msgs["f"])
	require.Equal(t, []string{"both a template and a generator: keep one"}, msgs["output output1"])
	require.Equal(t, []string{"no template and no generator"}, msgs["output output2"])
}

func TestGenerateTemplatesAndGenerators(t *testing.T) {
	f := testForm()
	f.Outputs = append(f.Outputs, Output{Name: "upper", Generator: "upper"}, Output{Name: "broken", Template: "{{.missing}}"})
	values, err := f.Submit(map[string]any{"name": "svc", "nodes": "n1 n2", "flag": "on", "note": "it's #1"})
	require.NoError(t, err)

	gens := NewGenerators()
	require.NoError(t, gens.Register("upper", func(v Values) ([]byte, error) {
		return []byte(strings.ToUpper(v.String("name"))), nil
	}))
	require.ErrorContains(t, gens.Register("upper", func(Values) ([]byte, error) { return nil, nil }), "already registered")
	require.Error(t, gens.Register("", nil))
	require.Equal(t, []string{"upper"}, gens.Names())

	_, err = f.Generate(values, gens)
	require.ErrorContains(t, err, `output broken: template: broken:1:2: executing "broken" at <.missing>: map has no entry for key "missing"`)

	f.Outputs = f.Outputs[:2]
	docs, err := f.Generate(values, gens)
	require.NoError(t, err)
	require.Equal(t, []Document{
		{Output: "summary", Data: []byte(`svc: 32 x 18253611008 on n1,n2 (flag) 01 02 03 it\'s\ \#1`)},
		{Output: "upper", Data: []byte("SVC")},
	}, docs)

	_, err = f.Generate(values, NewGenerators())
	require.ErrorContains(t, err, `output upper: no generator "upper" is registered`)

	failing := NewGenerators()
	require.NoError(t, failing.Register("upper", func(Values) ([]byte, error) { return nil, errors.New("no layout") }))
	_, err = f.Generate(values, failing)
	require.ErrorContains(t, err, "output upper: no layout")
}

// shellQuoteCases are words ShellQuote must carry through the INI layer
// and shell splitting unchanged.
var shellQuoteCases = []string{
	"", "plain", "with space", " lead", "trail ", "a  b", `back\slash`, `\`, `\\`, `end\`,
	"'", `"`, `'"'"'`, "#", "a #b", "a;b", " ;", "{svcname}", "{env.HOME}", "%(app)s", "%", "100%",
	"$HOME", "`id`", "$(id)", "a=b", "[DEFAULT]", "é密码", "*?[]", "~root", "!x", "&|<>", "nbsp\u00a0", "\u3000ideographic",
}

func TestShellQuote(t *testing.T) {
	for _, s := range shellQuoteCases {
		checkShellQuote(t, s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune(" \\'\"#;{}%()$`=[]*?~!&|<>abcXYZ019-_./:@,+é密")
	for range 2000 {
		n := r.IntN(12)
		w := make([]rune, n)
		for i := range w {
			w[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkShellQuote(t, string(w))
	}
}

func checkShellQuote(t *testing.T, s string) {
	t.Helper()
	q := ShellQuote(s)
	words, err := shlex.Split(q)
	require.NoError(t, err, "%q -> %q", s, q)
	if s == "" {
		require.Equal(t, "''", q)
	} else {
		require.Equal(t, []string{s}, words, "%q -> %q", s, q)
	}
	// Through an INI continuation line as the service config writes it.
	cfg := "[container#01]\nrun_args = --net=none\n    -e P=" + q + "\n    -v /a:/b\n"
	f, err := ini.LoadSources(ini.LoadOptions{AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true, KeyValueDelimiters: "="}, []byte(cfg))
	require.NoError(t, err)
	args, err := shlex.Split(f.Section("container#01").Key("run_args").Value())
	require.NoError(t, err)
	require.Equal(t, []string{"--net=none", "-e", "P=" + s, "-v", "/a:/b"}, args, "%q -> %q", s, q)
}

func FuzzShellQuote(f *testing.F) {
	for _, s := range shellQuoteCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1024 {
			// ini.v1 reads a continuation line within its lookahead buffer
			// (4096 bytes by default): callers bound what they quote.
			t.Skip("longer than callers allow")
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || r == 0xfffd {
				t.Skip("control characters and invalid UTF-8 are rejected before quoting")
			}
		}
		checkShellQuote(t, s)
	})
}

func TestInputIsSecret(t *testing.T) {
	for _, tc := range []struct {
		in   Input
		want bool
	}{
		{Input{ID: "myrootpwd", Label: "MariaDB&Spider root password", DisplayModeLabel: "db root pwd"}, true},
		{Input{ID: "db_password"}, true},
		{Input{ID: "x", DisplayModeLabel: "api token"}, true},
		{Input{ID: "svcname", Label: "Service name", DisplayModeLabel: "svcname"}, false},
		{Input{ID: "passive", Label: "Passive mode"}, false},
	} {
		require.Equal(t, tc.want, tc.in.IsSecret(), "%+v", tc.in)
	}
}
