package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// nodeCLI runs svcmgr on one node's root holding the seed's config.
func nodeCLI(t *testing.T, node string, fake bool) (root string, svcmgr func(args ...string) (string, string, int)) {
	t.Helper()
	root = t.TempDir()
	seed, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "spdsvc01.conf"), seed, 0o600))
	return root, func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		base := []string{"--root", root, "--node", node, "-s", "spdsvc01"}
		if fake {
			base = append(base, "--fake")
		}
		code := run(append(base, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
}

func TestNodeSession(t *testing.T) {
	root, svcmgr := nodeCLI(t, "spd02", true)

	out, _, code := svcmgr("validate", "config")
	require.Equal(t, 0, code)
	require.Contains(t, out, "valid for node spd02 (260 resources)")

	out, _, code = svcmgr("provision", "--dry-run")
	require.Equal(t, 0, code)
	require.Contains(t, out, "wave 3: container#dockerd fs#09 fs#10 fs#11 fs#12 fs#13 fs#14 fs#15 fs#16")
	_, err := os.Stat(filepath.Join(root, "var", "spdsvc01", "fake"))
	require.True(t, os.IsNotExist(err), "a dry run leaves no state")

	_, _, code = svcmgr("provision")
	require.Equal(t, 0, code)
	out, _, code = svcmgr("print", "status")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "spdsvc01\noverall                   up\n|- avail                  up\n"), out)
	require.Equal(t, 8*8+3, strings.Count(out, ".... up ")-1, "8 pods of 8 resources, disk#00, fs#00, container#dockerd and the sync")

	out, _, code = svcmgr("print", "status", "--format", "json")
	require.Equal(t, 0, code)
	var rep struct {
		Overall   string `json:"overall"`
		Resources []struct {
			RID    string `json:"rid"`
			Status string `json:"status"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "up", rep.Overall)
	require.Len(t, rep.Resources, 8*8+4, "the JSON holds what the tree shows")

	out, _, code = svcmgr("print", "config")
	require.Equal(t, 0, code)
	require.Contains(t, out, "MYSQL_ROOT_PASSWORD=xxxx")
	require.NotContains(t, out, "s3cr3tPw")
	out, _, code = svcmgr("print", "config", "--show-secrets")
	require.Equal(t, 0, code)
	require.Contains(t, out, "MYSQL_ROOT_PASSWORD=s3cr3tPw")

	out, errOut, code := svcmgr("docker", "rm", "%instances%", "--tags", "pod09")
	require.Equal(t, 0, code, errOut)
	// docker_data_dir: the command goes to the service's private daemon.
	sock := filepath.Join(root, "var", "spdsvc01", "docker.sock")
	require.Equal(t, "docker -H unix://"+sock+" rm spdsvc01.container.09db spdsvc01.container.09sm\n", out)
	out, errOut, code = svcmgr("docker", "--tags", "pod09+db", "--", "image", "inspect", "%images%")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "docker -H unix://"+sock+" image inspect mariadb\n", out)

	_, errOut, code = svcmgr("stop", "--rid", "nothing")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "selects no enabled resource")

	require.Equal(t, 2, errOutCode(t, root))
}

// errOutCode runs print status without -s: a usage error.
func errOutCode(t *testing.T, root string) int {
	var errb bytes.Buffer
	code := run([]string{"--root", root, "--node", "spd02", "--fake", "print", "status"}, &bytes.Buffer{}, &errb)
	require.Contains(t, errb.String(), "missing -s SVC")
	return code
}

func TestInvalidConfigExitsTwo(t *testing.T) {
	root, svcmgr := nodeCLI(t, "spd01", true)
	path := filepath.Join(root, "etc", "spdsvc01.conf")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := strings.Replace(string(data), "size = 17g", "size = 17x", 1)
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))
	_, errOut, code := svcmgr("start")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "spdsvc01.conf:50: [disk#01] size: bad value")
}

func TestActionFailureExitsOne(t *testing.T) {
	_, svcmgr := nodeCLI(t, "spd01", true)
	t.Setenv("SVCKIT_FAKE_FAULTS", "fs#03:start:1:disk full")
	_, errOut, code := svcmgr("start", "--tags", "pod03")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "fs#03")
	require.Contains(t, errOut, "disk full")
}

// TestDockerPassthrough runs the real docker command line with the
// containers' images expanded.
func TestDockerPassthrough(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker CLI: %v", err)
		}
		t.Skip("no docker CLI:", err)
	}
	if err := exec.Command("docker", "version").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker daemon: %v", err)
		}
		t.Skip("no docker daemon:", err)
	}
	_, svcmgr := nodeCLI(t, "spd01", false)
	// The service's private daemon (docker_data_dir) is not running:
	// docker itself says where it was sent.
	_, errOut, code := svcmgr("docker", "--tags", "pod01+db", "--", "image", "inspect", "%images%")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, filepath.Join("var", "spdsvc01", "docker.sock"))
}

// TestUnprovisionKeepsWhatItDidNotCreate: a disk that existed before
// provision is kept by unprovision, and the dry-run plan says so, until
// --force; the one provision created is deleted.
func TestUnprovisionKeepsWhatItDidNotCreate(t *testing.T) {
	root, svcmgr := nodeCLI(t, "spd01", true)
	state := func(rid string) (provisioned bool) {
		b, err := os.ReadFile(filepath.Join(root, "var", "spdsvc01", "fake", rid+".json"))
		require.NoError(t, err)
		var st struct{ Provisioned bool }
		require.NoError(t, json.Unmarshal(b, &st))
		return st.Provisioned
	}
	// disk#01 exists before provision.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var", "spdsvc01", "fake"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "var", "spdsvc01", "fake", "disk#01.json"), []byte(`{"rid":"disk#01","driver":"disk.gce","provisioned":true}`), 0o600))
	out, errs, code := svcmgr("provision", "--rid", "disk#01,disk#02")
	require.Equal(t, 0, code, out+errs)

	out, errs, code = svcmgr("unprovision", "--rid", "disk#01,disk#02", "--dry-run")
	require.Equal(t, 0, code, out+errs)
	require.Contains(t, out, "    disk#01: kept gce volumes spdsvc01-pod1: not created by this service (--force deletes it)\n")
	require.Contains(t, out, "    disk#02: delete gce volumes spdsvc01-pod2\n")

	out, errs, code = svcmgr("unprovision", "--rid", "disk#01,disk#02")
	require.Equal(t, 0, code, out+errs)
	require.Contains(t, errs, "kept: not created by this service (--force deletes it)")
	require.True(t, state("disk#01"), "the disk that existed before provision is kept")
	require.False(t, state("disk#02"))

	out, errs, code = svcmgr("unprovision", "--rid", "disk#01", "--force", "--dry-run")
	require.Equal(t, 0, code, out+errs)
	require.Contains(t, out, "    disk#01: delete gce volumes spdsvc01-pod1 (forced; not created by this service)\n")
	out, errs, code = svcmgr("unprovision", "--rid", "disk#01", "--force")
	require.Equal(t, 0, code, out+errs)
	require.False(t, state("disk#01"), "--force deletes it")
}
