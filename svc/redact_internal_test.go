package svc

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/internal/spdconf"
	"github.com/svckit/svckit/resource/secret"
)

// TestRedactConfigTextByLine checks that redacting a config line by line
// (and a plain key apart from its value) gives what redacting the text
// whole gives, on the repository's configs, the 110-pod config, and
// random lines built to trip it: secrets that are node names, keywords,
// parts of values, secret-named scopes and variables, quotes, "--name
// value", comments, continuation lines, keys that are not plain.
func TestRedactConfigTextByLine(t *testing.T) {
	whole := func(text string, set *secret.Set) string {
		return set.Redact(strings.Join(keptLines(text, map[string]bool{}), "\n"))
	}
	var texts []string
	files, _ := filepath.Glob("testdata/*.conf")
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		texts = append(texts, string(b))
	}
	p := spdconf.Defaults()
	p.Pods = 110
	conf, err := spdconf.Generate(p)
	require.NoError(t, err)
	texts = append(texts, string(conf))
	pieces := []string{
		"[DEFAULT]", "[fs#01]", "nodes = spd01 spd02", "disable@spd01 = false", "disable@token1 = true",
		"mnt = /srv/spd01", "run_args = --net=none", "    -e MYSQL_ROOT_PASSWORD=s3cr3t", "\t-e A=b c",
		"    --password hunter22 -x", "db_password = hunter22", "post_start = echo TOKEN=abcd1234 'PASS=x y'",
		"a-b@c.d = v", "a@.x = pw12", "a@-password = v", "1x = y", "--password = z", "# pw = hunter22",
		"; token = q", "k=v", "k= \"quoted PASSWORD=zz\"", "  indented = s3cr3t", "x = y", "", "key:sub = PWD=abcd",
		"env@spd01=hunter22hunter22", "comment = the node spd01 is hunter22's", "[env]", "secret_word = abcdefgh",
		"a = b # spd01", "@x = y", "a@b@c = d", "name = 'pwd': 'k'",
		"\rpassword = s3cr3t", "pw\v= hunter22", "\va = spd01", "x \r= y", "mnt@\rtoken = z", "\r# pw = q", "\r= s3cr3t",
	}
	secretSets := [][]string{
		{"s3cr3t", "hunter22"}, {"spd01"}, {"false"}, {"abcd1234", "abcdefgh"}, {"disable"}, {"y"}, {"pw12", "zz"}, nil,
	}
	rng := rand.New(rand.NewPCG(17, 17))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(15) {
			b.WriteString(pieces[rng.IntN(len(pieces))] + "\n")
		}
		texts = append(texts, b.String())
	}
	for i, text := range texts {
		for j, values := range secretSets {
			set := secret.NewSet(values...)
			require.Equal(t, whole(text, set), redactConfigText(text, set), fmt.Sprintf("text %d, secrets %d: %q", i, j, values))
		}
	}
	// Secrets that could span a key and its value, or lines, take the
	// whole-text path.
	for _, values := range [][]string{{"xyz = wvut"}, {"abcd\nefgh"}} {
		set := secret.NewSet(values...)
		require.False(t, redactByLine(set))
		text := "xyz = wvut\nabcd\nefgh\n"
		require.Equal(t, whole(text, set), redactConfigText(text, set))
		require.NotContains(t, redactConfigText(text, set), values[0])
	}
}
