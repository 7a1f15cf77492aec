package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitDockerArgs(t *testing.T) {
	// svcmgr's flags: --tags, --rid, --root, -s (values); --fake,
	// --dry-run, -c (booleans).
	lookup := func(name string, short bool) (bool, bool) {
		if short {
			switch name {
			case "s":
				return true, true
			case "c":
				return true, false
			}
			return false, false
		}
		switch name {
		case "tags", "rid", "root", "service", "format":
			return true, true
		case "fake", "dry-run", "cluster":
			return true, false
		}
		return false, false
	}
	for _, tc := range []struct {
		args        []string
		own, docker []string
	}{
		{[]string{"load", "-i", "/tmp/f.tar"}, nil, []string{"load", "-i", "/tmp/f.tar"}},
		{[]string{"--root", "/r", "-s", "s", "load", "-i", "f"}, []string{"--root", "/r", "-s", "s"}, []string{"load", "-i", "f"}},
		{[]string{"rm", "%instances%", "--tags", "pod09"}, []string{"--tags", "pod09"}, []string{"rm", "%instances%"}},
		{[]string{"--tags=pod09+db", "--", "image", "inspect", "%images%"}, []string{"--tags=pod09+db"}, []string{"image", "inspect", "%images%"}},
		{[]string{"--fake", "ps", "-a", "--no-trunc"}, []string{"--fake"}, []string{"ps", "-a", "--no-trunc"}},
		{[]string{"--", "ps", "--format", "{{.Names}}", "--tags", "x"}, nil, []string{"ps", "--format", "{{.Names}}", "--tags", "x"}},
		// Combined or attached short flags are docker's.
		{[]string{"run", "-it", "-sx"}, nil, []string{"run", "-it", "-sx"}},
		// A value flag at the end with no value: left for the parser
		// to refuse.
		{[]string{"ps", "--tags"}, []string{"--tags"}, []string{"ps"}},
		{[]string{"-", "load"}, nil, []string{"-", "load"}},
		{nil, nil, nil},
	} {
		own, docker := splitDockerArgs(tc.args, lookup)
		require.Equal(t, tc.own, own, "%q", tc.args)
		require.Equal(t, tc.docker, docker, "%q", tc.args)
	}
}

// TestDockerFlagsThroughCLI: `svcmgr -s S docker load -i FILE` reaches
// docker with -i FILE and the private daemon's -H; svcmgr's flags after
// the docker arguments are still svcmgr's; a bad value of one is a usage
// error.
func TestDockerFlagsThroughCLI(t *testing.T) {
	root, svcmgr := nodeCLI(t, "spd02", true)
	out, errOut, code := svcmgr("docker", "load", "-i", "/tmp/image.tar")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "docker -H unix://"+root+"/var/spdsvc01/docker.sock load -i /tmp/image.tar\n", out)
	out, errOut, code = svcmgr("docker", "rm", "%instances%", "--tags", "pod09+db")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "docker -H unix://"+root+"/var/spdsvc01/docker.sock rm spdsvc01.container.09db\n", out)
	_, errOut, code = svcmgr("docker", "ps", "--waitlock", "-1s")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--waitlock -1s")
	_, errOut, code = svcmgr("docker", "--tags")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "flag needs an argument")
	var o, e bytes.Buffer
	code = run([]string{"--root", root, "--node", "spd02", "--fake", "-s", "../x", "docker", "ps"}, &o, &e)
	require.Equal(t, 2, code, e.String())
}
