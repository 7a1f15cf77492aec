package shellwords

import (
	"testing"

	"github.com/google/shlex"
	"github.com/stretchr/testify/require"
)

var cases = []string{
	"", " ", "--net=none", "--net=none\n    -e MYSQL_ROOT_PASSWORD=pw\n    -v /a:/b:rw",
	"a\tb\r\nc", "-e 'A=1 2'", `-e "A=$x"`, `a\ b`, "a #comment", "a#b", "x\vy", "x\u00a0y", "x\fy",
	"-E \"unterminated", "-l 'a'\"b\"", "\n\n", "é ü",
}

// TestSameAsShlex: the fast path gives shlex's answer.
func TestSameAsShlex(t *testing.T) {
	for _, c := range cases {
		want, werr := shlex.Split(c)
		got, gerr := Split(c)
		require.Equal(t, werr == nil, gerr == nil, "%q", c)
		if werr == nil {
			require.Equal(t, len(want), len(got), "%q: %q vs %q", c, want, got)
			for i := range want {
				require.Equal(t, want[i], got[i], "%q", c)
			}
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, c := range cases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := shlex.Split(s)
		got, gerr := Split(s)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: errors differ: %v vs %v", s, werr, gerr)
		}
		if werr != nil {
			return
		}
		if len(want) != len(got) {
			t.Fatalf("%q: %q vs %q", s, want, got)
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%q: %q vs %q", s, want, got)
			}
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	line := "--net=none\n    -e MYSQL_ROOT_PASSWORD=pw\n    -v /etc/localtime:/etc/localtime:ro\n    -v /spdsvc01/pod01/db/data:/var/lib/mysql:rw"
	for b.Loop() {
		if _, err := Split(line); err != nil {
			b.Fatal(err)
		}
	}
}
