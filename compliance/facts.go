package compliance

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/compliance/internal/rootfs"
)

// Facts describes a node for filtersets and for the OSVC_COMP_NODES_*
// variables: node fields (nodename, os_name, os_vendor, os_release,
// os_arch, os_kernel, team_responsible, ...) and installed packages.
type Facts struct {
	Node     map[string]string `json:"node"`
	Packages []checker.Package `json:"packages"`
}

// Nodename returns the node's name.
func (f *Facts) Nodename() string { return f.Node["nodename"] }

// PackageBackend is dpkg for the Debian family, rpm for the Red Hat and
// SUSE ones, "" when the vendor does not say.
func (f *Facts) PackageBackend() string {
	switch strings.ToLower(f.Node["os_vendor"]) {
	case "debian", "ubuntu", "linuxmint", "raspbian", "devuan", "kali":
		return "dpkg"
	case "redhat", "centos", "fedora", "rocky", "almalinux", "oracle", "amazon", "suse", "opensuse":
		return "rpm"
	}
	return ""
}

// FactsOptions says where to read the facts from.
type FactsOptions struct {
	// Root holds etc/os-release and the package database; "" is /.
	Root string
	// NodeConf is the node configuration whose [node] keys override and
	// extend the facts, a path inside Root; "" is /etc/node.conf.
	NodeConf string
	// Nodename overrides the host name (and node.nodename).
	Nodename string
	// Path is the search path of dpkg-query and rpm; "" is PATH.
	Path string
	// PackageBackend forces dpkg or rpm; "" chooses from the vendor, then
	// from the database files present.
	PackageBackend string
}

// GatherFacts reads the node's facts: uname, <root>/etc/os-release, the
// [node] section of the node configuration, the installed packages.
func GatherFacts(ctx context.Context, o FactsOptions) (*Facts, error) {
	root := o.Root
	if root == "" {
		root = "/"
	}
	f := &Facts{Node: map[string]string{}}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		f.Node["os_name"] = unix.ByteSliceToString(u.Sysname[:])
		f.Node["os_kernel"] = unix.ByteSliceToString(u.Release[:])
		f.Node["os_arch"] = unix.ByteSliceToString(u.Machine[:])
		f.Node["nodename"] = unix.ByteSliceToString(u.Nodename[:])
	}
	rfs, err := rootfs.Open(root)
	if err != nil {
		return nil, fmt.Errorf("compliance: node facts: %w", err)
	}
	defer rfs.Close()
	osr, err := readOSRelease(rfs)
	if err != nil {
		return nil, err
	}
	if id := osr["ID"]; id != "" {
		f.Node["os_vendor"] = vendorName(id, osr["NAME"])
	}
	if v := osr["VERSION_ID"]; v != "" {
		f.Node["os_release"] = v
	}
	if v := osr["PRETTY_NAME"]; v != "" {
		f.Node["os_pretty_name"] = v
	}
	env := &checker.Env{Root: root, NodeConf: o.NodeConf, Path: o.Path}
	defer env.Close()
	cfg, err := env.LoadNodeConf()
	if err != nil {
		return nil, fmt.Errorf("compliance: node facts: %w", err)
	}
	if sec, err := cfg.GetSection("node"); err == nil {
		for _, k := range sec.Keys() {
			f.Node[k.Name()] = k.String()
		}
	}
	if o.Nodename != "" {
		f.Node["nodename"] = o.Nodename
	}
	backend := o.PackageBackend
	if backend == "" {
		backend = f.PackageBackend()
	}
	env.PackageBackend = backend
	if _, err := env.Backend(); err != nil && backend == "" {
		// No package database at all: packages facts are empty, not an error.
		return f, nil
	}
	pkgs, err := env.InstalledPackages(ctx)
	if err != nil {
		return nil, fmt.Errorf("compliance: node facts: packages: %w", err)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	f.Packages = pkgs
	return f, nil
}

// vendorName names the distribution the way the collector's os_vendor
// column does (Debian, Ubuntu, RedHat, ...).
func vendorName(id, name string) string {
	known := map[string]string{
		"debian": "Debian", "ubuntu": "Ubuntu", "rhel": "RedHat", "centos": "CentOS",
		"fedora": "Fedora", "rocky": "Rocky", "almalinux": "AlmaLinux", "ol": "Oracle",
		"amzn": "Amazon", "sles": "SuSE", "opensuse-leap": "openSUSE", "opensuse": "openSUSE",
		"alpine": "Alpine", "arch": "Arch", "linuxmint": "LinuxMint", "raspbian": "Raspbian",
	}
	if v, ok := known[strings.ToLower(id)]; ok {
		return v
	}
	if name != "" {
		return name
	}
	return id
}

// readOSRelease parses <root>/etc/os-release (falling back to
// usr/lib/os-release as systemd does); a root without either has no OS
// facts.
func readOSRelease(root *rootfs.FS) (map[string]string, error) {
	out := map[string]string{}
	var data []byte
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := root.ReadFile(p, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("compliance: node facts: %w", err)
		}
		data = b
		break
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		out[k] = v
	}
	return out, nil
}
