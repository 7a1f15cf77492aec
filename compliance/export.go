package compliance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// Export is the collector's "Configuration targets export" document: the
// modulesets, rulesets and filtersets a node or a service is checked against.
type Export struct {
	Modulesets []*Moduleset `json:"modulesets"`
	Rulesets   []*Ruleset   `json:"rulesets"`
	Filtersets []*Filterset `json:"filtersets"`

	modulesets map[string]*Moduleset
	rulesets   map[string]*Ruleset
	filtersets map[string]*Filterset
}

// Moduleset groups modules and the explicit rulesets their variables come
// from; it may nest other modulesets.
type Moduleset struct {
	ID           int         `json:"id"`
	Name         string      `json:"modset_name"`
	Modules      []ModuleRef `json:"modules"`
	Rulesets     []string    `json:"rulesets"`
	Modulesets   []string    `json:"modulesets"`
	Publications []string    `json:"publications,omitempty"`
	Responsibles []string    `json:"responsibles,omitempty"`
}

// ModuleRef names a module of a moduleset.
type ModuleRef struct {
	Name    string `json:"modset_mod_name"`
	Autofix bool   `json:"autofix"`
}

// Ruleset is a named set of variables. An explicit ruleset applies when a
// moduleset attaches it; a contextual one when its filterset matches the node.
type Ruleset struct {
	ID           int         `json:"id"`
	Name         string      `json:"ruleset_name"`
	Type         string      `json:"ruleset_type"`
	Filterset    *string     `json:"fset_name"`
	Public       bool        `json:"ruleset_public"`
	Variables    []*Variable `json:"variables"`
	Rulesets     []string    `json:"rulesets"`
	Publications []string    `json:"publications,omitempty"`
	Responsibles []string    `json:"responsibles,omitempty"`
}

// Ruleset types.
const (
	Explicit   = "explicit"
	Contextual = "contextual"
)

// Variable is one typed rule: Class says which checker reads Value
// (file, sysctl, package(s), nodeconf) or "raw" for a plain value.
type Variable struct {
	ID      int    `json:"id"`
	Name    string `json:"var_name"`
	Class   string `json:"var_class"`
	Value   string `json:"var_value"`
	Author  string `json:"var_author,omitempty"`
	Updated string `json:"var_updated,omitempty"`
}

// Filterset is a list of filters folded left to right in f_order.
type Filterset struct {
	ID      int           `json:"id"`
	Name    string        `json:"fset_name"`
	Stats   bool          `json:"fset_stats"`
	Filters []FilterEntry `json:"filters"`
}

// FilterEntry is a filter or a nested filterset with the logical operator
// that joins it to the entries before it.
type FilterEntry struct {
	Filter    *Filter         `json:"filter"`
	Order     int             `json:"f_order"`
	LogOp     string          `json:"f_log_op"`
	Filterset json.RawMessage `json:"filterset"`
}

// Filter compares a node fact (table nodes) or an installed package
// (table packages) to a value.
type Filter struct {
	ID    int    `json:"id"`
	Op    string `json:"f_op"`
	Field string `json:"f_field"`
	Value string `json:"f_value"`
	Table string `json:"f_table"`
}

// Limits of an export document: its size and the nesting of its JSON
// (the document itself and each variable's value). Real exports are a few
// hundred KB nested 5 levels deep.
const (
	MaxExportSize  = 64 << 20
	MaxExportDepth = 64
)

// LoadExport reads an export file.
func LoadExport(ctx context.Context, path string) (*Export, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("compliance: read export: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxExportSize+1))
	if err != nil {
		return nil, fmt.Errorf("compliance: read export: %w", err)
	}
	return ParseExport(path, data)
}

// checkDepth refuses JSON nested deeper than MaxExportDepth; it returns
// the offset of the first bracket too deep, -1 when none is.
func checkDepth(data []byte) int {
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > MaxExportDepth {
				return i
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return -1
}

// lineOf is the line of offset off in data.
func lineOf(data []byte, off int) int {
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// ParseExport decodes an export document; name is used in error messages.
// It checks that every moduleset, ruleset and filterset referenced is
// defined, that nesting has no cycle and that every variable's value is
// valid for its class.
func ParseExport(name string, data []byte) (*Export, error) {
	if len(data) > MaxExportSize {
		return nil, fmt.Errorf("%s: export larger than %d MiB (MaxExportSize)", name, MaxExportSize>>20)
	}
	if off := checkDepth(data); off >= 0 {
		return nil, fmt.Errorf("%s:%d: JSON nested deeper than %d levels (MaxExportDepth)", name, lineOf(data, off), MaxExportDepth)
	}
	var e Export
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", posOf(name, data, err), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: trailing data after the export document", name)
	}
	if err := e.index(name); err != nil {
		return nil, err
	}
	return &e, nil
}

// posOf names the line of a JSON decoding error.
func posOf(name string, data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return name
	}
	return fmt.Sprintf("%s:%d", name, lineOf(data, int(off)))
}

