package server

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// CompStatus is the last result a node reported for one compliance
// module (the reference's comp_status): ok, nok or n/a, as the module's
// exit code 0, 1, 2 says.
type CompStatus struct {
	Module   string `json:"module"`
	Status   string `json:"status"`
	Output   string `json:"output,omitempty"`
	Reported string `json:"reported"`
}

// Bounds of a compliance status report.
const (
	MaxCompModules = 1000
	MaxModuleName  = 200
)

// PutCompStatus replaces the node's compliance status.
func (d *DB) PutCompStatus(ctx context.Context, node string, mods []CompStatus) error {
	ts := now()
	return d.replaceRows(ctx, `DELETE FROM comp_status WHERE nodename = ?`, func(tx *sql.Tx) error {
		for _, m := range mods {
			if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO comp_status (nodename, module, status, output, reported) VALUES (?, ?, ?, ?, ?)`),
				node, m.Module, m.Status, boundOutput(m.Output), ts); err != nil {
				return err
			}
		}
		return nil
	}, node)
}

// CompStatuses returns the node's compliance status, by module.
func (d *DB) CompStatuses(ctx context.Context, node string) ([]CompStatus, error) {
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT module, status, output, reported FROM comp_status WHERE nodename = ? ORDER BY module`), node)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CompStatus
	for rows.Next() {
		var c CompStatus
		if err := rows.Scan(&c.Module, &c.Status, &c.Output, &c.Reported); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func checkCompStatus(mods []CompStatus) error {
	if len(mods) > MaxCompModules {
		return fmt.Errorf("%w: modules: more than %d", ErrBadInput, MaxCompModules)
	}
	seen := map[string]bool{}
	for i, m := range mods {
		switch {
		case m.Module == "" || len(m.Module) > MaxModuleName || !utf8.ValidString(m.Module):
			return fmt.Errorf("%w: modules[%d]: expected a module name of 1 to %d bytes", ErrBadInput, i, MaxModuleName)
		case m.Status != "ok" && m.Status != "nok" && m.Status != "n/a":
			return fmt.Errorf("%w: modules[%d] (%s): status %q: expected ok, nok or n/a", ErrBadInput, i, m.Module, m.Status)
		case seen[m.Module]:
			return fmt.Errorf("%w: modules[%d]: module %s given twice", ErrBadInput, i, m.Module)
		}
		seen[m.Module] = true
	}
	return nil
}

// postCompStatus takes a node's compliance check results:
// {"modules": [{"module": "...", "status": "ok|nok|n/a", "output": "..."}]}.
func (s *Server) postCompStatus(w http.ResponseWriter, r *http.Request) {
	n, ok := s.selfNode(w, r)
	if !ok {
		return
	}
	var body struct {
		Modules []CompStatus `json:"modules"`
	}
	if !s.decode(w, r, MaxExportBody, &body) {
		return
	}
	if err := checkCompStatus(body.Modules); err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.db.PutCompStatus(r.Context(), n, body.Modules); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"info": fmt.Sprintf("compliance status of %s: %d modules stored", n, len(body.Modules))})
}
