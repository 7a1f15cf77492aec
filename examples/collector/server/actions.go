package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/resource/secret"
	"github.com/svckit/svckit/svc/store"
)

// Action statuses: queued until the node claims it, running until it
// reports, then done (it ran) or refused (the node would not run it).
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusRefused = "refused"
	// StatusExpired: claimed MaxAttempts times, the lease ran out each
	// time without a report (the node died running it).
	StatusExpired = "expired"
)

// Defaults of a Lease: longer than nodemgr's default action timeout
// (10m), so that an action still running is never claimed twice.
const (
	DefaultActionLease = 30 * time.Minute
	DefaultMaxAttempts = 3
)

// Lease says how long a dequeued action stays the claimer's: past For
// without a report (nor a renewal), the action returns to the queue, at
// most MaxAttempts claims in all; then it is expired. Zero fields take
// the defaults, a zero Now the current time.
type Lease struct {
	Now         time.Time
	For         time.Duration
	MaxAttempts int
}

func (l Lease) norm() Lease {
	if l.Now.IsZero() {
		l.Now = time.Now()
	}
	if l.For <= 0 {
		l.For = DefaultActionLease
	}
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = DefaultMaxAttempts
	}
	return l
}

// Bounds of an action: its command line and what the node reports.
const (
	MaxActionArgs   = 64
	MaxActionArg    = 4096
	MaxActionOutput = 64 << 10
	MaxActionReason = 1024
	// MaxDequeue is how many actions one dequeue claims.
	MaxDequeue = 100
	// DefaultNotifyPort is where the reference's node listens for the
	// collector's "actions are waiting" connection (the seed's
	// opensvc-actions.socket).
	DefaultNotifyPort = 1214
)

