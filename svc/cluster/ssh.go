package cluster

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/svc"
)

// SSHOptions configure the SSH transport.
type SSHOptions struct {
	// Nodes says how to reach each node.
	Nodes *Nodes
	// KeyFiles are the private keys to authenticate with (unencrypted
	// PEM/OpenSSH); at least one.
	KeyFiles []string
	// KnownHosts are known_hosts files; every host key is verified
	// against them, an unknown or changed key is refused.
	KnownHosts []string
	// ConnectTimeout bounds the TCP connection and the SSH handshake.
	// Default 10s.
	ConnectTimeout time.Duration
	// CommandTimeout bounds each remote command. Default 10m.
	CommandTimeout time.Duration
	// Args are global svcmgr flags passed to every remote command (like
	// --fake).
	Args []string
}

// SSH is a transport that runs svcmgr on the peers over SSH and reads
// its JSON output:
//
//	[env NAME=value...] svcmgr [--root R] --node N -s SVC --format json ARGS...
//
// Connections are opened on first use and kept until Close.
type SSH struct {
	opts     SSHOptions
	signers  []ssh.Signer
	hostKeys ssh.HostKeyCallback

	mu      sync.Mutex
	clients map[string]*ssh.Client
}

// NewSSH loads the keys and known_hosts files.
func NewSSH(opts SSHOptions) (*SSH, error) {
	if opts.Nodes == nil {
		opts.Nodes = &Nodes{byName: map[string]Node{}}
	}
	if len(opts.KeyFiles) == 0 {
		return nil, errors.New("ssh transport: no private key file: expected at least one")
	}
	if len(opts.KnownHosts) == 0 {
		return nil, errors.New("ssh transport: no known_hosts file: host keys must be verified")
	}
	t := &SSH{opts: opts, clients: map[string]*ssh.Client{}}
	for _, f := range opts.KeyFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ssh transport: private key: %w", err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			return nil, fmt.Errorf("ssh transport: private key %s: %w", f, err)
		}
		t.signers = append(t.signers, s)
	}
	cb, err := knownhosts.New(opts.KnownHosts...)
	if err != nil {
		return nil, fmt.Errorf("ssh transport: known_hosts: %w", err)
	}
	t.hostKeys = cb
	if t.opts.ConnectTimeout == 0 {
		t.opts.ConnectTimeout = 10 * time.Second
	}
	if t.opts.CommandTimeout == 0 {
		t.opts.CommandTimeout = 10 * time.Minute
	}
	return t, nil
}

// Close closes the open connections.
func (t *SSH) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for name, c := range t.clients {
		errs = append(errs, c.Close())
		delete(t.clients, name)
	}
	return errors.Join(errs...)
}

// Peer returns the peer of node.
func (t *SSH) Peer(node string) (Peer, error) {
	if err := nodename.Check(node); err != nil {
		return nil, fmt.Errorf("ssh peer: %w", err)
	}
	return &sshPeer{t: t, node: t.opts.Nodes.Lookup(node)}, nil
}

