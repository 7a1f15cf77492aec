package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ListServices lists the current services, without their configs, of
// apps (nil: all), by name.
func (d *DB) ListServices(ctx context.Context, apps []string) ([]Service, error) {
	q := `SELECT svc_name, svc_app, rev, checksum, updated, author FROM services`
	var args []any
	if apps != nil {
		if len(apps) == 0 {
			return nil, nil
		}
		q += ` WHERE svc_app IN (` + placeholders(len(apps)) + `)`
		for _, a := range apps {
			args = append(args, a)
		}
	}
	rows, err := d.sql.QueryContext(ctx, d.q(q+` ORDER BY svc_name`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Service
	for rows.Next() {
		var s Service
		if err := rows.Scan(&s.Name, &s.App, &s.Rev, &s.Checksum, &s.Updated, &s.Author); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// NodeInfo is a registered node with the size of its inventory, its
// compliance status counts and its queue.
type NodeInfo struct {
	Name         string
	App          string
	RegisteredAt string
	RegisteredBy string
	Assets       int
	Packages     int
	// Comp counts the modules by the status the node reported last.
	CompOK, CompNOK, CompNA int
	// Queued counts the actions waiting for the node or running.
	Queued int
}

const nodeInfoQuery = `SELECT n.nodename, n.app, n.registered_at, n.registered_by,
	(SELECT COUNT(*) FROM node_assets a WHERE a.nodename = n.nodename),
	(SELECT COUNT(*) FROM node_packages p WHERE p.nodename = n.nodename),
	(SELECT COUNT(*) FROM comp_status c WHERE c.nodename = n.nodename AND c.status = 'ok'),
	(SELECT COUNT(*) FROM comp_status c WHERE c.nodename = n.nodename AND c.status = 'nok'),
	(SELECT COUNT(*) FROM comp_status c WHERE c.nodename = n.nodename AND c.status = 'n/a'),
	(SELECT COUNT(*) FROM actions q WHERE q.nodename = n.nodename AND q.status IN ('queued', 'running'))
	FROM nodes n`

func scanNodeInfo(sc interface{ Scan(...any) error }) (*NodeInfo, error) {
	n := &NodeInfo{}
	err := sc.Scan(&n.Name, &n.App, &n.RegisteredAt, &n.RegisteredBy, &n.Assets, &n.Packages, &n.CompOK, &n.CompNOK, &n.CompNA, &n.Queued)
	return n, err
}

// ListNodes lists the registered nodes of apps (nil: all), by name.
func (d *DB) ListNodes(ctx context.Context, apps []string) ([]*NodeInfo, error) {
	q := nodeInfoQuery
	var args []any
	if apps != nil {
		if len(apps) == 0 {
			return nil, nil
		}
		q += ` WHERE n.app IN (` + placeholders(len(apps)) + `)`
		for _, a := range apps {
			args = append(args, a)
		}
	}
	rows, err := d.sql.QueryContext(ctx, d.q(q+` ORDER BY n.nodename`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*NodeInfo
	for rows.Next() {
		n, err := scanNodeInfo(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// NodeInfo returns one registered node.
func (d *DB) NodeInfo(ctx context.Context, node string) (*NodeInfo, error) {
	n, err := scanNodeInfo(d.sql.QueryRowContext(ctx, d.q(nodeInfoQuery+` WHERE n.nodename = ?`), node))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("node %s: %w", node, ErrNotFound)
	}
	return n, err
}
