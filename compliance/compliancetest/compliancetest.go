// Package compliancetest builds the temporary systems compliance tests run
// against: roots with an os-release, a real dpkg database, a fake /proc/sys
// tree, stand-in commands. It is for tests: of svckit and of tools built on it.
package compliancetest

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Prereq skips the test with reason, or fails it when CI=true: on CI every
// prerequisite must be there.
func Prereq(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing on CI: %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot needs euid 0.
func RequireRoot(t testing.TB) {
	t.Helper()
	Prereq(t, os.Geteuid() == 0, "needs root")
}

// RequireCommands needs the named executables in PATH.
func RequireCommands(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		_, err := exec.LookPath(n)
		Prereq(t, err == nil, n+" is not installed")
	}
}

// DebianRoot makes a root with a Debian 12 os-release, a node.conf holding
// the [node] lines given, and an empty dpkg database.
func DebianRoot(t testing.TB, nodeConf string) string {
	t.Helper()
	root := t.TempDir()
	write(t, filepath.Join(root, "etc/os-release"), "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n")
	if nodeConf != "" {
		write(t, filepath.Join(root, "etc/node.conf"), nodeConf)
	}
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	write(t, filepath.Join(root, "var/lib/dpkg/status"), "")
	return root
}

func write(t testing.TB, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// InstallDebs builds an empty .deb for each name and installs it with the
// real dpkg into root's database (dpkg --root), never the host's.
func InstallDebs(t testing.TB, root string, names ...string) {
	t.Helper()
	RequireCommands(t, "dpkg", "dpkg-deb")
	for _, n := range names {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "pkg/DEBIAN/control"), fmt.Sprintf(
			"Package: %s\nVersion: 1.0-1\nArchitecture: all\nMaintainer: svckit tests <tests@svckit.invalid>\nDescription: stand-in package for compliance tests\n", n))
		deb := filepath.Join(dir, n+".deb")
		out, err := exec.Command("dpkg-deb", "--build", filepath.Join(dir, "pkg"), deb).CombinedOutput()
		require.NoError(t, err, string(out))
		out, err = exec.Command("dpkg", "--root="+root, "--force-not-root", "-i", deb).CombinedOutput()
		require.NoError(t, err, string(out))
	}
}

// StandIns writes stand-in commands into a new directory and returns a PATH
// that finds them first. hostname prints nodename; ifup and update-grub
// only log their arguments to log (a real ifup or update-grub would change
// the host); apt-get logs, then installs or removes the named packages
// with the real dpkg under the root it is given (-o DPkg::Options::=--root=),
// building empty .debs, as the real apt-get would after a download this
// machine cannot make.
func StandIns(t testing.TB, nodename, log string) string {
	t.Helper()
	dir := t.TempDir()
	script := func(name, body string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/bash\n"+body), 0o755))
	}
	script("hostname", fmt.Sprintf("echo %s\n", nodename))
	script("ifup", fmt.Sprintf("echo \"ifup $*\" >> %q\n", log))
	script("update-grub", fmt.Sprintf("echo \"update-grub $*\" >> %q\n", log))
	script("apt-get", fmt.Sprintf(`echo "apt-get $*" >> %q
root=/ verb= names=() after=0
for a in "$@"; do
	if [ $after -eq 1 ]; then names+=("$a"); continue; fi
	case "$a" in
	DPkg::Options::=--root=*) root=${a#DPkg::Options::=--root=} ;;
	install|remove) verb=$a ;;
	--) after=1 ;;
	esac
done
[ "$root" = / ] && { echo "stand-in apt-get refuses to touch the host" >&2; exit 100; }
for n in "${names[@]}"; do
	if [ "$verb" = remove ]; then
		dpkg --root="$root" --force-not-root -r "$n" || exit 100
		continue
	fi
	d=$(mktemp -d)
	mkdir -p "$d/pkg/DEBIAN"
	printf 'Package: %%s\nVersion: 2.0-1\nArchitecture: all\nMaintainer: svckit tests <tests@svckit.invalid>\nDescription: stand-in\n' "$n" > "$d/pkg/DEBIAN/control"
	dpkg-deb --build "$d/pkg" "$d/$n.deb" >/dev/null && dpkg --root="$root" --force-not-root -i "$d/$n.deb" || exit 100
	rm -rf "$d"
done
`, log))
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// FakeProcSys makes a /proc/sys tree holding the given key=value pairs
// (keys dotted), values as the kernel prints them.
func FakeProcSys(t testing.TB, values map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range values {
		write(t, filepath.Join(dir, strings.ReplaceAll(k, ".", "/")), v+"\n")
	}
	return dir
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildOut  []byte
)

// CompObj builds examples/compobj once per test binary, statically so it
// also runs in a chroot, and returns its path.
func CompObj(t testing.TB) string {
	t.Helper()
	RequireCommands(t, "go")
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "svckit-compobj-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, "compobj"), "github.com/svckit/svckit/examples/compobj")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	require.NoError(t, buildErr, string(buildOut))
	return filepath.Join(buildDir, "compobj")
}

// Cleanup removes what CompObj built; call it from TestMain.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Snapshot fingerprints every file, directory and link under root: path,
// mode, owner, size, mtime and content hash, so two snapshots are equal only
// if nothing was written.
func Snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		sum := ""
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		out[p] = fmt.Sprintf("%v %d %d %s", fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), sum)
		return nil
	})
	require.NoError(t, err)
	return out
}