// Action is one queued command for a node, or for a service on a node.
// Argv is the command as words: the node never hands it to a shell, and
// runs it only when its allow-list accepts it.
type Action struct {
	ID        int64    `json:"id"`
	Node      string   `json:"nodename"`
	Service   string   `json:"svc_name,omitempty"`
	Argv      []string `json:"argv"`
	Status    string   `json:"status"`
	ExitCode  *int64   `json:"exit_code,omitempty"`
	Output    string   `json:"output,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Created   string   `json:"created"`
	CreatedBy string   `json:"created_by"`
	ClaimedAt string   `json:"claimed_at,omitempty"`
	DoneAt    string   `json:"done_at,omitempty"`
	// Attempt counts the claims; a report may name the one it answers.
	Attempt int64 `json:"attempt,omitempty"`
	// LeaseUntil is when a running action returns to the queue.
	LeaseUntil string `json:"lease_until,omitempty"`
}

// checkArgv bounds an action's command; what may run is the node's
// decision (its allow-list), the collector only refuses what no node
// could parse.
func checkArgv(argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("%w: argv: expected the command as a list of words, got none", ErrBadInput)
	}
	if len(argv) > MaxActionArgs {
		return fmt.Errorf("%w: argv: more than %d words", ErrBadInput, MaxActionArgs)
	}
	for i, a := range argv {
		if len(a) > MaxActionArg {
			return fmt.Errorf("%w: argv[%d]: longer than %d bytes", ErrBadInput, i, MaxActionArg)
		}
		if strings.ContainsRune(a, 0) || !utf8.ValidString(a) {
			return fmt.Errorf("%w: argv[%d]: expected UTF-8 text without NUL", ErrBadInput, i)
		}
	}
	return nil
}

// boundOutput keeps the head of an output within MaxActionOutput (on a
// rune boundary) and masks what resource/secret's rule says is a secret.
func boundOutput(out string) string {
	out = strings.ToValidUTF8(out, "\uFFFD")
	if len(out) > MaxActionOutput {
		cut := MaxActionOutput
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "\n[output truncated]"
	}
	return secret.RedactCommand(out)
}

// Enqueue stores a queued action for node (and svc when not "").
func (d *DB) Enqueue(ctx context.Context, node, svc string, argv []string, by string) (*Action, error) {
	if err := checkArgv(argv); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(argv)
	if err != nil {
		return nil, err
	}
	a := &Action{Node: node, Service: svc, Argv: argv, Status: StatusQueued, Created: now(), CreatedBy: by}
	err = d.sql.QueryRowContext(ctx, d.q(`INSERT INTO actions (nodename, svc_name, argv, status, output, reason, created, created_by, claimed_at, done_at)
		VALUES (?, ?, ?, ?, '', '', ?, ?, '', '') RETURNING id`), node, svc, string(raw), StatusQueued, a.Created, by).Scan(&a.ID)
	if err != nil {
		return nil, fmt.Errorf("enqueue for %s: %w", node, err)
	}
	return a, nil
}

const actionCols = `id, nodename, svc_name, argv, status, exit_code, output, reason, created, created_by, claimed_at, done_at, attempts, lease_until_ns`

func scanAction(sc interface{ Scan(...any) error }) (*Action, error) {
	a := &Action{}
	var raw string
	var code sql.NullInt64
	var lease int64
	if err := sc.Scan(&a.ID, &a.Node, &a.Service, &raw, &a.Status, &code, &a.Output, &a.Reason, &a.Created, &a.CreatedBy, &a.ClaimedAt, &a.DoneAt, &a.Attempt, &lease); err != nil {
		return nil, err
	}
	if a.Status == StatusRunning && lease > 0 {
		a.LeaseUntil = time.Unix(0, lease).UTC().Format(time.RFC3339Nano)
	}
	if code.Valid {
		a.ExitCode = &code.Int64
	}
	if err := json.Unmarshal([]byte(raw), &a.Argv); err != nil {
		return nil, fmt.Errorf("action %d: argv: %w", a.ID, err)
	}
	return a, nil
}

// Action returns one action; a node (scope != "") sees its own only,
// another's answers ErrNotFound as a missing one does.
func (d *DB) Action(ctx context.Context, id int64, scope string) (*Action, error) {
	q := `SELECT ` + actionCols + ` FROM actions WHERE id = ?`
	args := []any{id}
	if scope != "" {
		q += ` AND nodename = ?`
		args = append(args, scope)
	}
	a, err := scanAction(d.sql.QueryRowContext(ctx, d.q(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("action %d: %w", id, ErrNotFound)
	}
	return a, err
}

// Actions lists the actions of node ("" all, or those of the nodes of
// apps when apps is not nil), newest first.
func (d *DB) Actions(ctx context.Context, node string, apps []string, limit int) ([]*Action, error) {
	q := `SELECT ` + actionCols + ` FROM actions`
	var args []any
	switch {
	case node != "":
		q += ` WHERE nodename = ?`
		args = append(args, node)
	case apps != nil:
		q += ` WHERE nodename IN (SELECT nodename FROM nodes WHERE app IN (` + placeholders(len(apps)) + `))`
		for _, a := range apps {
			args = append(args, a)
		}
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.sql.QueryContext(ctx, d.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Action{}
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// requeueExpired returns node's running actions whose lease ran out to
// the queue, or expires those claimed MaxAttempts times. Each UPDATE is
// conditional on the lease: a report or a renewal that lands first wins.
func (d *DB) requeueExpired(ctx context.Context, node string, l Lease) error {
	ns := l.Now.UnixNano()
	if _, err := d.sql.ExecContext(ctx, d.q(`UPDATE actions SET status = ?, reason = ?, done_at = ? WHERE nodename = ? AND status = ? AND lease_until_ns < ? AND attempts >= ?`),
		StatusExpired, fmt.Sprintf("claimed %d times, each time the lease ran out without a report", l.MaxAttempts), l.Now.UTC().Format(time.RFC3339Nano),
		node, StatusRunning, ns, l.MaxAttempts); err != nil {
		return err
	}
	_, err := d.sql.ExecContext(ctx, d.q(`UPDATE actions SET status = ?, lease_until_ns = 0 WHERE nodename = ? AND status = ? AND lease_until_ns < ?`),
		StatusQueued, node, StatusRunning, ns)
	return err
}

// Dequeue claims up to limit queued actions of node, oldest first, each
// for the lease's time. Actions whose lease ran out are queued again
// first. Each claim is a conditional UPDATE (status still queued, the
// claims counted so far unchanged): of two dequeues racing for an action
// exactly one gets it, on both databases, without holding a transaction
// across the rows.
func (d *DB) Dequeue(ctx context.Context, node string, limit int, l Lease) ([]*Action, error) {
	l = l.norm()
	if err := d.requeueExpired(ctx, node, l); err != nil {
		return nil, err
	}
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT `+actionCols+` FROM actions WHERE nodename = ? AND status = ? ORDER BY id LIMIT ?`), node, StatusQueued, limit)
	if err != nil {
		return nil, err
	}
	var cands []*Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		cands = append(cands, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []*Action{}
	ts := l.Now.UTC().Format(time.RFC3339Nano)
	until := l.Now.Add(l.For)
	for _, a := range cands {
		res, err := d.sql.ExecContext(ctx, d.q(`UPDATE actions SET status = ?, claimed_at = ?, attempts = attempts + 1, lease_until_ns = ? WHERE id = ? AND nodename = ? AND status = ? AND attempts = ?`),
			StatusRunning, ts, until.UnixNano(), a.ID, node, StatusQueued, a.Attempt)
		if err != nil {
			return out, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return out, err
		} else if n == 1 {
			a.Status, a.ClaimedAt, a.Attempt = StatusRunning, ts, a.Attempt+1
			a.LeaseUntil = until.UTC().Format(time.RFC3339Nano)
			out = append(out, a)
		}
	}
	return out, nil
}

