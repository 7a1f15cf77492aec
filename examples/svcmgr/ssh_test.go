package main

import (
	"github.com/svckit/svckit/svc/cluster/spdplanner"

	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeKey writes a new ed25519 private key (OpenSSH format, 0600) and
// returns its public key.
func writeKey(t *testing.T, path string) ssh.PublicKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	sp, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return sp
}

type sshNode struct {
	name, root string
	port       int
	hostKey    ssh.PublicKey
}

// sshCluster is four nodes, each a real sshd on 127.0.0.1 with its own
// port, host key and svckit root; the peer command is the svcmgr binary
// the test built.
type sshCluster struct {
	dir, bin, clientKey, knownHosts, storeDir string
	nodes                                     []*sshNode
}

func buildSvcmgr(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "svcmgr")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func startSSHCluster(t *testing.T, names ...string) *sshCluster {
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
		if _, err := os.Stat(sshd); err != nil {
			skipOrFail(t, "sshd absent (apt-get install openssh-server): %v", err)
		}
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "sshd on loopback logs in as root here: needs root")
	}
	// sshd needs its privilege separation directory (the package's
	// tmpfiles.d creates it at boot).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		skipOrFail(t, "sshd privilege separation dir: %v", err)
	}
	c := &sshCluster{dir: t.TempDir()}
	c.bin = buildSvcmgr(t, c.dir)
	c.clientKey = filepath.Join(c.dir, "id_ed25519")
	clientPub := writeKey(t, c.clientKey)
	authorized := filepath.Join(c.dir, "authorized_keys")
	require.NoError(t, os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600))
	c.storeDir = filepath.Join(c.dir, "store")
	var kh bytes.Buffer
	for _, name := range names {
		n := &sshNode{name: name, root: filepath.Join(c.dir, name), port: freePort(t)}
		require.NoError(t, os.MkdirAll(filepath.Join(n.root, "etc"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(n.root, "etc", "svckit.conf"), []byte("[store]\nurl = dir:"+c.storeDir+"\n"), 0o644))
		hostKey := filepath.Join(c.dir, name+"_host_ed25519")
		n.hostKey = writeKey(t, hostKey)
		cfg := filepath.Join(c.dir, name+"_sshd_config")
		require.NoError(t, os.WriteFile(cfg, []byte(strings.Join([]string{
			"Port " + strconv.Itoa(n.port),
			"ListenAddress 127.0.0.1",
			"HostKey " + hostKey,
			"PidFile " + filepath.Join(c.dir, name+"_sshd.pid"),
			"AuthorizedKeysFile " + authorized,
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"UsePAM no",
			"PermitRootLogin prohibit-password",
			// The test files live under /tmp, which is world writable.
			"StrictModes no",
			"LogLevel ERROR",
		}, "\n")+"\n"), 0o600))
		cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() && logs.Len() > 0 {
				t.Logf("sshd %s:\n%s", name, logs.String())
			}
		})
		addr := "127.0.0.1:" + strconv.Itoa(n.port)
		deadline := time.Now().Add(10 * time.Second)
		for {
			conn, err := net.Dial("tcp", addr)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sshd %s did not listen on %s: %v\n%s", name, addr, err, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		kh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, n.hostKey) + "\n")
		c.nodes = append(c.nodes, n)
	}
	c.knownHosts = filepath.Join(c.dir, "known_hosts")
	require.NoError(t, os.WriteFile(c.knownHosts, kh.Bytes(), 0o600))
	c.writeRegistry(t, nil)
	return c
}

// writeRegistry writes spd01's node registry; env adds NAME=value words
// to a node's svcmgr command.
func (c *sshCluster) writeRegistry(t *testing.T, env map[string]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "[DEFAULT]\naddress = 127.0.0.1\nuser = root\nsvcmgr = %s\n", c.bin)
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "\n[%s]\nport = %d\nroot = %s\n", n.name, n.port, n.root)
		if e := env[n.name]; e != "" {
			fmt.Fprintf(&b, "env = %s\n", e)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(c.nodes[0].root, "etc", "nodes.conf"), []byte(b.String()), 0o644))
}