// hostKeyAlgorithms returns the key types known_hosts has for addr, so
// that the server is asked for a key we can verify (else it may offer
// another type and fail the check).
func (t *SSH) hostKeyAlgorithms(addr string) []string {
	// A throwaway key never matches: the KeyError lists the known ones.
	_, priv, _ := ed25519GenerateKey()
	probe, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil
	}
	tcp, _ := net.ResolveTCPAddr("tcp", addr)
	err = t.hostKeys(addr, tcp, probe.PublicKey())
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		typ := k.Key.Type()
		var add []string
		switch typ {
		case ssh.KeyAlgoRSA:
			add = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		default:
			add = []string{typ}
		}
		for _, a := range add {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func (t *SSH) client(ctx context.Context, n Node) (*ssh.Client, error) {
	t.mu.Lock()
	c, ok := t.clients[n.Name]
	t.mu.Unlock()
	if ok {
		return c, nil
	}
	addr := net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
	cfg := &ssh.ClientConfig{
		User:              n.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(t.signers...)},
		HostKeyCallback:   t.hostKeys,
		HostKeyAlgorithms: t.hostKeyAlgorithms(addr),
		Timeout:           t.opts.ConnectTimeout,
	}
	dctx, cancel := context.WithTimeout(ctx, t.opts.ConnectTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: ssh %s: %w", n.Name, addr, err)
	}
	// The handshake is bounded too: a peer that accepts the TCP
	// connection and says nothing must not hang the cluster action.
	conn.SetDeadline(time.Now().Add(t.opts.ConnectTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: ssh %s@%s: %w", n.Name, n.User, addr, err)
	}
	conn.SetDeadline(time.Time{})
	c = ssh.NewClient(sc, chans, reqs)
	t.mu.Lock()
	if old, ok := t.clients[n.Name]; ok {
		// Another goroutine connected first: keep one connection.
		t.mu.Unlock()
		c.Close()
		return old, nil
	}
	t.clients[n.Name] = c
	t.mu.Unlock()
	return c, nil
}

func (t *SSH) drop(n Node, c *ssh.Client) {
	t.mu.Lock()
	if t.clients[n.Name] == c {
		delete(t.clients, n.Name)
	}
	t.mu.Unlock()
	c.Close()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+#", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// command returns the remote command line for args.
func (t *SSH) command(n Node, svcname string, args []string) string {
	var words []string
	if len(n.Env) > 0 {
		words = append(words, "env")
		words = append(words, n.Env...)
	}
	words = append(words, n.Svcmgr)
	if n.Root != "" {
		words = append(words, "--root", n.Root)
	}
	words = append(words, "--node", n.Name, "-s", svcname, "--format", "json")
	words = append(words, t.opts.Args...)
	words = append(words, args...)
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

// CancelGrace is how long a cancelled or timed-out remote command has to
// stop (its triggers get svc.TriggerGrace) before the session is closed.
const CancelGrace = svc.TriggerGrace + 3*time.Second

// run runs svcmgr on n with stdin, and returns its stdout, stderr and
// exit error. A command run without stdin gets --cancel-on-stdin-eof and
// a stdin kept open: on cancellation or timeout the remote svcmgr is sent
// SIGTERM and its stdin is closed, so that it cancels its action (sshd
// does not always deliver signals, and closing the session alone leaves
// the remote command running), and run waits up to CancelGrace for it to
// stop and release the service lock.
func (t *SSH) run(ctx context.Context, n Node, svcname string, args []string, stdin []byte) (stdout, stderr []byte, runErr error, err error) {
	ctx, cancel := context.WithTimeout(ctx, t.opts.CommandTimeout)
	defer cancel()
	var sess *ssh.Session
	for attempt := 0; ; attempt++ {
		c, err := t.client(ctx, n)
		if err != nil {
			return nil, nil, nil, err
		}
		sess, err = c.NewSession()
		if err == nil {
			break
		}
		// A kept connection may have died: reconnect once.
		t.drop(n, c)
		if attempt > 0 {
			return nil, nil, nil, fmt.Errorf("%s: ssh session: %w", n.Name, err)
		}
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	shown := strings.Join(args, " ")
	var hold io.WriteCloser
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	} else {
		hold, err = sess.StdinPipe()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: ssh stdin: %w", n.Name, err)
		}
		args = append([]string{"--cancel-on-stdin-eof"}, args...)
	}
	cmd := t.command(n, svcname, args)
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case runErr = <-done:
		if hold != nil {
			hold.Close()
		}
	case <-ctx.Done():
		sess.Signal(ssh.SIGTERM)
		if hold != nil {
			hold.Close()
		}
		stopped := "the remote command stopped"
		select {
		case <-done:
		case <-time.After(CancelGrace):
			stopped = fmt.Sprintf("the remote command did not stop within %s", CancelGrace)
		}
		sess.Close()
		return out.Bytes(), errb.Bytes(), nil, fmt.Errorf("%s: %s: %w (cancelled on the node: %s)", n.Name, shown, ctx.Err(), stopped)
	}
	var exit *ssh.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return out.Bytes(), errb.Bytes(), nil, fmt.Errorf("%s: %s: %w", n.Name, shown, runErr)
	}
	return out.Bytes(), errb.Bytes(), runErr, nil
}

type sshPeer struct {
	t    *SSH
	node Node
}

// call runs args and decodes the JSON on stdout into v. A failed command
// that printed its JSON result still fills v; the error then carries the
// last lines of its stderr.
func (p *sshPeer) call(ctx context.Context, svcname string, args []string, stdin []byte, v any) error {
	stdout, stderr, runErr, err := p.t.run(ctx, p.node, svcname, args, stdin)
	if err != nil {
		return err
	}
	jerr := json.Unmarshal(bytes.TrimSpace(stdout), v)
	if runErr != nil {
		return fmt.Errorf("%s: svcmgr %s: %s", p.node.Name, strings.Join(args, " "), tail(stderr, runErr))
	}
	if jerr != nil {
		return fmt.Errorf("%s: svcmgr %s: output is not the expected JSON: %v (stderr: %s)", p.node.Name, strings.Join(args, " "), jerr, tail(stderr, nil))
	}
	return nil
}

