package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
)

// checkRealDaemons checks, after a -real run of 4 nodes (+1), that each
// node ran its private dockerd on its fs#00 with the stand-in images
// loaded, the host's daemon none of the containers, and that the end of
// the run left no daemon and no exec root.
func checkRealDaemons(t *testing.T, rep *Report, text string) {
	t.Helper()
	require.True(t, strings.HasPrefix(rep.Drivers[ctr.Dockerd.ID], "real"), rep.Drivers[ctr.Dockerd.ID])
	for n := 1; n <= 4; n++ {
		node := fmt.Sprintf("spd%02d", n)
		require.Regexp(t, regexp.MustCompile(`\n   `+node+`: private dockerd on `+regexp.QuoteMeta(filepath.Join(rep.Root, node, svcname, "docker"))+
			` \(btrfs\), 16 containers running, 3 stand-in images; started in \S+, 3 images loaded in \S+\n`), text)
	}
	require.Contains(t, text, "   host dockerd: no container of the run\n")
	require.Regexp(t, `; 4 private dockerd \(64 containers, none on the host's\), each up with its images in \S+-\S+ \(`, text)
	// The daemon's row in print status: its rid on a line of its own,
	// its status in the seed's column.
	require.Regexp(t, `\n   \|  '- container#dockerd\n   \|                    \.\.\.\. up         dockerd \S+/spd01/spdsvc01/docker pid \d+\n`, text)
	require.Contains(t, text, "cleanup: stop --force on every node, 5 private dockerd down, ")

	// Nothing of the daemons is left: no process, no exec root.
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		require.NotContains(t, string(b), rep.Root+"/", "a process of the run is left: %s", strings.ReplaceAll(string(b), "\x00", " "))
	}
	for n := 1; n <= 5; n++ {
		varDir := filepath.Join(rep.Root, fmt.Sprintf("spd%02d", n), "var", svcname)
		spec, err := ctr.ParseDockerdSpec(driver.Config{RID: ctr.DockerdRID, Manifest: ctr.Dockerd, Svcname: svcname, VarDir: varDir,
			Defaults: map[string]string{"docker_data_dir": filepath.Join(rep.Root, fmt.Sprintf("spd%02d", n), svcname, "docker")}})
		require.NoError(t, err)
		require.NoDirExists(t, spec.ExecRoot, "the exec root of spd%02d's daemon is left", n)
	}
}
