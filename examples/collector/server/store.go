package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/svc/store"
)

// Errors the API maps to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrBadInput is wrapped by errors about what the client sent.
	ErrBadInput = errors.New("bad input")
)

// Service is the current config of a service.
type Service struct {
	Name     string
	App      string
	Rev      int64
	Checksum string
	EnvFile  string
	Updated  string
	Author   string
}

// Revision is one stored version of a service config.
type Revision struct {
	Rev      int64  `json:"rev"`
	Checksum string `json:"checksum"`
	App      string `json:"svc_app"`
	Author   string `json:"author"`
	Created  string `json:"created"`
	EnvFile  string `json:"svc_envfile,omitempty"`
}

// GetService returns the current config of name.
func (d *DB) GetService(ctx context.Context, name string) (*Service, error) {
	s := &Service{Name: name}
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT svc_app, rev, checksum, envfile, updated, author FROM services WHERE svc_name = ?`), name).
		Scan(&s.App, &s.Rev, &s.Checksum, &s.EnvFile, &s.Updated, &s.Author)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("service %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	return s, nil
}

// PutService stores envfile as the new config of name when the current
// checksum is expect (store.Absent: no config yet; store.AnyRevision:
// whatever), as one transaction: the conditional UPDATE is the
// compare-and-swap, so that of two writers expecting the same revision
// exactly one wins. A refused write returns a *store.ConflictError.
func (d *DB) PutService(ctx context.Context, name, app, envfile, expect, author string) (*Service, error) {
	nodes, err := ServiceNodes([]byte(envfile))
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	if app == "" {
		// As the form posts it: svc_app is the config's DEFAULT app.
		app = defaultKey([]byte(envfile), "app")
	}
	sum := store.Checksum([]byte(envfile))
	ts := now()
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var rev int64
	var cur string
	err = tx.QueryRowContext(ctx, d.q(`SELECT checksum FROM services WHERE svc_name = ?`), name).Scan(&cur)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	conflict := func(actual string) error {
		return &store.ConflictError{Store: "collector", Service: name, Expected: expect, Actual: actual}
	}
	switch {
	case !exists && (expect == store.Absent || expect == store.AnyRevision):
		rev = 1
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO services (svc_name, svc_app, rev, checksum, envfile, updated, author) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			name, app, rev, sum, envfile, ts, author); err != nil {
			// A concurrent create won (PostgreSQL: unique violation).
			if s, gerr := d.GetService(ctx, name); gerr == nil {
				return nil, conflict(s.Checksum)
			}
			return nil, err
		}
	case !exists:
		return nil, conflict("")
	case expect == store.Absent:
		return nil, conflict(cur)
	default:
		q := `UPDATE services SET svc_app = ?, rev = rev + 1, checksum = ?, envfile = ?, updated = ?, author = ? WHERE svc_name = ?`
		args := []any{app, sum, envfile, ts, author, name}
		if expect != store.AnyRevision {
			q += ` AND checksum = ?`
			args = append(args, expect)
		}
		res, err := tx.ExecContext(ctx, d.q(q), args...)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err != nil {
				return nil, err
			}
			// Read the winner's checksum outside this transaction.
			tx.Rollback()
			actual := ""
			if s, gerr := d.GetService(ctx, name); gerr == nil {
				actual = s.Checksum
			}
			return nil, conflict(actual)
		}
		if err := tx.QueryRowContext(ctx, d.q(`SELECT rev FROM services WHERE svc_name = ?`), name).Scan(&rev); err != nil {
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO service_revisions (svc_name, rev, checksum, envfile, svc_app, author, created) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		name, rev, sum, envfile, app, author, ts); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM service_nodes WHERE svc_name = ?`), name); err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO service_nodes (svc_name, nodename) VALUES (?, ?)`), name, n); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Service{Name: name, App: app, Rev: rev, Checksum: sum, EnvFile: envfile, Updated: ts, Author: author}, nil
}

// Revisions lists the revisions of name, newest first, without their
// configs.
func (d *DB) Revisions(ctx context.Context, name string, limit int) ([]Revision, error) {
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT rev, checksum, svc_app, author, created FROM service_revisions WHERE svc_name = ? ORDER BY rev DESC LIMIT ?`), name, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		if err := rows.Scan(&r.Rev, &r.Checksum, &r.App, &r.Author, &r.Created); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RevisionOf returns one revision of name with its config.
func (d *DB) RevisionOf(ctx context.Context, name string, rev int64) (*Revision, error) {
	r := &Revision{Rev: rev}
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT checksum, svc_app, author, created, envfile FROM service_revisions WHERE svc_name = ? AND rev = ?`), name, rev).
		Scan(&r.Checksum, &r.App, &r.Author, &r.Created, &r.EnvFile)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("service %s revision %d: %w", name, rev, ErrNotFound)
	}
	return r, err
}

// ServiceNodes returns the nodes and drpnodes of a config's DEFAULT
// section: the nodes allowed to read and push it.
func ServiceNodes(data []byte) ([]string, error) {
	def, err := parseDefault(data)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range []string{"nodes", "drpnodes"} {
		for _, n := range strings.Fields(def.Key(k).String()) {
			if err := nodename.Check(n); err != nil {
				return nil, fmt.Errorf("%w: config: DEFAULT %s: %v", ErrBadInput, k, err)
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// parseDefault parses the DEFAULT section only: go-ini's cost on a whole
// 70 KB config would dominate the request.
func parseDefault(data []byte) (*ini.Section, error) {
	f, err := ini.LoadSources(ini.LoadOptions{
		AllowPythonMultilineValues: true,
		SpaceBeforeInlineComment:   true,
		KeyValueDelimiters:         "=",
	}, defaultSection(data))
	if err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrBadInput, err)
	}
	return f.Section("DEFAULT"), nil
}

// defaultKey returns a DEFAULT key's value, "" when unset or unreadable.
func defaultKey(data []byte, key string) string {
	def, err := parseDefault(data)
	if err != nil {
		return ""
	}
	return def.Key(key).String()
}

// defaultSection returns the lines of a config's [DEFAULT] sections
// (a repeated section merges, as go-ini does).
func defaultSection(data []byte) []byte {
	var out bytes.Buffer
	in := false
	for line := range bytes.Lines(data) {
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte("[")) && bytes.HasSuffix(t, []byte("]")) {
			in = string(t) == "[DEFAULT]"
		}
		if in {
			out.Write(line)
			if !bytes.HasSuffix(line, []byte("\n")) {
				out.WriteByte('\n')
			}
		}
	}
	return out.Bytes()
}

// IsServiceNode tells whether node is among the nodes of svc's current
// config.
func (d *DB) IsServiceNode(ctx context.Context, svc, node string) (bool, error) {
	var n int
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM service_nodes WHERE svc_name = ? AND nodename = ?`), svc, node).Scan(&n)
	return n > 0, err
}