// svcmgr runs the svcmgr binary as spd01 with args and returns stdout,
// stderr and the exit code.
func (c *sshCluster) svcmgr(t *testing.T, args ...string) (string, string, int) {
	base := []string{"--root", c.nodes[0].root, "--node", c.nodes[0].name, "-s", "spdsvc01", "--fake",
		"--ssh-key", c.clientKey, "--known-hosts", c.knownHosts, "--connect-timeout", "5s", "--command-timeout", "2m"}
	cmd := exec.Command(c.bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "SVCKIT_ROOT=", "SVCKIT_STORE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errb.String(), code
}

func (c *sshCluster) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := c.svcmgr(t, args...)
	require.Equal(t, 0, code, "svcmgr %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errs)
	return out
}

// podsUp lists the pods up, and the pods shown, in a node status.
func podsUp(ns *cluster.NodeStatus) (up, listed []string) { return spdplanner.PodsUp(ns.StatusReport) }

func pods(from, to int) []string {
	var out []string
	for p := from; p <= to; p++ {
		out = append(out, fmt.Sprintf("pod%02d", p))
	}
	return out
}

func (c *sshCluster) status(t *testing.T) *cluster.Status {
	out := c.ok(t, "--format", "json", "--cluster", "print", "status")
	var st cluster.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	require.Len(t, st.Nodes, len(c.nodes))
	return &st
}

func (c *sshCluster) gateway(t *testing.T, node *sshNode, rid string) string {
	s, err := svc.Load(context.Background(), filepath.Join(node.root, "etc", "spdsvc01.conf"),
		svc.Options{Node: node.name, Registry: fake.Registry(fake.Options{}), Root: node.root, NoTriggers: true})
	require.NoError(t, err)
	cfg, ok := s.Config(rid)
	require.True(t, ok, rid)
	return cfg.String("gateway")
}

// TestSSHCluster is the done-when scenario: four sshd on
// loopback, the seed's 32-pod config deployed from spd01 over SSH on
// fake drivers, pod16 moved from spd02 to spd03 (after a forced failure
// on spd03 that puts it back on spd02).
func TestSSHCluster(t *testing.T) {
	c := startSSHCluster(t, "spd01", "spd02", "spd03", "spd04")
	spd02, spd03 := c.nodes[1], c.nodes[2]
	seed, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	// The form posts the config to the store.
	st, err := store.NewDir(c.storeDir)
	require.NoError(t, err)
	_, err = st.Put(context.Background(), "spdsvc01", seed, store.Absent)
	require.NoError(t, err)

	out := c.ok(t, "pull")
	require.Contains(t, out, "spd01: installed config sha256 "+store.Short(store.Checksum(seed)))
	out = c.ok(t, "--cluster", "pull")
	for _, n := range []string{"spd02", "spd03", "spd04"} {
		require.Contains(t, out, n+": installed config sha256 "+store.Short(store.Checksum(seed))+" from dir:"+c.storeDir)
	}
	require.Contains(t, out, "spd01: config sha256 "+store.Short(store.Checksum(seed))+" from dir:"+c.storeDir+" already installed")
	out = c.ok(t, "--dry-run", "--cluster", "provision")
	require.Contains(t, out, "spd04: provision plan")
	out = c.ok(t, "--cluster", "provision")
	require.Regexp(t, `(?m)^spd03: provision 68 resources in .*: ok$`, out)
	c.ok(t, "--cluster", "start")

	status := c.status(t)
	require.Empty(t, status.Warnings)
	for i, n := range c.nodes {
		up, listed := podsUp(status.Nodes[n.name])
		require.Equal(t, pods(8*i+1, 8*i+8), up, n.name)
		require.Equal(t, up, listed, n.name)
		require.Equal(t, "up", status.Nodes[n.name].Overall.String())
	}
	text := c.ok(t, "--cluster", "print", "status")
	require.Contains(t, text, "@spd04 (config sha256 "+store.Short(store.Checksum(seed))+")\nspdsvc01\noverall                   up\n")
	require.Equal(t, 32*8, strings.Count(text, " .... up ")-4*4, "32 pods of 8 resources, plus disk#00 fs#00 container#dockerd sync#i0 on each node:\n%s", text)

	// A forced failure on spd03 puts pod16 back on spd02.
	c.writeRegistry(t, map[string]string{"spd03": "SVCKIT_FAKE_FAULTS=container#16db:start::injected_fault"})
	out, errs, code := c.svcmgr(t, "migrate", "--pod", "16", "--to", "spd03")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errs)
	require.Contains(t, errs, "migrate pod16 spd02 -> spd03: ")
	require.Contains(t, errs, "injected_fault")
	require.Contains(t, errs, "pod16 put back on spd02 with the previous config")
	status = c.status(t)
	require.Empty(t, status.Warnings)
	up, _ := podsUp(status.Nodes["spd02"])
	require.Equal(t, pods(9, 16), up)
	up, listed := podsUp(status.Nodes["spd03"])
	require.Equal(t, pods(17, 24), up)
	require.Equal(t, up, listed)
	require.Equal(t, "10.0.0.2", c.gateway(t, spd03, "ip#16db"))

	// The migration.
	c.writeRegistry(t, nil)
	out = c.ok(t, "migrate", "--pod", "16", "--to", "spd03", "--dry-run")
	require.Contains(t, out, "plan, nothing changed")
	out = c.ok(t, "migrate", "--pod", "16", "--to", "spd03")
	require.Contains(t, out, "spdsvc01: moved pod16 spd02 -> spd03")
	status = c.status(t)
	require.Empty(t, status.Warnings)
	up, listed = podsUp(status.Nodes["spd02"])
	require.Equal(t, pods(9, 15), up)
	require.Equal(t, up, listed, "pod16 is absent from spd02")
	up, _ = podsUp(status.Nodes["spd03"])
	require.Equal(t, pods(16, 24), up)
	for _, n := range c.nodes {
		require.Equal(t, "10.0.0.3", c.gateway(t, n, "ip#16sm"), n.name)
		require.Equal(t, "10.0.0.3", c.gateway(t, n, "ip#16db"), n.name)
	}
	require.Equal(t, "10.0.0.2", c.gateway(t, spd02, "ip#15db"))
	// Each node kept the version before the last pull.
	_, err = os.Stat(filepath.Join(spd02.root, "etc", "spdsvc01.conf.prev"))
	require.NoError(t, err)
}

