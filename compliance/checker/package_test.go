package checker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/compliance/compliancetest"
)

func TestPackageCommands(t *testing.T) {
	tests := []struct {
		name    string
		backend string
		root    string
		verb    checker.PackageVerb
		names   []string
		want    string
	}{
		{"apt install on the host", "dpkg", "/", checker.PackageInstall, []string{"sysstat", "docker.io"}, "apt-get -y -q install -- sysstat docker.io"},
		{"apt remove on the host", "dpkg", "", checker.PackageRemove, []string{"telnet"}, "apt-get -y -q remove -- telnet"},
		{"apt under a root", "dpkg", "/mnt/img", checker.PackageInstall, []string{"btrfs-tools"},
			"apt-get -y -q -o RootDir=/mnt/img -o DPkg::Options::=--root=/mnt/img install -- btrfs-tools"},
		{"dnf install", "rpm", "/", checker.PackageInstall, []string{"sysstat"}, "dnf -y -q install -- sysstat"},
		{"dnf remove under a root", "rpm", "/mnt/img", checker.PackageRemove, []string{"telnet", "rsh"}, "dnf -y -q --installroot=/mnt/img remove -- telnet rsh"},
	}
	require.Nil(t, checker.InstallCommand("dpkg", "/", checker.PackageVerb("purge"), []string{"telnet"}), "an unknown verb gives no command")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, strings.Join(checker.InstallCommand(tt.backend, tt.root, tt.verb, tt.names), " "))
		})
	}
	require.Equal(t, []string{"dpkg-query", "-W", "-f", `${Package}\t${Version}\t${db:Status-Abbrev}\n`, "--admindir=/mnt/img/var/lib/dpkg"},
		checker.QueryCommand("dpkg", "/mnt/img"))
	require.Equal(t, []string{"dpkg-query", "-W", "-f", `${Package}\t${Version}\t${db:Status-Abbrev}\n`}, checker.QueryCommand("dpkg", "/"))
	require.Equal(t, []string{"rpm", "-qa", "--qf", `%{NAME}\t%{VERSION}-%{RELEASE}\tii\n`, "--root", "/mnt/img"}, checker.QueryCommand("rpm", "/mnt/img"))
}

// TestPackageDpkg checks and fixes against a real dpkg database built under
// a temporary root; the fix's apt-get is a stand-in that installs with the
// real dpkg into that root (it refuses the host's).
func TestPackageDpkg(t *testing.T) {
	compliancetest.RequireRoot(t)
	compliancetest.RequireCommands(t, "dpkg", "dpkg-deb", "dpkg-query", "bash")
	root := compliancetest.DebianRoot(t, "")
	compliancetest.InstallDebs(t, root, "sysstat", "telnet")
	log := filepath.Join(t.TempDir(), "log")
	env, out := newEnv(t, nil)
	env.Root = root
	env.Path = compliancetest.StandIns(t, "spd03", log)
	v := checker.Var{Name: "OSVC_COMP_PKGS", Value: `["sysstat","docker.io","btrfs-tools","-telnet","-rsh"]`}

	backend, err := env.Backend()
	require.NoError(t, err)
	require.Equal(t, "dpkg", backend)
	pkgs, err := env.InstalledPackages(context.Background())
	require.NoError(t, err)
	require.ElementsMatch(t, []checker.Package{{Name: "sysstat", Version: "1.0-1"}, {Name: "telnet", Version: "1.0-1"}}, pkgs)

	require.Equal(t, checker.NOK, run(t, "packages", env, "check", v))
	o := out.String()
	for _, want := range []string{
		"package sysstat is installed", "package docker.io is not installed", "package btrfs-tools is not installed",
		"package telnet is installed and must be removed", "package rsh is not installed",
	} {
		require.Contains(t, o, want)
	}
	require.Equal(t, checker.OK, run(t, "package", env, "fixable", v))
	require.Equal(t, checker.OK, run(t, "package", env, "fix", v), out.String())
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	// One command per kind.
	require.Equal(t, "apt-get -y -q -o RootDir="+root+" -o DPkg::Options::=--root="+root+" remove -- telnet\n"+
		"apt-get -y -q -o RootDir="+root+" -o DPkg::Options::=--root="+root+" install -- docker.io btrfs-tools\n", string(b))
	require.Equal(t, checker.OK, run(t, "package", env, "check", v), out.String())
}

func TestPackageNotFixable(t *testing.T) {
	env, out := newEnv(t, nil)
	env.PackageBackend = "rpm"
	env.Path = t.TempDir() // no dnf there
	v := checker.Var{Name: "p", Value: `["sysstat"]`}
	require.Equal(t, checker.NOK, run(t, "package", env, "fixable", v))
	require.Contains(t, out.String(), "dnf")
	require.Equal(t, checker.NA, run(t, "package", env, "check", checker.Var{Name: "p", Value: `[]`}))
}