// Merge returns an export holding the definitions of all exports; a later
// definition of a name replaces an earlier one.
func Merge(exports ...*Export) (*Export, error) {
	var m Export
	seenMS, seenRS, seenFS := map[string]int{}, map[string]int{}, map[string]int{}
	for _, e := range exports {
		m.Modulesets = mergeByName(m.Modulesets, e.Modulesets, seenMS, func(ms *Moduleset) string { return ms.Name })
		m.Rulesets = mergeByName(m.Rulesets, e.Rulesets, seenRS, func(rs *Ruleset) string { return rs.Name })
		m.Filtersets = mergeByName(m.Filtersets, e.Filtersets, seenFS, func(fs *Filterset) string { return fs.Name })
	}
	if err := m.index("merged export"); err != nil {
		return nil, err
	}
	return &m, nil
}

// mergeByName appends the definitions of src to dst; one whose name seen
// holds (its index in dst) replaces the earlier one.
func mergeByName[T any](dst, src []*T, seen map[string]int, name func(*T) string) []*T {
	for _, d := range src {
		if d == nil {
			dst = append(dst, d) // index reports it
			continue
		}
		if i, ok := seen[name(d)]; ok {
			dst[i] = d
			continue
		}
		seen[name(d)] = len(dst)
		dst = append(dst, d)
	}
	return dst
}

