package spd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// referenceAnswers are the collector form answers as the Mangle function
// gets them.
type referenceAnswers struct {
	NPods     int    `json:"npods"`
	Svcname   string `json:"svcname"`
	App       string `json:"app"`
	Nodes     string `json:"nodes"`
	DISM      string `json:"dism"`
	DIDB      string `json:"didb"`
	MyRootPwd string `json:"myrootpwd"`
}

func (a referenceAnswers) inputs() Inputs {
	return Inputs{NPods: a.NPods, Svcname: a.Svcname, App: a.App, Nodes: strings.Fields(a.Nodes),
		SMImage: a.DISM, DBImage: a.DIDB, RootPassword: Secret(a.MyRootPwd)}
}

// runMangle runs the seed's Mangle function with node.
func runMangle(t *testing.T, a referenceAnswers) []byte {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is not on PATH: the reference comparison needs it in CI")
		}
		t.Skip("node is not on PATH: the comparison with the live reference is skipped (the stored references still run)")
	}
	arg, err := json.Marshal(a)
	require.NoError(t, err)
	out, err := exec.Command(node, filepath.Join("testdata", "mangle-run.js"), string(arg)).Output()
	require.NoError(t, err, "node mangle-run.js")
	return out
}

// requireSame asserts that got and want are the same config: the same
// sections in the same order, the same keys, the same values.
func requireSame(t *testing.T, got, want []byte) {
	t.Helper()
	d, err := Diff(got, want)
	require.NoError(t, err)
	require.Empty(t, d, "differences from the reference")
	g, err := parseConfig(got)
	require.NoError(t, err)
	w, err := parseConfig(want)
	require.NoError(t, err)
	require.Equal(t, w.sections, g.sections, "section order")
	for _, s := range w.sections {
		require.ElementsMatch(t, w.keyNames(s), g.keyNames(s), "keys of [%s]", s)
	}
}

func TestGenerateMatchesLiveReference(t *testing.T) {
	cases := []referenceAnswers{
		{32, "spdsvc01", "RIVER_SPD", "spd01 spd02 spd03 spd04", "tanji/spdc", "mariadb", ""},
		{32, "spdsvc01", "RIVER_SPD", "spd01 spd02 spd03 spd04", "tanji/spdc", "mariadb", "s3cr3t"},
		{8, "spd", "APP", "n1 n2", "tanji/spdc:2", "mariadb:10", "pw"},
		{6, "spd6", "RIVER_SPD", "spd01 spd02 spd03", "tanji/spdc", "mariadb", "x"},
		{4, "one", "ONE", "lonely", "tanji/spdc", "mariadb", ""},
		{12, "twelve", "T", "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12", "tanji/spdc", "mariadb", "p"},
		{110, "big", "BIG", "s01 s02 s03 s04 s05 s06 s07 s08 s09 s10", "tanji/spdc", "mariadb", "p"},
		{96, "wide", "W", "w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16 " +
			"w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32", "tanji/spdc", "mariadb", "p"},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%d-%s", c.NPods, len(strings.Fields(c.Nodes)), c.Svcname)
		if c.MyRootPwd == "" {
			name += "-nopwd"
		}
		t.Run(name, func(t *testing.T) {
			want := runMangle(t, c)
			got, err := Generate(c.inputs())
			require.NoError(t, err)
			requireSame(t, got, want)
		})
	}
}

func TestGenerateMatchesStoredReferences(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "references.json"))
	require.NoError(t, err)
	var refs []struct {
		File    string           `json:"file"`
		Answers referenceAnswers `json:"answers"`
	}
	require.NoError(t, json.Unmarshal(data, &refs))
	require.NotEmpty(t, refs)
	for _, r := range refs {
		t.Run(r.File, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", r.File))
			require.NoError(t, err)
			got, err := Generate(r.Answers.inputs())
			require.NoError(t, err)
			requireSame(t, got, want)
			// The reference's config is also one ParseLayout accepts, and
			// its layout is the one NewLayout computes.
			l, err := ParseLayout(want)
			require.NoError(t, err)
			nl, err := NewLayout(r.Answers.inputs())
			require.NoError(t, err)
			require.Equal(t, nl, l)
		})
	}
}

// The reference breaks on uneven layouts: this documents how, so that
// the tests of the correct behaviour below mean something.
func TestReferenceBreaksOnUnevenLayouts(t *testing.T) {
	out := runMangle(t, referenceAnswers{10, "spd", "A", "n1 n2 n3 n4", "tanji/spdc", "mariadb", ""})
	require.Contains(t, string(out), "disable@undefined = false")
	require.Contains(t, string(out), "gateway = 10.0.0.5", "a gateway of a fifth node that does not exist")
}

// The stored references are what the Mangle prints today.
func TestStoredReferencesAreTheMangles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "references.json"))
	require.NoError(t, err)
	var refs []struct {
		File    string           `json:"file"`
		Answers referenceAnswers `json:"answers"`
	}
	require.NoError(t, json.Unmarshal(data, &refs))
	for _, r := range refs {
		stored, err := os.ReadFile(filepath.Join("testdata", r.File))
		require.NoError(t, err)
		require.Equal(t, string(runMangle(t, r.Answers)), string(stored), r.File)
	}
}
