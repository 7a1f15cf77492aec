package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc"
)

// TestFreezeThaw: freeze and thaw mark the service on this node; print
// status shows it (tree and JSON); an operator's start still runs on a
// frozen service.
func TestFreezeThaw(t *testing.T) {
	root := t.TempDir()
	seed, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "spdsvc01.conf"), seed, 0o600))
	svcmgr := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(append([]string{"--root", root, "--node", "spd01", "-s", "spdsvc01", "--fake"}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	for _, tc := range []struct {
		args   []string
		code   int
		out    string
		frozen bool
		avail  string
	}{
		{[]string{"provision"}, 0, "", false, "up"},
		{[]string{"freeze"}, 0, "spdsvc01 frozen on spd01\n", true, "up"},
		{[]string{"freeze"}, 0, "spdsvc01 frozen on spd01\n", true, "up"},
		{[]string{"stop"}, 0, "", true, "stdby up"},
		{[]string{"start"}, 0, "", true, "up"},
		{[]string{"thaw"}, 0, "spdsvc01 thawed on spd01\n", false, "up"},
		{[]string{"thaw"}, 0, "spdsvc01 thawed on spd01\n", false, "up"},
		{[]string{"--cluster", "freeze"}, 2, "", false, "up"},
	} {
		out, errs, code := svcmgr(tc.args...)
		require.Equal(t, tc.code, code, "%v: %s %s", tc.args, out, errs)
		if tc.out != "" {
			require.Equal(t, tc.out, out)
		}
		tree, _, code := svcmgr("print", "status")
		require.Equal(t, 0, code)
		first := strings.SplitN(tree, "\n", 3)[1]
		require.Equal(t, tc.frozen, strings.HasSuffix(first, " frozen"), "%v: %q", tc.args, first)
		js, _, code := svcmgr("--format", "json", "print", "status")
		require.Equal(t, 0, code)
		var rep svc.StatusReport
		require.NoError(t, json.Unmarshal([]byte(js), &rep))
		require.Equal(t, tc.frozen, rep.Frozen, "%v", tc.args)
		require.Equal(t, tc.avail, rep.Avail.String(), "%v", tc.args)
	}
}
