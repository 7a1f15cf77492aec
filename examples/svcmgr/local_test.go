package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

// TestLocalTransportDemo runs the cluster commands with the peers in this
// process (--transport local), as the embedded demo does: deploy, push
// conflict, relayout onto a fifth node.
func TestLocalTransportDemo(t *testing.T) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	seed, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(storeDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(storeDir, "spdsvc01.conf"), seed, 0o600))
	var reg strings.Builder
	for n := 1; n <= 5; n++ {
		name := fmt.Sprintf("spd%02d", n)
		fmt.Fprintf(&reg, "[%s]\nroot = %s\n", name, filepath.Join(dir, name))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "spd01", "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spd01", "etc", "nodes.conf"), []byte(reg.String()), 0o644))
	svcmgr := func(node string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		base := []string{"--root", filepath.Join(dir, node), "--node", node, "-s", "spdsvc01", "--fake", "--transport", "local", "--store", "dir:" + storeDir}
		code := run(append(base, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	ok := func(args ...string) string {
		t.Helper()
		out, errs, code := svcmgr("spd01", args...)
		require.Equal(t, 0, code, "svcmgr %s\n%s\n%s", strings.Join(args, " "), out, errs)
		return out
	}
	ok("pull")
	ok("sync", "nodes")
	ok("--cluster", "provision")
	ok("--cluster", "start")

	var st cluster.Status
	require.NoError(t, json.Unmarshal([]byte(ok("--format", "json", "--cluster", "print", "status")), &st))
	require.Len(t, st.Nodes, 4)
	for n, ns := range st.Nodes {
		require.Equal(t, "up", ns.Overall.String(), n)
		require.Equal(t, store.Checksum(seed), ns.ConfigChecksum, n)
	}

	// A push from spd02, which never pulled, is refused: the store has a
	// config it did not base its change on.
	out, errs, code := svcmgr("spd02", "push")
	require.Equal(t, 1, code, out)
	require.Contains(t, errs, "stale write refused: the change was based on revision no config")

	// Not the flex primary.
	_, errs, code = svcmgr("spd02", "--cluster", "stop")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "spd02 is not the flex primary")

	out = ok("relayout", "--nodes", "spd01 spd02 spd03 spd04 spd05", "--dry-run")
	require.Contains(t, out, "plan, nothing changed")
	require.Contains(t, out, "provision the service there")
	var rep cluster.MigrationReport
	require.NoError(t, json.Unmarshal([]byte(ok("--format", "json", "relayout", "--nodes", "spd01 spd02 spd03 spd04 spd05", "--parallel", "3")), &rep))
	require.Len(t, rep.Done, 6)
	st = cluster.Status{}
	require.NoError(t, json.Unmarshal([]byte(ok("--format", "json", "--cluster", "print", "status")), &st))
	require.Len(t, st.Nodes, 5)
	require.Empty(t, st.Warnings)
	require.Equal(t, "up", st.Nodes["spd05"].Overall.String())
}
