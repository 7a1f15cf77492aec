package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEmbedRunsTheSeedOnFakes runs the program as a user would.
func TestEmbedRunsTheSeedOnFakes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := t.TempDir() + "/embed"
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	cmd := exec.Command(bin, "-fake", "../../svc/testdata/spdsvc01.conf", "spd03")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	require.NoError(t, cmd.Run())
	require.Contains(t, stdout.String(), "spdsvc01\noverall                   up\n")
	require.Contains(t, stdout.String(), "container#24sm .... up")
	require.NotContains(t, stdout.String(), "container#08sm")
}