// Renew extends the lease of a running action of node by l.For from
// l.Now: a node running a long action renews before the lease runs out.
// attempt, when not 0, must be the current claim.
func (d *DB) Renew(ctx context.Context, node string, id, attempt int64, l Lease) (*Action, error) {
	l = l.norm()
	q := `UPDATE actions SET lease_until_ns = ? WHERE id = ? AND nodename = ? AND status = ? AND lease_until_ns >= ?`
	args := []any{l.Now.Add(l.For).UnixNano(), id, node, StatusRunning, l.Now.UnixNano()}
	if attempt != 0 {
		q += ` AND attempts = ?`
		args = append(args, attempt)
	}
	res, err := d.sql.ExecContext(ctx, d.q(q), args...)
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	a, err := d.Action(ctx, id, node)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: action %d (%s, claim %d): no lease of claim %d to renew: it ran out or the action was reported", ErrExists, id, a.Status, a.Attempt, attempt)
	}
	return a, nil
}

// Report records the result of a running action of node: status done or
// refused, its exit code, its output (bounded and redacted here too, so
// that the database never holds more than a report may). attempt, when
// not 0, must be the current claim: the report of a claim whose lease
// ran out and that was claimed again is refused.
func (d *DB) Report(ctx context.Context, node string, id, attempt int64, status string, code int64, output, reason string) (*Action, error) {
	if status != StatusDone && status != StatusRefused {
		return nil, fmt.Errorf("%w: status %q: expected %s or %s", ErrBadInput, status, StatusDone, StatusRefused)
	}
	if len(reason) > MaxActionReason {
		return nil, fmt.Errorf("%w: reason: longer than %d bytes", ErrBadInput, MaxActionReason)
	}
	output, reason = boundOutput(output), boundOutput(reason)
	q := `UPDATE actions SET status = ?, exit_code = ?, output = ?, reason = ?, done_at = ?, lease_until_ns = 0 WHERE id = ? AND nodename = ? AND status = ?`
	args := []any{status, code, output, reason, now(), id, node, StatusRunning}
	if attempt != 0 {
		q += ` AND attempts = ?`
		args = append(args, attempt)
	}
	res, err := d.sql.ExecContext(ctx, d.q(q), args...)
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	a, err := d.Action(ctx, id, node)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		if attempt != 0 && a.Status == StatusRunning {
			return nil, fmt.Errorf("%w: action %d is running as claim %d, not %d: its lease ran out and it was claimed again", ErrExists, id, a.Attempt, attempt)
		}
		return nil, fmt.Errorf("%w: action %d is %s, not running: report it once, after a dequeue", ErrExists, id, a.Status)
	}
	return a, nil
}

