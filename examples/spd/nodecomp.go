package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/internal/atomicfile"
)

// spdcNodeExport is the seed's node compliance export (modulesets
// spdc.node and its rulesets), a copy of compliance/testdata/spdc-node.json.
//
//go:embed testdata/spdc-node.json
var spdcNodeExport []byte

// nodeModuleset is the seed's node moduleset.
const nodeModuleset = "spdc.node"

// nodeCompliance is the outcome of check, fix, check on one node.
type nodeCompliance struct {
	Node   string            `json:"node"`
	Before compliance.Digest `json:"before"`
	Fix    compliance.Digest `json:"fix"`
	After  compliance.Digest `json:"after"`
	// Skipped names modules not run, with why.
	Skipped []string `json:"skipped,omitempty"`
}

// prepareNodeRoot makes root look like a freshly installed Debian 12 flex
// node: os-release, a node.conf, a dpkg database with three of the four
// packages spdc.packages wants, a /proc/sys with the kernel defaults under
// <root>/proc/sys, an etc/passwd and etc/group whose root is the user
// running this program (so that the file rules' "root" owner is one it may
// chown to), and stand-ins for the commands a fix runs (apt-get records
// the package in the root's dpkg database; ifup and update-grub only log
// to <root>/var/log/standins.log). It returns the PATH for the engine.
func prepareNodeRoot(root, node string) (string, error) {
	uid, gid := os.Getuid(), os.Getgid()
	files := map[string]string{
		"etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
		// team_responsible = OpenSVC: the seed's Solaris filterset then
		// fails on os_name alone, so the SunOS ruleset is not applied.
		"etc/node.conf":                         "[node]\nteam_responsible = OpenSVC\nhost_mode = PRD\n",
		"etc/passwd":                            fmt.Sprintf("root:x:%d:%d:root:/root:/bin/bash\n", uid, gid),
		"etc/group":                             fmt.Sprintf("root:x:%d:\n", gid),
		"var/lib/dpkg/status":                   dpkgStatus("systemd", "sysstat", "docker.io"),
		"proc/sys/vm/max_map_count":             "65530\n",
		"proc/sys/vm/swappiness":                "60\n",
		"proc/sys/net/ipv4/ip_local_port_range": "32768\t60999\n",
	}
	for p, content := range files {
		if err := writeFile(filepath.Join(root, p), content, 0o644); err != nil {
			return "", fmt.Errorf("node %s: %w", node, err)
		}
	}
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", fmt.Errorf("node %s: %w", node, err)
		}
	}
	bin := filepath.Join(root, "usr", "local", "standins")
	log := filepath.Join(root, "var", "log", "standins.log")
	scripts := map[string]string{
		"hostname":    fmt.Sprintf("echo %s\n", node),
		"ifup":        fmt.Sprintf("echo \"ifup $*\" >> %q\n", log),
		"update-grub": fmt.Sprintf("echo \"update-grub $*\" >> %q\n", log),
		// The stand-in apt-get refuses anything but the node root, and
		// installs by recording the package in its dpkg database.
		"apt-get": fmt.Sprintf(`echo "apt-get $*" >> %q
root= verb= after=0
for a in "$@"; do
	if [ $after -eq 1 ]; then
		[ "$verb" = install ] || { echo "stand-in apt-get: only install" >&2; exit 100; }
		[ -n "$root" ] && [ "$root" != / ] || { echo "stand-in apt-get refuses to touch the host" >&2; exit 100; }
		printf 'Package: %%s\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: all\nMaintainer: svckit examples/spd\nDescription: stand-in\n\n' "$a" >> "$root/var/lib/dpkg/status"
		continue
	fi
	case "$a" in
	DPkg::Options::=--root=*) root=${a#DPkg::Options::=--root=} ;;
	install|remove) verb=$a ;;
	--) after=1 ;;
	esac
done
`, log),
	}
	for name, body := range scripts {
		if err := writeFile(filepath.Join(bin, name), "#!/bin/sh\n"+body, 0o755); err != nil {
			return "", fmt.Errorf("node %s: %w", node, err)
		}
	}
	return bin + string(os.PathListSeparator) + os.Getenv("PATH"), nil
}

func dpkgStatus(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: all\nMaintainer: svckit examples/spd\nDescription: preinstalled\n\n", n)
	}
	return b.String()
}

func writeFile(p, content string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(p, []byte(content), mode)
}

// runNodeCompliance runs spdc.node on a node root prepared by
// prepareNodeRoot (path is its PATH): check, fix, check.
// The native checkers act under root (files, node.conf, packages in its
// dpkg database) and on its proc/sys tree; SPDC_BRGW, which the seed's
// 50-spdc.network derives from the host name, is the node's gateway.
func runNodeCompliance(ctx context.Context, export *compliance.Export, root, node, path, gateway string) (*nodeCompliance, error) {
	out := &nodeCompliance{Node: node}
	sel := compliance.Selection{Modulesets: []string{nodeModuleset}}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		// The package checker reads the dpkg database through
		// dpkg-query: without it, spdc.packages cannot say anything.
		mods, err := nodeModules(ctx, export, root, node, path, sel)
		if err != nil {
			return nil, err
		}
		sel.Modules = mods
		out.Skipped = append(out.Skipped, "spdc.packages (dpkg-query is not installed)")
	}
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: root, Nodename: node, Path: path})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	eng, err := compliance.NewEngine(export, facts, compliance.Options{
		Root:    root,
		ProcSys: filepath.Join(root, "proc", "sys"),
		Path:    path,
		Env:     map[string]string{"SPDC_BRGW": gateway},
	})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	for _, st := range []struct {
		action compliance.Action
		digest *compliance.Digest
	}{{compliance.Check, &out.Before}, {compliance.Fix, &out.Fix}, {compliance.Check, &out.After}} {
		rep, err := eng.Run(ctx, st.action, sel)
		if err != nil {
			return out, fmt.Errorf("node %s: compliance %s: %w", node, st.action, err)
		}
		*st.digest = rep.Digest
	}
	if out.After.NOK+out.After.Failed > 0 {
		return out, fmt.Errorf("node %s: compliance still not ok after fix: %s", node, strings.Join(out.After.NotOK, ", "))
	}
	return out, nil
}

// nodeModules lists the modules of sel but spdc.packages.
func nodeModules(ctx context.Context, export *compliance.Export, root, node, path string, sel compliance.Selection) ([]string, error) {
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: root, Nodename: node, Path: path, PackageBackend: "dpkg"})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	eng, err := compliance.NewEngine(export, facts, compliance.Options{Root: root, ProcSys: filepath.Join(root, "proc", "sys"), Path: path})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	infos, err := eng.Show(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	var mods []string
	for _, mi := range infos {
		if mi.Module != "spdc.packages" {
			mods = append(mods, mi.Module)
		}
	}
	return mods, nil
}
