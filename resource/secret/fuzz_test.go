package secret_test

import (
	"strings"
	"testing"

	"github.com/svckit/svckit/resource/secret"
)

// FuzzRedactCommand checks that redaction never panics, never leaves a
// value it reports as assigned to a secret-named name, and leaves a text
// with no secret-named assignment as it is.
func FuzzRedactCommand(f *testing.F) {
	for _, s := range []string{
		"-e MYSQL_PASSWORD=s3cret -e USER=bob",
		`--env=APP_SECRET=abc -e "X_TOKEN=a b" --password pw`,
		"db_password = hunter2\nx = 1",
		`{"api_token": "t", "n": 1}`,
		"-eDB_PASS=p MYSQL_PWD='q r' cmd",
		"'PASSWORD='",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		out := secret.RedactCommand(text)
		vals := secret.Assignments(text)
		if len(vals) == 0 {
			if out != text {
				t.Fatalf("no assignment found, text changed: %q -> %q", text, out)
			}
			return
		}
		if strings.Count(out, secret.Placeholder) < len(vals) {
			t.Fatalf("%d values, fewer placeholders: %q -> %q", len(vals), text, out)
		}
		// Redaction is stable: a second pass finds only placeholders.
		for _, v := range secret.Assignments(out) {
			if v != secret.Placeholder {
				t.Fatalf("second pass found %q in %q (from %q)", v, out, text)
			}
		}
		s := secret.NewSet(vals...)
		red := s.Redact(text)
		for _, v := range vals {
			// A secret made of the mask's letters may be rebuilt by
			// masks side by side: no leak.
			if len(v) >= secret.WordLen && strings.Contains(red, v) && strings.Trim(v, "x") != "" {
				t.Fatalf("set kept %q in %q", v, red)
			}
		}
	})
}