// index builds the name maps of the export and checks it whole: every
// problem is reported, joined, under name.
func (e *Export) index(name string) error {
	var problems []string
	e.modulesets, problems = indexByName(e.Modulesets, "moduleset", "modulesets", "modset_name", true, func(ms *Moduleset) string { return ms.Name }, problems)
	e.rulesets, problems = indexByName(e.Rulesets, "ruleset", "rulesets", "ruleset_name", true, func(rs *Ruleset) string { return rs.Name }, problems)
	e.filtersets, problems = indexByName(e.Filtersets, "filterset", "filtersets", "fset_name", false, func(fs *Filterset) string { return fs.Name }, problems)
	problems = append(problems, e.checkModulesets()...)
	problems = append(problems, e.checkRulesets()...)
	problems = append(problems, e.checkFiltersets()...)
	problems = append(problems, e.cycles()...)
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

// indexByName maps the definitions of list by name, adding a problem for
// each nil or unnamed one and, when noDup, for each name defined twice
// (the last definition wins).
func indexByName[T any](list []*T, kind, field, key string, noDup bool, name func(*T) string, problems []string) (map[string]*T, []string) {
	out := make(map[string]*T, len(list))
	for i, d := range list {
		if d == nil || name(d) == "" {
			problems = append(problems, fmt.Sprintf("%s[%d]: %s is empty", field, i, key))
			continue
		}
		if _, dup := out[name(d)]; dup && noDup {
			problems = append(problems, fmt.Sprintf("%s %q is defined twice", kind, name(d)))
		}
		out[name(d)] = d
	}
	return out, problems
}

// checkModulesets reports the references of modulesets to undefined
// rulesets and modulesets, and unnamed modules.
func (e *Export) checkModulesets() []string {
	var problems []string
	for _, ms := range e.Modulesets {
		if ms == nil {
			continue
		}
		for _, r := range ms.Rulesets {
			if e.rulesets[r] == nil {
				problems = append(problems, fmt.Sprintf("moduleset %q: ruleset %q is not defined", ms.Name, r))
			}
		}
		for _, c := range ms.Modulesets {
			if e.modulesets[c] == nil {
				problems = append(problems, fmt.Sprintf("moduleset %q: moduleset %q is not defined", ms.Name, c))
			}
		}
		for j, m := range ms.Modules {
			if m.Name == "" {
				problems = append(problems, fmt.Sprintf("moduleset %q: modules[%d]: modset_mod_name is empty", ms.Name, j))
			}
		}
	}
	return problems
}

// checkRulesets reports bad ruleset types, references to undefined
// filtersets and rulesets, and bad variables.
func (e *Export) checkRulesets() []string {
	var problems []string
	for _, rs := range e.Rulesets {
		if rs == nil {
			continue
		}
		switch rs.Type {
		case Explicit:
		case Contextual:
			if rs.Filterset == nil || *rs.Filterset == "" {
				problems = append(problems, fmt.Sprintf("ruleset %q: contextual ruleset without fset_name", rs.Name))
			}
		default:
			problems = append(problems, fmt.Sprintf("ruleset %q: ruleset_type %q, expected explicit or contextual", rs.Name, rs.Type))
		}
		if rs.Filterset != nil && *rs.Filterset != "" && e.filtersets[*rs.Filterset] == nil {
			problems = append(problems, fmt.Sprintf("ruleset %q: filterset %q is not defined", rs.Name, *rs.Filterset))
		}
		for _, c := range rs.Rulesets {
			if e.rulesets[c] == nil {
				problems = append(problems, fmt.Sprintf("ruleset %q: ruleset %q is not defined", rs.Name, c))
			}
		}
		for j, v := range rs.Variables {
			if v == nil || v.Name == "" {
				problems = append(problems, fmt.Sprintf("ruleset %q: variables[%d]: var_name is empty", rs.Name, j))
				continue
			}
			if err := ValidateVariable(v); err != nil {
				problems = append(problems, fmt.Sprintf("ruleset %q: %v", rs.Name, err))
			}
		}
	}
	return problems
}

// checkFiltersets reports bad filter entries.
func (e *Export) checkFiltersets() []string {
	var problems []string
	for _, fs := range e.Filtersets {
		if fs == nil {
			continue
		}
		for j, f := range fs.Filters {
			if err := e.checkFilterEntry(f); err != nil {
				problems = append(problems, fmt.Sprintf("filterset %q: filters[%d]: %v", fs.Name, j, err))
			}
		}
	}
	return problems
}

func (e *Export) checkFilterEntry(f FilterEntry) error {
	if _, _, err := parseLogOp(f.LogOp); err != nil {
		return err
	}
	nested, err := nestedFilterset(f.Filterset)
	if err != nil {
		return err
	}
	switch {
	case f.Filter == nil && nested == "":
		return errors.New("neither filter nor filterset")
	case nested != "":
		if e.filtersets[nested] == nil {
			return fmt.Errorf("filterset %q is not defined", nested)
		}
	default:
		if !validFilterOp(f.Filter.Op) {
			return fmt.Errorf("f_op %q, expected one of =, LIKE, <, <=, >, >=, IN", f.Filter.Op)
		}
		if f.Filter.Table != "nodes" && f.Filter.Table != "packages" && f.Filter.Table != "" {
			return fmt.Errorf("f_table %q, expected nodes or packages", f.Filter.Table)
		}
	}
	return nil
}

// cycles reports nesting loops, which would otherwise recurse forever.
func (e *Export) cycles() []string {
	var problems []string
	// Modulesets.
	problems = append(problems, findCycles("moduleset", slices.Sorted(maps.Keys(e.modulesets)), func(n string) []string {
		if ms := e.modulesets[n]; ms != nil {
			return ms.Modulesets
		}
		return nil
	})...)
	problems = append(problems, findCycles("ruleset", slices.Sorted(maps.Keys(e.rulesets)), func(n string) []string {
		if rs := e.rulesets[n]; rs != nil {
			return rs.Rulesets
		}
		return nil
	})...)
	problems = append(problems, findCycles("filterset", slices.Sorted(maps.Keys(e.filtersets)), func(n string) []string {
		var out []string
		if fs := e.filtersets[n]; fs != nil {
			for _, f := range fs.Filters {
				if c, _ := nestedFilterset(f.Filterset); c != "" {
					out = append(out, c)
				}
			}
		}
		return out
	})...)
	return problems
}

func findCycles(kind string, roots []string, children func(string) []string) []string {
	const (
		unseen = iota
		active
		done
	)
	var problems []string
	state := map[string]int{}
	var visit func(n string, path []string)
	visit = func(n string, path []string) {
		switch state[n] {
		case active:
			problems = append(problems, fmt.Sprintf("%s nesting loop: %s", kind, strings.Join(append(path, n), " -> ")))
			return
		case done:
			return
		}
		state[n] = active
		for _, c := range children(n) {
			visit(c, append(append([]string(nil), path...), n))
		}
		state[n] = done
	}
	for _, r := range roots {
		visit(r, nil)
	}
	return problems
}

// nestedFilterset reads the filterset field of a filter entry: null, a
// name, or an object carrying fset_name.
func nestedFilterset(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		return name, nil
	}
	var obj struct {
		Name string `json:"fset_name"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Name == "" {
		return "", fmt.Errorf("filterset %s: expected null, a filterset name or an object with fset_name", string(raw))
	}
	return obj.Name, nil
}

// Moduleset returns the named moduleset.
func (e *Export) Moduleset(name string) (*Moduleset, bool) {
	ms, ok := e.modulesets[name]
	return ms, ok
}

// Ruleset returns the named ruleset.
func (e *Export) Ruleset(name string) (*Ruleset, bool) {
	rs, ok := e.rulesets[name]
	return rs, ok
}

// Filterset returns the named filterset.
func (e *Export) Filterset(name string) (*Filterset, bool) {
	fs, ok := e.filtersets[name]
	return fs, ok
}

// ModulesetNames lists the modulesets, sorted.
func (e *Export) ModulesetNames() []string { return slices.Sorted(maps.Keys(e.modulesets)) }
