// Package testenv holds the helpers of svckit's integration tests: the
// prerequisite checks (root, commands, loop devices, Docker), throwaway
// loop devices and network namespaces, and a locally built Docker image.
//
// A missing prerequisite skips the test with the reason, except when the
// environment variable CI is "true": there every prerequisite must be
// present and a missing one fails the test.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Skip skips t with the reason, or fails it when CI=true.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and a prerequisite is missing: "+format, args...)
		return
	}
	t.Skipf(format, args...)
}

// RequireRoot skips t unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root (uid is %d)", os.Geteuid())
	}
}

// RequireCommands skips t unless every command is in PATH.
func RequireCommands(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		Skip(t, "needs %s in PATH", strings.Join(missing, ", "))
	}
}

// RandomName returns prefix followed by 8 random hex digits: names of test
// objects (namespaces, containers) that never collide between runs.
func RandomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