// tail returns the error lines svcmgr printed, or the exit status.
func tail(stderr []byte, runErr error) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	var keep []string
	for _, l := range lines {
		if strings.HasPrefix(l, "svcmgr: ") {
			keep = append(keep, strings.TrimPrefix(l, "svcmgr: "))
		}
	}
	if len(keep) == 0 && len(lines) > 0 && lines[0] != "" {
		keep = lines[max(0, len(lines)-3):]
	}
	msg := strings.Join(keep, "; ")
	if msg == "" && runErr != nil {
		msg = runErr.Error()
	}
	return msg
}

func selectionArgs(opts svc.ActionOptions) []string {
	var a []string
	if len(opts.RIDs) > 0 {
		a = append(a, "--rid", strings.Join(opts.RIDs, ","))
	}
	if opts.Tags != "" {
		a = append(a, "--tags", opts.Tags)
	}
	if len(opts.Subsets) > 0 {
		a = append(a, "--subsets", strings.Join(opts.Subsets, ","))
	}
	if opts.DryRun {
		a = append(a, "--dry-run")
	}
	if opts.Force {
		a = append(a, "--force")
	}
	switch {
	case opts.NoLockWait:
		a = append(a, "--waitlock", "0s")
	case opts.LockTimeout > 0:
		a = append(a, "--waitlock", opts.LockTimeout.String())
	}
	if opts.Scheduler != "" {
		a = append(a, "--scheduler", opts.Scheduler)
	}
	if opts.MaxParallel > 0 {
		a = append(a, "--max-parallel", strconv.Itoa(opts.MaxParallel))
	}
	if opts.Rollback != nil {
		a = append(a, "--rollback="+strconv.FormatBool(*opts.Rollback))
	}
	return a
}

func (p *sshPeer) Do(ctx context.Context, svcname string, action svc.Action, opts svc.ActionOptions) (*svc.Result, error) {
	var res svc.Result
	err := p.call(ctx, svcname, append(selectionArgs(opts), string(action)), nil, &res)
	if res.Action == "" {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: svcmgr %s: no result in the output", p.node.Name, action)
	}
	if err == nil && res.Error != "" {
		err = fmt.Errorf("%s: %s", p.node.Name, res.Error)
	}
	return &res, err
}

func (p *sshPeer) Status(ctx context.Context, svcname string) (*NodeStatus, error) {
	var st NodeStatus
	if err := p.call(ctx, svcname, []string{"print", "status"}, nil, &st); err != nil {
		return nil, err
	}
	if st.StatusReport == nil || st.Node == "" {
		return nil, fmt.Errorf("%s: print status: no status in the output", p.node.Name)
	}
	return &st, nil
}

func (p *sshPeer) Pull(ctx context.Context, svcname string, opts InstallOptions) (*ConfigChange, error) {
	args := []string{"pull"}
	if opts.DryRun {
		args = []string{"--dry-run", "pull"}
	}
	var ch ConfigChange
	err := p.call(ctx, svcname, args, nil, &ch)
	return &ch, err
}

func (p *sshPeer) Install(ctx context.Context, svcname string, data []byte, source string, opts InstallOptions) (*ConfigChange, error) {
	args := []string{"receive", "--source", source}
	if opts.DryRun {
		args = append([]string{"--dry-run"}, args...)
	}
	var ch ConfigChange
	err := p.call(ctx, svcname, args, data, &ch)
	return &ch, err
}

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// ConfigChecksum runs svcmgr print config checksum on the peer, which
// reads the config file and nothing else.
func (p *sshPeer) ConfigChecksum(ctx context.Context, svcname string) (string, error) {
	var v ConfigChecksum
	if err := p.call(ctx, svcname, []string{"print", "config", "checksum"}, nil, &v); err != nil {
		return "", err
	}
	if len(v.Checksum) != 64 || strings.Trim(v.Checksum, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s: print config checksum: %q: expected a sha256 in hex", p.node.Name, v.Checksum)
	}
	return v.Checksum, nil
}
