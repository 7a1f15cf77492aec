package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/svckit/svckit/svc"
)

func TestParseNodes(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		lookup     string
		want       Node
		err        string
	}{
		{name: "undeclared node", text: "", lookup: "spd02",
			want: Node{Name: "spd02", Address: "spd02", Port: 22, User: "root", Svcmgr: "svcmgr"}},
		{name: "defaults and section", lookup: "spd02",
			text: "[DEFAULT]\nuser = svckit\nsvcmgr = /usr/local/bin/svcmgr\n\n[spd02]\naddress = 10.0.0.2\nport = 2202\nroot = /srv/svckit\nenv = SVCKIT_FAKE_FAULTS=fs#01:start 'A=b c'\n",
			want: Node{Name: "spd02", Address: "10.0.0.2", Port: 2202, User: "svckit", Svcmgr: "/usr/local/bin/svcmgr", Root: "/srv/svckit", Env: []string{"SVCKIT_FAKE_FAULTS=fs#01:start", "A=b c"}}},
		{name: "defaults apply to undeclared", lookup: "spd09", text: "[DEFAULT]\nport = 2222\n",
			want: Node{Name: "spd09", Address: "spd09", Port: 2222, User: "root", Svcmgr: "svcmgr"}},
		{name: "bad port", text: "[spd02]\nport = ssh\n", err: `nodes.conf: [spd02] port = "ssh": expected a TCP port (1-65535)`},
		{name: "unknown key", text: "[spd02]\nadress = x\n", err: "nodes.conf: [spd02] adress: unknown keyword: expected one of address, port, user, svcmgr, root, env"},
		{name: "bad env", text: "[spd02]\nenv = NOVALUE\n", err: `nodes.conf: [spd02] env: "NOVALUE": expected NAME=value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ParseNodes("nodes.conf", []byte(tc.text))
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, n.Lookup(tc.lookup))
		})
	}
	n, err := LoadNodes(filepath.Join(t.TempDir(), "missing.conf"))
	require.NoError(t, err)
	require.Empty(t, n.Names())
}

// TestSSHCommandQuoting runs the remote command line through a real
// shell, with a script in place of svcmgr: every word and the
// environment arrive as they were given.
func TestSSHCommandQuoting(t *testing.T) {
	script := filepath.Join(t.TempDir(), "args")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nfor w in \"$@\"; do echo \"[$w]\"; done\necho \"X=[$X]\"\n"), 0o755))
	tr := &SSH{opts: SSHOptions{Args: []string{"--fake"}}}
	n := Node{Name: "spd02", Svcmgr: script, Root: "/srv/with space", Env: []string{"X=it's $HOME"}}
	line := tr.command(n, "spdsvc01", []string{"--tags", "sm+pod01,db", "--source", "primary spd01; rm -rf /", "$(id)"})
	out, err := exec.Command("/bin/sh", "-c", line).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "[--root]\n[/srv/with space]\n[--node]\n[spd02]\n[-s]\n[spdsvc01]\n[--format]\n[json]\n[--fake]\n[--tags]\n[sm+pod01,db]\n[--source]\n[primary spd01; rm -rf /]\n[$(id)]\nX=[it's $HOME]\n", string(out))
}

func TestSelectionArgs(t *testing.T) {
	rb := false
	got := selectionArgs(svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"fs#01", "container"}, Tags: "pod16", Subsets: []string{"cge"}},
		DryRun: true, Force: true, LockTimeout: time.Minute, Scheduler: "groups", MaxParallel: 4, Rollback: &rb})
	require.Equal(t, []string{"--rid", "fs#01,container", "--tags", "pod16", "--subsets", "cge", "--dry-run", "--force",
		"--waitlock", "1m0s", "--scheduler", "groups", "--max-parallel", "4", "--rollback=false"}, got)
	// --waitlock 0 reaches the peers as "do not wait".
	require.Equal(t, []string{"--waitlock", "0s"}, selectionArgs(svc.ActionOptions{NoLockWait: true, LockTimeout: time.Minute}))
}

func writeTestKey(t *testing.T, path string) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
}

// TestSSHConnectTimeout: a peer that accepts the connection and never
// speaks SSH fails within the connect timeout, named.
func TestSSHConnectTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	writeTestKey(t, key)
	kh := filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(kh, nil, 0o600))
	port := l.Addr().(*net.TCPAddr).Port
	nodes, err := ParseNodes("nodes.conf", []byte("[spd02]\naddress = 127.0.0.1\nport = "+strconv.Itoa(port)+"\n"))
	require.NoError(t, err)
	tr, err := NewSSH(SSHOptions{Nodes: nodes, KeyFiles: []string{key}, KnownHosts: []string{kh}, ConnectTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer tr.Close()
	p, err := tr.Peer("spd02")
	require.NoError(t, err)
	_, err = p.Status(context.Background(), "spdsvc01")
	require.ErrorContains(t, err, "spd02: ssh root@127.0.0.1:"+strconv.Itoa(port))
	require.ErrorContains(t, err, "i/o timeout")

	_, err = NewSSH(SSHOptions{KeyFiles: []string{key}})
	require.ErrorContains(t, err, "host keys must be verified")

	// A peer is named by the node name rule: no connection is tried.
	for _, bad := range []string{"nodes", "drpnodes", "flex_primary", "Spd02", "-oProxyCommand=x"} {
		_, err = tr.Peer(bad)
		require.ErrorContains(t, err, "ssh peer: node name", bad)
	}
}
