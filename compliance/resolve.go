package compliance

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/svckit/svckit/compliance/checker"
)

// ValidateVariable checks that a variable's value is valid for its class
// (raw values and unknown classes are free text).
func ValidateVariable(v *Variable) error {
	if checkDepth([]byte(v.Value)) >= 0 {
		return fmt.Errorf("variable %q (class %s): JSON value nested deeper than %d levels (MaxExportDepth)", v.Name, v.Class, MaxExportDepth)
	}
	if err := checker.Validate(v.Class, v.Name, v.Value); err != nil {
		return fmt.Errorf("variable %q (class %s): %w", v.Name, v.Class, err)
	}
	return nil
}

// AppliedRuleset is a ruleset that applies, with why.
type AppliedRuleset struct {
	Ruleset *Ruleset
	// Via is "contextual" (its filterset matched) or the moduleset that
	// attaches it (or its parent ruleset).
	Via string
}

// ContextualRulesets returns the contextual rulesets whose filterset
// matches facts, sorted by name.
func (e *Export) ContextualRulesets(facts *Facts) ([]*Ruleset, error) {
	var out []*Ruleset
	for _, name := range slices.Sorted(maps.Keys(e.rulesets)) {
		rs := e.rulesets[name]
		if rs.Type != Contextual {
			continue
		}
		ok, err := e.rulesetApplies(rs, facts)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, rs)
		}
	}
	return out, nil
}

func (e *Export) rulesetApplies(rs *Ruleset, facts *Facts) (bool, error) {
	if rs.Type != Contextual {
		return true, nil
	}
	if rs.Filterset == nil || *rs.Filterset == "" {
		// An empty filterset is false, and so is a missing one.
		return false, nil
	}
	ok, err := e.MatchFilterset(*rs.Filterset, facts)
	if err != nil {
		return false, fmt.Errorf("ruleset %q: %w", rs.Name, err)
	}
	return ok, nil
}

// ModulesetRulesets returns the rulesets a moduleset attaches explicitly,
// each followed by its child rulesets (recursively, a contextual child only
// when its filterset matches), in declaration order, without duplicates.
func (e *Export) ModulesetRulesets(ms *Moduleset, facts *Facts) ([]*Ruleset, error) {
	var out []*Ruleset
	seen := map[string]bool{}
	var add func(name string) error
	add = func(name string) error {
		if seen[name] {
			return nil
		}
		rs, ok := e.rulesets[name]
		if !ok {
			return fmt.Errorf("moduleset %q: ruleset %q is not defined", ms.Name, name)
		}
		ok, err := e.rulesetApplies(rs, facts)
		if err != nil || !ok {
			return err
		}
		seen[name] = true
		out = append(out, rs)
		for _, c := range rs.Rulesets {
			if err := add(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range ms.Rulesets {
		if err := add(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mergeVariables folds rulesets in order: a later ruleset's variable (a
// child comes after its parent) replaces an earlier one of the same name.
// The result is sorted by name.
func mergeVariables(rulesets []*Ruleset) []*Variable {
	n := 0
	for _, rs := range rulesets {
		n += len(rs.Variables)
	}
	out := make([]*Variable, 0, n)
	for _, rs := range rulesets {
		out = append(out, rs.Variables...)
	}
	// Sorted by name, a stable sort keeping the rulesets' order among
	// variables of one name, of which the last wins: no map, and no
	// move at all for the usual single ruleset already in name order (a
	// check runs this for every module, on thousands of variables).
	slices.SortStableFunc(out, func(a, b *Variable) int { return strings.Compare(a.Name, b.Name) })
	w := 0
	for i, v := range out {
		if i+1 < len(out) && out[i+1].Name == v.Name {
			continue // a later one of the same name wins
		}
		out[w] = v
		w++
	}
	clear(out[w:])
	return out[:w]
}

// ModuleEntry is a module of the selected modulesets.
type ModuleEntry struct {
	Moduleset string
	Name      string
	Autofix   bool
}

// ExpandModulesets returns the modules of the named modulesets and of the
// modulesets they nest, depth first, each module once.
func (e *Export) ExpandModulesets(names []string) ([]ModuleEntry, error) {
	var out []ModuleEntry
	seenMod := map[string]bool{}
	seenMS := map[string]bool{}
	var walk func(name string) error
	walk = func(name string) error {
		if seenMS[name] {
			return nil
		}
		seenMS[name] = true
		ms, ok := e.modulesets[name]
		if !ok {
			return fmt.Errorf("moduleset %q is not defined", name)
		}
		for _, m := range ms.Modules {
			if seenMod[m.Name] {
				continue
			}
			seenMod[m.Name] = true
			out = append(out, ModuleEntry{Moduleset: ms.Name, Name: m.Name, Autofix: m.Autofix})
		}
		for _, c := range ms.Modulesets {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := walk(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}