// TestSSHHostKeyVerified checks that a node whose host key is not in
// known_hosts is refused, and named.
func TestSSHHostKeyVerified(t *testing.T) {
	c := startSSHCluster(t, "spd01", "spd02")
	seed := []byte(strings.Join([]string{"[DEFAULT]", "nodes = spd01 spd02", "", "[fs#01]", "type = ext4", "dev = /dev/loop9", "mnt = /srv/x", ""}, "\n"))
	st, err := store.NewDir(c.storeDir)
	require.NoError(t, err)
	_, err = st.Put(context.Background(), "spdsvc01", seed, store.Absent)
	require.NoError(t, err)
	c.ok(t, "pull")
	c.ok(t, "--cluster", "pull")

	// A change made on spd01: status warns until sync nodes copies it.
	edited := strings.Replace(string(seed), "nodes = spd01 spd02", "nodes = spd01 spd02\ncomment = edited on spd01", 1)
	require.NoError(t, os.WriteFile(filepath.Join(c.nodes[0].root, "etc", "spdsvc01.conf"), []byte(edited), 0o600))
	out, errs, code := c.svcmgr(t, "--cluster", "print", "status")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "WARNING: nodes run different config versions: ")
	require.Contains(t, errs, "svcmgr: warning: nodes run different config versions")
	out = c.ok(t, "sync", "nodes", "--dry-run")
	require.Contains(t, out, "spd02: would install config sha256 "+store.Short(store.Checksum([]byte(edited)))+" from primary spd01")
	out = c.ok(t, "sync", "nodes")
	require.Contains(t, out, "spd02: installed config sha256 "+store.Short(store.Checksum([]byte(edited)))+" from primary spd01 (previous sha256 "+store.Short(store.Checksum(seed)))
	require.Equal(t, edited, readFile(t, filepath.Join(c.nodes[1].root, "etc", "spdsvc01.conf")))
	out, errs, code = c.svcmgr(t, "--cluster", "print", "status")
	require.Equal(t, 0, code, errs)
	require.NotContains(t, out, "WARNING")
	// push stores it (based on the revision spd01 pulled).
	out = c.ok(t, "push")
	require.Contains(t, out, "spd01: stored config sha256 "+store.Short(store.Checksum([]byte(edited))))
	got, err := st.Get(context.Background(), "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, edited, string(got.Data))
	// A config that does not validate is not sent (exit 2: bad config).
	bad := strings.Replace(edited, "dev = /dev/loop9", "dev = /dev/loop9\nbogus = 1", 1)
	require.NoError(t, os.WriteFile(filepath.Join(c.nodes[0].root, "etc", "spdsvc01.conf"), []byte(bad), 0o600))
	out, errs, code = c.svcmgr(t, "sync", "nodes")
	require.Equal(t, 2, code, out)
	require.Contains(t, errs, "bogus")
	require.Equal(t, edited, readFile(t, filepath.Join(c.nodes[1].root, "etc", "spdsvc01.conf")))
	require.NoError(t, os.WriteFile(filepath.Join(c.nodes[0].root, "etc", "spdsvc01.conf"), []byte(edited), 0o600))

	// spd02's line replaced by another key.
	other := writeKey(t, filepath.Join(c.dir, "other_key"))
	lines := strings.Split(strings.TrimSpace(readFile(t, c.knownHosts)), "\n")
	lines[1] = knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:" + strconv.Itoa(c.nodes[1].port))}, other)
	require.NoError(t, os.WriteFile(c.knownHosts, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	out, errs, code = c.svcmgr(t, "--cluster", "start")
	require.Equal(t, 1, code, out)
	require.Contains(t, errs, "spdsvc01 start failed on spd02: spd02: ssh root@127.0.0.1:")
	require.Contains(t, errs, "key mismatch")
	// Not the flex primary: refused unless forced.
	c2 := *c
	c2.nodes = []*sshNode{c.nodes[1], c.nodes[0]}
	_, errs, code = c2.svcmgr(t, "--cluster", "stop")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "spd02 is not the flex primary of spdsvc01 (spd01 is)")
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// TestSSHCommandTimeoutCancelsRemote is the issue's "--command-timeout
// 2s --cluster start" case: the timeout cancels the remote svcmgr (which
// releases its lock and brings nothing up later), and the report gives
// the node's state re-read afterwards, which a later status confirms.
func TestSSHCommandTimeoutCancelsRemote(t *testing.T) {
	c := startSSHCluster(t, "spd01", "spd02")
	spd02 := c.nodes[1]
	seed := []byte(strings.Join([]string{"[DEFAULT]", "nodes = spd01 spd02", "rollback = false", "",
		"[fs#01]", "type = ext4", "dev = /dev/loop9", "mnt = /srv/x", "",
		"[fs#02]", "type = ext4", "dev = /dev/loop8", "mnt = /srv/y", ""}, "\n"))
	st, err := store.NewDir(c.storeDir)
	require.NoError(t, err)
	_, err = st.Put(context.Background(), "spdsvc01", seed, store.Absent)
	require.NoError(t, err)
	c.ok(t, "pull")
	c.ok(t, "--cluster", "pull")

	// fs#01 takes 30 s to start on spd02.
	c.writeRegistry(t, map[string]string{"spd02": "SVCKIT_FAKE_LATENCY_OF=fs#01:start=30s"})
	out, errs, code := c.svcmgr(t, "--cluster", "start", "--command-timeout", "2s")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errs)
	require.Contains(t, errs, "start failed on spd02: ")
	require.Contains(t, errs, "start: context deadline exceeded (cancelled on the node: the remote command stopped)")
	require.Contains(t, errs, "state afterwards (re-read): avail ")
	_, err = os.Stat(filepath.Join(spd02.root, "var", "spdsvc01", "lock.holder"))
	require.ErrorIs(t, err, os.ErrNotExist, "the remote action released its lock")

	// Had the remote action gone on, fs#01 would come up within 30 s;
	// the state stays what the report said.
	c.writeRegistry(t, nil)
	time.Sleep(3 * time.Second)
	status := c.status(t)
	ns := status.Nodes["spd02"]
	require.Contains(t, errs, fmt.Sprintf("state afterwards (re-read): avail %s, overall %s", ns.Avail, ns.Overall))
	for _, r := range ns.Resources {
		if r.RID == "fs#01" {
			require.NotEqual(t, "up", r.Status.String(), "fs#01 came up after the timeout")
		}
	}
}

// TestSSHSyncStatus runs svcmgr on its real drivers over SSH: the status
// of sync#i0 on spd01 asks every other node for its config checksum
// (svcmgr print config checksum, which reads no status), warns naming the
// node whose config was changed by hand and the node that cannot be
// reached, and is up again after sync nodes, with the time in its label.
func TestSSHSyncStatus(t *testing.T) {
	c := startSSHCluster(t, "spd01", "spd02", "spd03")
	conf := []byte("[DEFAULT]\nnodes = spd01 spd02 spd03\nflex_primary = spd01\ncluster_type = flex\n")
	for _, n := range c.nodes {
		require.NoError(t, os.WriteFile(filepath.Join(n.root, "etc", "spdsvc01.conf"), conf, 0o600))
	}
	real := func(args ...string) (string, string, int) {
		base := []string{"--root", c.nodes[0].root, "--node", "spd01", "-s", "spdsvc01",
			"--ssh-key", c.clientKey, "--known-hosts", c.knownHosts, "--connect-timeout", "5s"}
		cmd := exec.Command(c.bin, append(base, args...)...)
		cmd.Env = append(os.Environ(), "SVCKIT_ROOT=", "SVCKIT_STORE=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return out.String(), errb.String(), code
	}
	syncOf := func() svc.ResourceStatus {
		t.Helper()
		out, errs, code := real("--format", "json", "print", "status")
		require.Equal(t, 0, code, "%s\n%s", out, errs)
		var ns cluster.NodeStatus
		require.NoError(t, json.Unmarshal([]byte(out), &ns), out)
		for _, r := range ns.Resources {
			if r.RID == "sync#i0" {
				return r
			}
		}
		t.Fatalf("no sync#i0 in %s", out)
		return svc.ResourceStatus{}
	}

	// The remote verb the status uses.
	out, errs, code := real("--format", "json", "print", "config", "checksum")
	require.Equal(t, 0, code, errs)
	var sum cluster.ConfigChecksum
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.Equal(t, cluster.ConfigChecksum{Service: "spdsvc01", Node: "spd01", Checksum: store.Checksum(conf)}, sum)
	tr, err := cluster.NewSSH(cluster.SSHOptions{Nodes: mustNodes(t, c), KeyFiles: []string{c.clientKey}, KnownHosts: []string{c.knownHosts}})
	require.NoError(t, err)
	defer tr.Close()
	p, err := tr.Peer("spd02")
	require.NoError(t, err)
	got, err := p.ConfigChecksum(context.Background(), "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, store.Checksum(conf), got)
	_, err = p.ConfigChecksum(context.Background(), "nosuchsvc")
	require.ErrorContains(t, err, "spd02: svcmgr print config checksum: ")

	r := syncOf()
	require.Equal(t, "up", r.Status.String(), "%v", r.Log)
	require.Equal(t, "rsync svc config to drpnodes, nodes", r.Label)

	// spd02's config changed by hand, spd03's sshd unreachable (its port
	// in the registry points nowhere).
	require.NoError(t, os.WriteFile(filepath.Join(c.nodes[1].root, "etc", "spdsvc01.conf"), append(append([]byte{}, conf...), "# edited\n"...), 0o600))
	c.nodes[2].port = freePort(t)
	c.writeRegistry(t, nil)
	r = syncOf()
	require.Equal(t, "warn", r.Status.String())
	require.Len(t, r.Log, 1)
	require.Contains(t, r.Log[0], "config differs from this node's (sha256 "+store.Short(store.Checksum(conf))+") on spd02: svcmgr sync nodes")
	require.Contains(t, r.Log[0], "config not compared on spd03 (spd03: ssh 127.0.0.1:")
	text, _, code := real("print", "status")
	require.Equal(t, 0, code)
	require.Contains(t, text, "sync#i0")
	require.Contains(t, text, "warn")

	// sync nodes: spd02 gets the config back, spd03 fails; a start does not
	// wait for the peers.
	out, errs, code = real("sync", "nodes")
	require.Equal(t, 1, code, "%s\n%s", out, errs)
	require.Contains(t, out, "spd02: installed config sha256 "+store.Short(store.Checksum(conf)))
	out, errs, code = real("start")
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	r = syncOf()
	require.Equal(t, "warn", r.Status.String())
	require.NotContains(t, r.Log[0], "on spd02")
	require.Contains(t, r.Log[0], "last sync nodes failed on spd03: ")
	require.Regexp(t, `^rsync svc config to drpnodes, nodes \(last sync \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)$`, r.Label)
}

func mustNodes(t *testing.T, c *sshCluster) *cluster.Nodes {
	n, err := cluster.LoadNodes(filepath.Join(c.nodes[0].root, "etc", "nodes.conf"))
	require.NoError(t, err)
	return n
}
