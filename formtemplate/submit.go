package formtemplate

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with an answer (or with a form definition).
type Problem struct {
	// Input is the input id the problem is about; a form definition
	// problem may name "input 3" or "output 1" instead.
	Input string
	// Line is the line of the YAML form source, when known.
	Line    int
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Input, p.Message)
	}
	return p.Input + ": " + p.Message
}

// ValidationError lists every problem of a submission or of a form
// definition, in the order of the form's inputs.
type ValidationError struct {
	// File is the form file, when the problems come from one.
	File     string
	Problems []Problem
}

func (e *ValidationError) add(input, msg string) {
	e.Problems = append(e.Problems, Problem{Input: input, Message: msg})
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
		if e.File != "" {
			lines[i] = e.File + ": " + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// ByInput returns the problem messages of each input id.
func (e *ValidationError) ByInput() map[string][]string {
	m := map[string][]string{}
	for _, p := range e.Problems {
		m[p.Input] = append(m[p.Input], p.Message)
	}
	return m
}

// Values are the validated answers of a form: string for String inputs,
// int64 for Integer and Size (bytes), bool for Boolean, []string for
// StringList. An optional input left empty without a default is absent.
type Values map[string]any

// String returns the value of a String input, or "".
func (v Values) String(id string) string { s, _ := v[id].(string); return s }

// Int returns the value of an Integer or Size input, or 0.
func (v Values) Int(id string) int64 { n, _ := v[id].(int64); return n }

// Bool returns the value of a Boolean input, or false.
func (v Values) Bool(id string) bool { b, _ := v[id].(bool); return b }

// List returns the value of a StringList input, or the words of a String
// input.
func (v Values) List(id string) []string {
	switch x := v[id].(type) {
	case []string:
		return slices.Clone(x)
	case string:
		return strings.Fields(x)
	}
	return nil
}

// Submit validates the answers against the form: unknown ids, missing
// mandatory answers, type conversions ("32" for an integer, "17g" for a
// size), candidates, patterns and bounds. Defaults fill what is missing.
// An answer is a string as a user types it, or a Go value of the input's
// type (int, int64, bool, []string). Every problem is reported at once in
// a *ValidationError; the answers map is not modified.
func (f *Form) Submit(answers map[string]any) (Values, error) {
	var errs ValidationError
	for id := range answers {
		if _, ok := f.Input(id); !ok {
			errs.add(id, "not an input of the form")
		}
	}
	values := Values{}
	for _, in := range f.Inputs {
		raw, given := answers[in.ID]
		if given && isEmpty(in.Type, raw) {
			given = false
		}
		if !given {
			if in.Default == "" {
				if in.Mandatory {
					errs.add(in.ID, "is mandatory")
				}
				continue
			}
			raw = in.Default
		}
		v, msgs := in.convertValue(raw)
		for _, m := range msgs {
			errs.add(in.ID, m)
		}
		if len(msgs) == 0 {
			values[in.ID] = v
		}
	}
	if len(errs.Problems) > 0 {
		// Unknown ids were found first in map order: sort them last, by id,
		// so that the report is stable.
		order := map[string]int{}
		for i, in := range f.Inputs {
			order[in.ID] = i
		}
		slices.SortStableFunc(errs.Problems, func(a, b Problem) int {
			ia, oka := order[a.Input]
			ib, okb := order[b.Input]
			switch {
			case oka && okb:
				return ia - ib
			case oka:
				return -1
			case okb:
				return 1
			}
			return strings.Compare(a.Input, b.Input)
		})
		return nil, &errs
	}
	return values, nil
}

// isEmpty tells a missing answer. Blanks are an answer for a string (a
// password may be spaces) but not for the other types.
func isEmpty(t Type, v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		if t == String {
			return x == ""
		}
		return strings.TrimSpace(x) == ""
	case []string:
		return len(x) == 0
	}
	return false
}
