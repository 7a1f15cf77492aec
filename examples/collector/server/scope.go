package server

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
)

// What each principal sees, in one place: an admin everything; a user
// limited to apps the services and nodes of those apps; a node itself
// and the services whose config lists it. Pages and API answers ask
// these functions and answer a thing out of scope as a missing one, so
// that nobody probes what exists beyond their scope.

// ServiceApp returns the app of a stored service; ok is false when
// there is no such service.
func (d *DB) ServiceApp(ctx context.Context, svc string) (app string, ok bool, err error) {
	err = d.sql.QueryRowContext(ctx, d.q(`SELECT svc_app FROM services WHERE svc_name = ?`), svc).Scan(&app)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return app, err == nil, err
}

// NodeApp returns the app a node registered with; ok is false when the
// node is not registered.
func (d *DB) NodeApp(ctx context.Context, node string) (app string, ok bool, err error) {
	err = d.sql.QueryRowContext(ctx, d.q(`SELECT app FROM nodes WHERE nodename = ?`), node).Scan(&app)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return app, err == nil, err
}

// seesService tells whether p may read svc (and write it, for users).
func (s *Server) seesService(ctx context.Context, p *Principal, svc string) (bool, error) {
	switch {
	case p.Node:
		return s.db.IsServiceNode(ctx, svc, p.Name)
	case p.Admin():
		return true, nil
	}
	app, ok, err := s.db.ServiceApp(ctx, svc)
	return ok && p.SeesApp(app), err
}

// seesNode tells whether p may read node's inventory, rules and actions.
func (s *Server) seesNode(ctx context.Context, p *Principal, node string) (bool, error) {
	switch {
	case p.Node:
		return node == p.Name, nil
	case p.Admin():
		return true, nil
	}
	app, ok, err := s.db.NodeApp(ctx, node)
	return ok && p.SeesApp(app), err
}

// outOfApps is the refusal of a write outside a limited user's apps,
// the same whether the thing exists or not.
func (s *Server) outOfApps(w http.ResponseWriter, p *Principal, what string) {
	s.forbidden(w, what+" is not within the apps of user "+p.Name+" ("+strings.Join(p.Apps, ",")+")")
}

// adminOnly refuses nodes and limited users: compliance objects and
// filtersets are shared by all apps.
func (s *Server) adminOnly(w http.ResponseWriter, r *http.Request) bool {
	if p := principalOf(r); !p.Admin() {
		s.forbidden(w, p.Name+" cannot "+r.Method+" "+r.URL.Path+": an admin's request")
		return false
	}
	return true
}