// Register records a new node and returns its uuid, the node's password
// from then on; only its sha256 is stored. A registered node is
// re-registered (a new uuid) only when replace is set.
func (d *DB) Register(ctx context.Context, node, app, by string, replace bool) (string, error) {
	if err := nodename.Check(node); err != nil {
		return "", err
	}
	uuid := newUUID()
	sum := sha256.Sum256([]byte(uuid))
	h := hex.EncodeToString(sum[:])
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM nodes WHERE nodename = ?`), node).Scan(&n); err != nil {
		return "", err
	}
	switch {
	case n > 0 && !replace:
		return "", fmt.Errorf("node %s: %w", node, ErrExists)
	case n > 0:
		_, err = tx.ExecContext(ctx, d.q(`UPDATE nodes SET uuid_sha256 = ?, app = ?, registered_at = ?, registered_by = ? WHERE nodename = ?`), h, app, now(), by, node)
	default:
		_, err = tx.ExecContext(ctx, d.q(`INSERT INTO nodes (nodename, uuid_sha256, app, registered_at, registered_by) VALUES (?, ?, ?, ?, ?)`), node, h, app, now(), by)
	}
	if err != nil {
		if n == 0 {
			return "", fmt.Errorf("node %s: %w", node, ErrExists)
		}
		return "", err
	}
	return uuid, tx.Commit()
}

// CheckNode tells whether uuid is the registered node's uuid.
func (d *DB) CheckNode(ctx context.Context, node, uuid string) (bool, error) {
	var h string
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT uuid_sha256 FROM nodes WHERE nodename = ?`), node).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256([]byte(uuid))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(h)) == 1, nil
}

// Nodes lists the registered node names, sorted.
func (d *DB) Nodes(ctx context.Context) ([]string, error) {
	return d.strings(ctx, `SELECT nodename FROM nodes ORDER BY nodename`)
}

func (d *DB) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := d.sql.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// PutAsset replaces the node's asset facts (the node fields of
// compliance.Facts); nodename itself is not stored, it is the key.
func (d *DB) PutAsset(ctx context.Context, node string, fields map[string]string) error {
	return d.replaceRows(ctx, `DELETE FROM node_assets WHERE nodename = ?`, func(tx *sql.Tx) error {
		for _, k := range sortedKeys(fields) {
			if k == "nodename" {
				continue
			}
			if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO node_assets (nodename, name, value) VALUES (?, ?, ?)`), node, k, fields[k]); err != nil {
				return err
			}
		}
		return nil
	}, node)
}

// PutPackages replaces the node's package inventory.
func (d *DB) PutPackages(ctx context.Context, node string, pkgs []checker.Package) error {
	return d.replaceRows(ctx, `DELETE FROM node_packages WHERE nodename = ?`, func(tx *sql.Tx) error {
		seen := map[checker.Package]bool{}
		for _, p := range pkgs {
			if seen[p] {
				continue
			}
			seen[p] = true
			if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO node_packages (nodename, pkg_name, pkg_version) VALUES (?, ?, ?)`), node, p.Name, p.Version); err != nil {
				return err
			}
		}
		return nil
	}, node)
}

// replaceRows deletes a node's rows and inserts the new ones in one
// transaction: readers see the old inventory or the new one.
func (d *DB) replaceRows(ctx context.Context, del string, insert func(*sql.Tx) error, node string) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, d.q(del), node); err != nil {
		return err
	}
	if err := insert(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Facts returns the inventory a node pushed, as the compliance engine
// gathers it, for the server to evaluate filtersets on.
func (d *DB) Facts(ctx context.Context, node string) (*compliance.Facts, error) {
	f := &compliance.Facts{Node: map[string]string{}}
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT name, value FROM node_assets WHERE nodename = ?`), node)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		f.Node[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	f.Node["nodename"] = node
	rows, err = d.sql.QueryContext(ctx, d.q(`SELECT pkg_name, pkg_version FROM node_packages WHERE nodename = ? ORDER BY pkg_name, pkg_version`), node)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p checker.Package
		if err := rows.Scan(&p.Name, &p.Version); err != nil {
			return nil, err
		}
		f.Packages = append(f.Packages, p)
	}
	return f, rows.Err()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
