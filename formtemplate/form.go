package formtemplate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource/secret"
)

// Type is the type of an input's value.
type Type string

const (
	// String is a text value.
	String Type = "string"
	// Integer is a signed 64-bit integer ("32").
	Integer Type = "integer"
	// Boolean accepts true/false, yes/no, on/off, 1/0.
	Boolean Type = "boolean"
	// Size is a byte count with an optional unit ("17g"); its value is
	// the number of bytes.
	Size Type = "size"
	// StringList is a list of words, given as a []string or as a string
	// of whitespace-separated words ("spd01 spd02").
	StringList Type = "list of string"
)

// Types lists the input types a form accepts.
var Types = []Type{String, Integer, Boolean, Size, StringList}

// Form is a form definition: what to ask, how to check the answers, and
// what to generate from them.
type Form struct {
	Label       string
	Description string
	// CSS is the collector's icon class of the form (kept for round trips).
	CSS     string
	Inputs  []Input
	Outputs []Output
}

// Input is one question of a form.
type Input struct {
	// ID names the answer in the Values and in the templates.
	ID    string
	Label string
	Type  Type
	// Mandatory inputs must be answered or have a default.
	Mandatory bool
	// Default fills a missing answer; it is written as an answer would be
	// ("32", "17g", "spd01 spd02").
	Default string
	// Candidates are the suggested values; with StrictCandidates, the only
	// accepted ones (each word of a list).
	Candidates       []string
	StrictCandidates bool
	// Pattern is a regular expression every string (every word of a
	// list) must match whole.
	Pattern string
	// Min and Max bound integers and sizes (in bytes), inclusive.
	Min, Max *int64
	Help     string
	// DisplayModeLabel and LabelCSS are collector rendering hints, kept
	// for round trips.
	DisplayModeLabel string
	LabelCSS         string
}

// Output is one generator of a form. Exactly one of Template and
// Generator is set, unless the output only carries a collector Mangle
// function, which is kept but never run.
type Output struct {
	// Name identifies the output in Generate's results; the default is
	// "output<N>" (1-based).
	Name string
	// Template is a Go text/template source executed over the Values
	// (an answer is {{.id}}); missing keys are errors.
	Template string
	// Generator names a function of the Generators given to Generate.
	Generator string
	// Type, Format, Dest, Function and Handler describe where the
	// collector posts the result; kept for round trips.
	Type, Format, Dest, Function, Handler string
	// Mangle is the collector's JavaScript function, kept as text.
	Mangle string
}

// IsSecret tells whether the input's answer is a secret (a password): its
// id, label or display label is named like one by the one rule of
// resource/secret ("myrootpwd" is not, but its label "MariaDB&Spider root
// password" is). Whoever shows answers or what they generate hides such a
// value; a web form asks for it in a password field and never echoes it.
func (in Input) IsSecret() bool {
	return secret.IsName(in.ID) || secret.IsName(in.Label) || secret.IsName(in.DisplayModeLabel)
}

// Int64 returns a pointer to n, for Input.Min and Input.Max literals.
func Int64(n int64) *int64 { return &n }

var idPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Check validates the form definition itself: input ids unique and
// usable in templates, known types, patterns that compile, defaults that
// pass their own input's checks, outputs that say what they generate.
// Every problem is returned at once.
func (f *Form) Check() error {
	var errs ValidationError
	for _, p := range f.check() {
		errs.Problems = append(errs.Problems, p.Problem)
	}
	if len(errs.Problems) > 0 {
		return &errs
	}
	return nil
}

// located is a form definition problem with the index of its input (or
// output, negative, from -1): LoadYAML maps it to a line.
type located struct {
	Problem
	index int
}

func (f *Form) check() []located {
	var errs []located
	at := 0
	add := func(where, msg string) { errs = append(errs, located{Problem{Input: where, Message: msg}, at}) }
	seen := map[string]bool{}
	for i, in := range f.Inputs {
		at = i
		where := in.ID
		if where == "" {
			where = fmt.Sprintf("input %d", i+1)
		}
		switch {
		case in.ID == "":
			add(where, "the input has no id")
		case !idPattern.MatchString(in.ID):
			add(where, fmt.Sprintf("id %q: expected letters, digits and underscores, not starting with a digit", in.ID))
		case seen[in.ID]:
			add(where, "the id is used by another input")
		}
		seen[in.ID] = true
		if !slices.Contains(Types, in.Type) {
			add(where, fmt.Sprintf("type %q is not one of %s", in.Type, typeList()))
			continue
		}
		if in.Pattern != "" {
			if _, err := regexp.Compile(in.Pattern); err != nil {
				add(where, fmt.Sprintf("pattern %q: %v", in.Pattern, err))
				continue
			}
		}
		if (in.Min != nil || in.Max != nil) && in.Type != Integer && in.Type != Size {
			add(where, fmt.Sprintf("bounds apply to integer and size inputs, not %s", in.Type))
		}
		if in.Min != nil && in.Max != nil && *in.Min > *in.Max {
			add(where, fmt.Sprintf("min %d is greater than max %d", *in.Min, *in.Max))
		}
		if in.Default != "" {
			if _, msgs := in.convert(in.Default); len(msgs) > 0 {
				for _, m := range msgs {
					add(where, "default: "+m)
				}
			}
		}
		if in.StrictCandidates && len(in.Candidates) == 0 {
			add(where, "strict candidates without any candidate")
		}
	}
	for i, o := range f.Outputs {
		at = -i - 1
		where := fmt.Sprintf("output %s", o.name(i))
		switch {
		case o.Template != "" && o.Generator != "":
			add(where, "both a template and a generator: keep one")
		case o.Template != "":
			if _, err := template.New(o.name(i)).Funcs(TemplateFuncs()).Parse(o.Template); err != nil {
				add(where, fmt.Sprintf("template: %v", err))
			}
		case o.Generator == "" && o.Mangle == "":
			add(where, "no template and no generator")
		}
	}
	return errs
}

