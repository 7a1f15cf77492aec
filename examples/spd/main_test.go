package main

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
)

// TestMain lets the test binary answer as the com.opensvc objects, as the
// program does: the service compliance step links os.Executable() as
// com.opensvc/files.py in the node roots.
func TestMain(m *testing.M) {
	if checker.IsObjectCommand(os.Args[0]) {
		os.Exit(checker.RunObjectCommand(context.Background(), os.Args, os.Environ(), os.Stdout, os.Stderr))
	}
	// -ha runs its node daemons as os.Executable() __ha-node.
	if len(os.Args) > 1 && os.Args[1] == haNodeCommand {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSeedCopies keeps the embedded export and module identical to the
// seed's, in compliance/testdata: the module runs unmodified.
func TestSeedCopies(t *testing.T) {
	for _, f := range []struct {
		embedded []byte
		seed     string
	}{
		{spdcSvcExport, "../../compliance/testdata/spdc-svc.json"},
		{spdcSvcModule, "../../compliance/testdata/modules/50-spdc.svc.db.cnf"},
		{spdcNodeExport, "../../compliance/testdata/spdc-node.json"},
	} {
		b, err := os.ReadFile(f.seed)
		require.NoError(t, err)
		require.Equal(t, string(b), string(f.embedded), f.seed)
	}
}
