package inifile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/ini.v1"
)

// goIniRead parses text with gopkg.in/ini.v1 and the options svc used
// before its own reader, as the reference of the reader's semantics.
func goIniRead(text string) ([]string, error) {
	f, err := ini.LoadSources(ini.LoadOptions{
		AllowPythonMultilineValues: true,
		SpaceBeforeInlineComment:   true,
		KeyValueDelimiters:         "=",
		ReaderBufferSize:           len(text) + 4096,
		AllowShadows:               true,
		PreserveSurroundedQuote:    true,
	}, []byte(text))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range f.Sections() {
		out = append(out, "["+s.Name()+"]")
		for _, k := range s.Keys() {
			out = append(out, fmt.Sprintf("%q = %q", k.Name(), k.Value()))
		}
	}
	return out, nil
}

func readerRead(text string) ([]string, error) {
	secs, err := Read(text, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range secs {
		out = append(out, "["+s.Name+"]")
		for _, k := range s.Keys {
			out = append(out, fmt.Sprintf("%q = %q", k.Name, k.Value))
		}
	}
	return out, nil
}

// sameAsGoIni fails unless the reader and go-ini both refuse text or both
// read the same sections, keys and values.
func sameAsGoIni(t *testing.T, text string) {
	t.Helper()
	want, wantErr := goIniRead(text)
	got, gotErr := readerRead(text)
	if wantErr != nil || gotErr != nil {
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("go-ini error %v, reader error %v, on %q", wantErr, gotErr, text)
		}
		return
	}
	require.Equal(t, want, got, "on %q", text)
}

// TestReaderMatchesGoIni compares the reader with go-ini on the repository's
// configurations, the fuzz seeds and corpus, every construct of the syntax
// and random arrangements of them.
func TestReaderMatchesGoIni(t *testing.T) {
	var inputs []string
	files, _ := filepath.Glob("../../*/testdata/*.conf")
	more, _ := filepath.Glob("../../*/*/testdata/*.conf")
	corpus, _ := filepath.Glob("testdata/fuzz/*/*")
	svcCorpus, _ := filepath.Glob("../../svc/testdata/fuzz/*/*")
	corpus = append(corpus, svcCorpus...)
	for _, f := range append(append(append(files, more...), "../../svc/testdata/spdsvc01.conf"), corpus...) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if strings.Contains(f, "fuzz") {
			// go test fuzz v1 / []byte("...")
			lines := strings.SplitN(string(b), "\n", 3)
			if len(lines) < 2 {
				continue
			}
			var s string
			if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"), "%q", &s); err != nil {
				continue
			}
			b = []byte(s)
		}
		inputs = append(inputs, string(b))
	}
	require.GreaterOrEqual(t, len(inputs), 5)
	pieces := []string{
		"[DEFAULT]\n", "[fs#01]\n", "[fs#01 ]\n", "[a]]\n", "[a] # c\n", "[]\n", "[x\n", "  [y]\n",
		"nodes = n1 n2\n", "a = b\n", "a = c\n", "a@n1 = d\n", "a=b #c\n", "a = b#c\n", "a = b ;c\n",
		"a = 'q'\n", "a = \"q\"\n", "a =\n", "a = \n", "a = b \\\n", "  c\n", "\tc\n", "\fc\n", "  \n", "\n",
		"# comment\n", "; comment\n", "  # indented comment\n", "a = \"\"\"x\n", "y\"\"\"\n", "a = `x\n", "y`\n",
		"a = \"\"\"x\"\"\"\n", "a = `x` z\n", "\"k\" = v\n", "`k` = v\n", "\"\"\"kkk\"\"\" = v\n", "\"k = v\n",
		"- = one\n", "- = two\n", "\"#1\" = x\n", "novalue\n", "= x\n", "a = b\r\n", "  x = y\n", "\xef\xbb\xbf",
		"run_args = --net=none\n", "    -e A=1\n", "k = \u00a0v\n", "\u00a0k = v\n", "a = {env.x}\n", "a = b", "  tail",
	}
	rng := rand.New(rand.NewPCG(13, 13))
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	inputs = append(inputs, pieces...)
	for _, in := range inputs {
		sameAsGoIni(t, in)
	}
}

// FuzzReader compares the reader with go-ini on arbitrary text.
func FuzzReader(f *testing.F) {
	f.Add("[DEFAULT]\nnodes = n1\n[fs#01]\nmnt = /a #c\nrun_args = a\n  b\n\n")
	f.Add("a = \"\"\"x\ny\"\"\"\n- = 1\nb = c \\\n d\n")
	f.Fuzz(func(t *testing.T, text string) {
		sameAsGoIni(t, text)
	})
}

// BenchmarkReader reads 50,000 sections and a 200,000-key [env] (the
// issue's reference chain), which go-ini reads in quadratic time.
func BenchmarkReader(b *testing.B) {
	var secs, env strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&secs, "[fs#%d]\ntype = ext4\ndev = /dev/d%d\nmnt = /srv/{svcname}/%d\n\n", i, i, i)
	}
	env.WriteString("[env]\nl0 = x\n")
	for i := 1; i < 200000; i++ {
		fmt.Fprintf(&env, "l%d = {env.l%d}\n", i, i-1)
	}
	for _, in := range []struct{ name, text string }{{"50k-sections", secs.String()}, {"200k-env-keys", env.String()}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Read(in.text, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReaderLargeSections covers what random short inputs do not reach:
// sections past the size from which keys are indexed, keys repeated
// before and after that point (each keeps its own lines), more keys and
// sections than one slab chunk holds, and "-" keys numbered past it.
func TestReaderLargeSections(t *testing.T) {
	var b strings.Builder
	line := 0
	w := func(s string) { b.WriteString(s + "\n"); line++ }
	w("[big]")
	lines := map[string][]int{}
	for i := range 600 {
		k := fmt.Sprintf("k%d", i%300) // every key twice
		w(fmt.Sprintf("%s = v%d", k, i))
		lines[k] = append(lines[k], line)
	}
	for i := range 300 {
		w(fmt.Sprintf("[s%d]", i))
		w("a = 1")
		w("- = x")
		w("- = y")
	}
	w("[auto]")
	for range 40 {
		w("- = z")
	}
	text := b.String()
	sameAsGoIni(t, text)
	secs, err := Read(text, nil)
	require.NoError(t, err)
	require.Len(t, secs, 1+1+300+1)
	big := secs[1]
	require.Equal(t, "big", big.Name)
	require.Len(t, big.Keys, 300)
	for k, want := range lines {
		got := big.Key(k)
		require.NotNil(t, got, k)
		require.Equal(t, want, got.Lines, k)
		require.Equal(t, "v"+strings.TrimPrefix(k, "k"), got.Value, "the first value is kept")
	}
	s7 := secs[2+7]
	require.Equal(t, "s7", s7.Name)
	require.Equal(t, "y", s7.Key("#2").Value)
	auto := secs[len(secs)-1]
	require.Len(t, auto.Keys, 40)
	require.Equal(t, "z", auto.Key("#40").Value)
	require.Nil(t, auto.Key("#41"))
}