func (o Output) name(i int) string {
	if o.Name != "" {
		return o.Name
	}
	return "output" + strconv.Itoa(i+1)
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Input returns the input of id.
func (f *Form) Input(id string) (Input, bool) {
	for _, in := range f.Inputs {
		if in.ID == id {
			return in, true
		}
	}
	return Input{}, false
}

// convert turns a textual answer into the input's typed value and checks
// it against the input's constraints. It returns every problem found.
func (in Input) convert(s string) (any, []string) {
	switch in.Type {
	case Integer:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, []string{fmt.Sprintf("%q is not an integer", s)}
		}
		return n, in.checkInt(n, strconv.FormatInt(n, 10))
	case Size:
		n, err := driver.ParseSize(s)
		if err != nil {
			return nil, []string{err.Error()}
		}
		return n, in.checkInt(n, strings.TrimSpace(s))
	case Boolean:
		b, err := driver.ParseBool(s)
		if err != nil {
			return nil, []string{err.Error()}
		}
		return b, nil
	case StringList:
		words := strings.Fields(s)
		return words, in.checkWords(words)
	default:
		return s, in.checkWords([]string{s})
	}
}

// convertValue accepts an answer given as a Go value.
func (in Input) convertValue(v any) (any, []string) {
	switch x := v.(type) {
	case string:
		return in.convert(x)
	case []string:
		if in.Type == StringList {
			words := slices.Clone(x)
			return words, in.checkWords(words)
		}
		return in.convert(strings.Join(x, " "))
	case int:
		return in.convertInt(int64(x))
	case int64:
		return in.convertInt(x)
	case int32:
		return in.convertInt(int64(x))
	case uint:
		if uint64(x) > 1<<63-1 {
			return nil, []string{fmt.Sprintf("%d is out of range", x)}
		}
		return in.convertInt(int64(x))
	case bool:
		if in.Type == Boolean {
			return x, nil
		}
		return in.convert(strconv.FormatBool(x))
	case nil:
		return in.convert("")
	}
	return nil, []string{fmt.Sprintf("a %T cannot be a %s", v, in.Type)}
}

func (in Input) convertInt(n int64) (any, []string) {
	switch in.Type {
	case Integer, Size:
		return n, in.checkInt(n, strconv.FormatInt(n, 10))
	}
	return in.convert(strconv.FormatInt(n, 10))
}

func (in Input) checkInt(n int64, text string) []string {
	var msgs []string
	if in.Min != nil && n < *in.Min {
		msgs = append(msgs, fmt.Sprintf("%s is less than the minimum %d", text, *in.Min))
	}
	if in.Max != nil && n > *in.Max {
		msgs = append(msgs, fmt.Sprintf("%s is more than the maximum %d", text, *in.Max))
	}
	if in.StrictCandidates && !slices.Contains(in.Candidates, text) {
		msgs = append(msgs, fmt.Sprintf("%s is not one of %s", text, strings.Join(in.Candidates, ", ")))
	}
	return msgs
}

func (in Input) checkWords(words []string) []string {
	var msgs []string
	var re *regexp.Regexp
	if in.Pattern != "" {
		// Check compiled the pattern already; a form that skipped Check
		// gets the compile error here rather than a panic.
		var err error
		if re, err = regexp.Compile(`^(?:` + in.Pattern + `)$`); err != nil {
			return []string{fmt.Sprintf("pattern %q: %v", in.Pattern, err)}
		}
	}
	for _, w := range words {
		if re != nil && !re.MatchString(w) {
			msgs = append(msgs, fmt.Sprintf("%q does not match %s", w, in.Pattern))
		}
		if in.StrictCandidates && !slices.Contains(in.Candidates, w) {
			msgs = append(msgs, fmt.Sprintf("%q is not one of %s", w, strings.Join(in.Candidates, ", ")))
		}
	}
	return msgs
}