// NodeExists tells whether node is registered.
func (d *DB) NodeExists(ctx context.Context, node string) (bool, error) {
	var n int
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM nodes WHERE nodename = ?`), node).Scan(&n)
	return n > 0, err
}

// SetNotifyAddr sets where the collector connects to tell node that
// actions wait ("" : the node's name on DefaultNotifyPort).
func (d *DB) SetNotifyAddr(ctx context.Context, node, addr string) error {
	_, err := d.sql.ExecContext(ctx, d.q(`UPDATE nodes SET notify_addr = ? WHERE nodename = ?`), addr, node)
	return err
}

// NotifyAddr returns the address the collector notifies node at.
func (d *DB) NotifyAddr(ctx context.Context, node string, port int) (string, error) {
	var addr string
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT notify_addr FROM nodes WHERE nodename = ?`), node).Scan(&addr)
	if err != nil {
		return "", err
	}
	if addr == "" {
		addr = net.JoinHostPort(node, strconv.Itoa(port))
	}
	return addr, nil
}

// checkNotifyAddr accepts host:port with a numeric port.
func checkNotifyAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || len(addr) > 300 {
		return fmt.Errorf("notify_addr %q: expected host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("notify_addr %q: expected a port from 1 to 65535", addr)
	}
	return nil
}

// notify opens a TCP connection to the node and closes it: the seed's
// socket unit starts "nodemgr dequeue actions" per connection, which
// reads nothing from it. A failure is logged; the action stays queued
// for the node's next dequeue.
func (s *Server) notify(node string) {
	if s.opts.NotifyPort < 0 {
		return
	}
	port := s.opts.NotifyPort
	if port == 0 {
		port = DefaultNotifyPort
	}
	s.notifying.Add(1)
	go func() {
		defer s.notifying.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		addr, err := s.db.NotifyAddr(ctx, node, port)
		if err == nil {
			var c net.Conn
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
				s.log.Info("notified", "node", node, "addr", addr)
				return
			}
		}
		s.log.Warn("notify failed: the actions stay queued for the node's next dequeue", "node", node, "error", err)
	}()
}

// WaitNotify waits for the notifications under way (at shutdown, in
// tests).
func (s *Server) WaitNotify() { s.notifying.Wait() }

