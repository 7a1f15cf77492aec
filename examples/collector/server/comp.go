package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/svckit/svckit/compliance"
)

// Kinds of compliance objects in comp_objects.
const (
	kindModuleset = "moduleset"
	kindRuleset   = "ruleset"
	kindFilterset = "filterset"
)

// ImportExport stores the modulesets, rulesets and filtersets of an
// export document (compliance.ParseExport has checked it whole),
// replacing those of the same names, and checks that the stored set
// still resolves: one transaction, so that a bad import changes nothing.
func (d *DB) ImportExport(ctx context.Context, e *compliance.Export, author string) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ts := now()
	put := func(kind, name string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM comp_objects WHERE kind = ? AND name = ?`), kind, name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, d.q(`INSERT INTO comp_objects (kind, name, body, updated, author) VALUES (?, ?, ?, ?, ?)`), kind, name, string(b), ts, author)
		return err
	}
	for _, ms := range e.Modulesets {
		if err := put(kindModuleset, ms.Name, ms); err != nil {
			return err
		}
	}
	for _, rs := range e.Rulesets {
		if err := put(kindRuleset, rs.Name, rs); err != nil {
			return err
		}
	}
	for _, fs := range e.Filtersets {
		if err := put(kindFilterset, fs.Name, fs); err != nil {
			return err
		}
	}
	if _, err := loadExport(ctx, tx, d); err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return tx.Commit()
}

// Export returns every compliance object the collector holds, as one
// checked export.
func (d *DB) Export(ctx context.Context) (*compliance.Export, error) {
	return loadExport(ctx, nil, d)
}

func loadExport(ctx context.Context, tx *sql.Tx, d *DB) (*compliance.Export, error) {
	q := d.q(`SELECT kind, body FROM comp_objects ORDER BY kind, name`)
	var rows *sql.Rows
	var err error
	if tx != nil {
		rows, err = tx.QueryContext(ctx, q)
	} else {
		rows, err = d.sql.QueryContext(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var raw struct {
		Modulesets []json.RawMessage `json:"modulesets"`
		Rulesets   []json.RawMessage `json:"rulesets"`
		Filtersets []json.RawMessage `json:"filtersets"`
	}
	raw.Modulesets, raw.Rulesets, raw.Filtersets = []json.RawMessage{}, []json.RawMessage{}, []json.RawMessage{}
	for rows.Next() {
		var kind, body string
		if err := rows.Scan(&kind, &body); err != nil {
			return nil, err
		}
		switch kind {
		case kindModuleset:
			raw.Modulesets = append(raw.Modulesets, json.RawMessage(body))
		case kindRuleset:
			raw.Rulesets = append(raw.Rulesets, json.RawMessage(body))
		case kindFilterset:
			raw.Filtersets = append(raw.Filtersets, json.RawMessage(body))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return compliance.ParseExport("the collector's compliance objects", b)
}

// Attach attaches modulesets to a node (svc == "") or a service.
func (d *DB) Attach(ctx context.Context, node, svc string, modsets []string) error {
	e, err := d.Export(ctx)
	if err != nil {
		return err
	}
	for _, m := range modsets {
		if _, ok := e.Moduleset(m); !ok {
			return fmt.Errorf("moduleset %q: %w", m, ErrNotFound)
		}
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, m := range modsets {
		table, key := "comp_node_modulesets", "nodename"
		id := node
		if svc != "" {
			table, key, id = "comp_svc_modulesets", "svc_name", svc
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM `+table+` WHERE `+key+` = ? AND modset_name = ?`), id, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO `+table+` (`+key+`, modset_name) VALUES (?, ?)`), id, m); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Attached lists the modulesets attached to a node (svc == "") or a
// service.
func (d *DB) Attached(ctx context.Context, node, svc string) ([]string, error) {
	if svc != "" {
		return d.strings(ctx, `SELECT modset_name FROM comp_svc_modulesets WHERE svc_name = ? ORDER BY modset_name`, svc)
	}
	return d.strings(ctx, `SELECT modset_name FROM comp_node_modulesets WHERE nodename = ? ORDER BY modset_name`, node)
}

// Rules returns the export a node runs its compliance with: the
// modulesets attached to the node (svc == "") or to the service, with
// their nested modulesets, the rulesets they attach that apply to the
// node (a contextual one only when its filterset matches the node's
// pushed inventory, evaluated here), every other contextual ruleset that
// matches, and the filtersets. A node never receives a ruleset meant for
// another one.
func (d *DB) Rules(ctx context.Context, node, svc string) (*compliance.Export, error) {
	all, err := d.Export(ctx)
	if err != nil {
		return nil, err
	}
	roots, err := d.Attached(ctx, node, svc)
	if err != nil {
		return nil, err
	}
	facts, err := d.Facts(ctx, node)
	if err != nil {
		return nil, err
	}
	return Effective(all, roots, facts)
}

// Effective narrows all to what the modulesets roots give a node with
// these facts (see Rules).
func Effective(all *compliance.Export, roots []string, facts *compliance.Facts) (*compliance.Export, error) {
	applies := map[string]bool{}
	rsApplies := func(rs *compliance.Ruleset) (bool, error) {
		if v, ok := applies[rs.Name]; ok {
			return v, nil
		}
		v := true
		if rs.Type == compliance.Contextual {
			if rs.Filterset == nil || *rs.Filterset == "" {
				v = false
			} else {
				ok, err := all.MatchFilterset(*rs.Filterset, facts)
				if err != nil {
					return false, fmt.Errorf("ruleset %q: %w", rs.Name, err)
				}
				v = ok
			}
		}
		applies[rs.Name] = v
		return v, nil
	}
	out := &compliance.Export{Modulesets: []*compliance.Moduleset{}, Rulesets: []*compliance.Ruleset{}, Filtersets: all.Filtersets}
	seenRS := map[string]bool{}
	// keepRulesets returns the names that apply, adding their rulesets
	// (and children) to out.
	var keepRulesets func(names []string) ([]string, error)
	keepRulesets = func(names []string) ([]string, error) {
		var kept []string
		for _, n := range names {
			rs, ok := all.Ruleset(n)
			if !ok {
				continue
			}
			ok, err := rsApplies(rs)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			kept = append(kept, n)
			if seenRS[n] {
				continue
			}
			seenRS[n] = true
			c := *rs
			out.Rulesets = append(out.Rulesets, &c)
			if c.Rulesets, err = keepRulesets(rs.Rulesets); err != nil {
				return nil, err
			}
			if c.Rulesets == nil {
				c.Rulesets = []string{}
			}
		}
		return kept, nil
	}
	seenMS := map[string]bool{}
	var addMS func(name string) error
	addMS = func(name string) error {
		if seenMS[name] {
			return nil
		}
		ms, ok := all.Moduleset(name)
		if !ok {
			return fmt.Errorf("moduleset %q is attached but no longer defined", name)
		}
		seenMS[name] = true
		c := *ms
		out.Modulesets = append(out.Modulesets, &c)
		var err error
		if c.Rulesets, err = keepRulesets(ms.Rulesets); err != nil {
			return err
		}
		if c.Rulesets == nil {
			c.Rulesets = []string{}
		}
		for _, child := range ms.Modulesets {
			if err := addMS(child); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := addMS(r); err != nil {
			return nil, err
		}
	}
	var contextual []string
	for _, rs := range all.Rulesets {
		if rs.Type == compliance.Contextual {
			contextual = append(contextual, rs.Name)
		}
	}
	slices.Sort(contextual)
	if _, err := keepRulesets(contextual); err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	// Parse what the node will parse: the narrowed export must stand alone.
	return compliance.ParseExport("effective rules of "+facts.Nodename(), b)
}

// FiltersetNodes evaluates a filterset on every registered node's pushed
// inventory and returns the nodes it holds.
func (d *DB) FiltersetNodes(ctx context.Context, name string) ([]string, error) {
	all, err := d.Export(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := all.Filterset(name); !ok {
		return nil, fmt.Errorf("filterset %q: %w", name, ErrNotFound)
	}
	nodes, err := d.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		facts, err := d.Facts(ctx, n)
		if err != nil {
			return nil, err
		}
		ok, err := all.MatchFilterset(name, facts)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}