func (s *Server) postAction(w http.ResponseWriter, r *http.Request) {
	if !s.userOnly(w, r) {
		return
	}
	var body struct {
		Node    string   `json:"nodename"`
		Service string   `json:"svc_name"`
		Argv    []string `json:"argv"`
	}
	if !s.decode(w, r, MaxSmallBody, &body) {
		return
	}
	if err := nodename.Check(body.Node); err != nil {
		s.fail(w, http.StatusBadRequest, "nodename: %v", err)
		return
	}
	ok, err := s.seesNode(r.Context(), principalOf(r), body.Node)
	if err == nil && ok {
		ok, err = s.db.NodeExists(r.Context(), body.Node)
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if !ok {
		s.fail(w, http.StatusNotFound, "node %s: not registered", body.Node)
		return
	}
	if body.Service != "" {
		if err := store.ValidServiceName(body.Service); err != nil {
			s.fail(w, http.StatusBadRequest, "svc_name: %v", err)
			return
		}
		ok, err := s.db.IsServiceNode(r.Context(), body.Service, body.Node)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if !ok {
			s.fail(w, http.StatusBadRequest, "svc_name: %s is not a node of service %s", body.Node, body.Service)
			return
		}
	}
	a, err := s.db.Enqueue(r.Context(), body.Node, body.Service, body.Argv, principalOf(r).Name)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.notify(body.Node)
	s.answer(w, http.StatusOK, map[string]any{"data": a, "info": fmt.Sprintf("action %d queued for %s", a.ID, a.Node)})
}

func (s *Server) getActions(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	node := r.URL.Query().Get("node")
	if p.Node {
		if node != "" && node != p.Name {
			s.forbidden(w, "node "+p.Name+" cannot list the actions of node "+node)
			return
		}
		node = p.Name
	} else if node != "" {
		if err := nodename.Check(node); err != nil {
			s.fail(w, http.StatusBadRequest, "node: %v", err)
			return
		}
		ok, err := s.seesNode(r.Context(), p, node)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if !ok {
			s.fail(w, http.StatusNotFound, "node %s: %v", node, ErrNotFound)
			return
		}
	}
	as, err := s.db.Actions(r.Context(), node, p.Apps, MaxRevisions)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": as, "meta": map[string]any{"count": len(as)}})
}

func actionID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("action id %q: expected a number from 1", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request) {
	id, err := actionID(r)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	scope := ""
	if p := principalOf(r); p.Node {
		scope = p.Name
	}
	a, err := s.db.Action(r.Context(), id, scope)
	if err == nil {
		var ok bool
		if ok, err = s.seesNode(r.Context(), principalOf(r), a.Node); err == nil && !ok {
			err = fmt.Errorf("action %d: %w", id, ErrNotFound)
		}
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": a})
}

func (s *Server) nodeOnly(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := principalOf(r)
	if !p.Node {
		s.forbidden(w, "only a node dequeues and reports its actions")
		return "", false
	}
	return p.Name, true
}

func (s *Server) dequeue(w http.ResponseWriter, r *http.Request) {
	node, ok := s.nodeOnly(w, r)
	if !ok {
		return
	}
	as, err := s.db.Dequeue(r.Context(), node, MaxDequeue, s.lease())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": as, "meta": map[string]any{"count": len(as)}})
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	node, ok := s.nodeOnly(w, r)
	if !ok {
		return
	}
	id, err := actionID(r)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var body struct {
		Status   string `json:"status"`
		ExitCode *int64 `json:"exit_code"`
		Output   string `json:"output"`
		Reason   string `json:"reason"`
		Attempt  int64  `json:"attempt"`
	}
	// The node bounds its output; the body limit leaves room for JSON
	// escaping of a whole bounded output.
	if !s.decode(w, r, 8*MaxActionOutput, &body) {
		return
	}
	if body.ExitCode == nil {
		s.fail(w, http.StatusBadRequest, "exit_code: expected the command's exit code")
		return
	}
	a, err := s.db.Report(r.Context(), node, id, body.Attempt, body.Status, *body.ExitCode, body.Output, body.Reason)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": a, "info": fmt.Sprintf("action %d %s", a.ID, a.Status)})
}

// lease is the lease of a claim made now.
func (s *Server) lease() Lease {
	return Lease{Now: s.now(), For: s.opts.ActionLease, MaxAttempts: s.opts.MaxAttempts}
}

// renew extends the lease of a running action of the asking node.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	node, ok := s.nodeOnly(w, r)
	if !ok {
		return
	}
	id, err := actionID(r)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var body struct {
		Attempt int64 `json:"attempt"`
	}
	if r.ContentLength != 0 && !s.decode(w, r, MaxSmallBody, &body) {
		return
	}
	a, err := s.db.Renew(r.Context(), node, id, body.Attempt, s.lease())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": a, "info": fmt.Sprintf("action %d leased until %s", a.ID, a.LeaseUntil)})
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// leaseNodes lists the nodes that have running actions whose lease ran
// out at now.
func (d *DB) leaseNodes(ctx context.Context, now time.Time) ([]string, error) {
	return d.strings(ctx, `SELECT DISTINCT nodename FROM actions WHERE status = ? AND lease_until_ns < ? ORDER BY nodename`, StatusRunning, now.UnixNano())
}

// SweepLeases returns to the queue every running action whose lease ran
// out (or expires it after MaxAttempts claims), and notifies the nodes
// whose actions wait again: a node that died running an action gets it
// back when it comes back, without waiting for a new one. It returns the
// nodes notified.
func (s *Server) SweepLeases(ctx context.Context) ([]string, error) {
	l := s.lease().norm()
	nodes, err := s.db.leaseNodes(ctx, l.Now)
	if err != nil {
		return nil, err
	}
	var notified []string
	for _, n := range nodes {
		if err := s.db.requeueExpired(ctx, n, l); err != nil {
			return notified, err
		}
		var waiting int
		if err := s.db.sql.QueryRowContext(ctx, s.db.q(`SELECT COUNT(*) FROM actions WHERE nodename = ? AND status = ?`), n, StatusQueued).Scan(&waiting); err != nil {
			return notified, err
		}
		if waiting > 0 {
			s.notify(n)
			notified = append(notified, n)
		}
	}
	return notified, nil
}

// SweepEvery runs SweepLeases every interval until ctx ends.
func (s *Server) SweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.SweepLeases(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("sweeping action leases", "error", err)
			}
		}
	}
}
