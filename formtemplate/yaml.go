package formtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlInput and yamlOutput are the collector's form schema. Keys are the
// collector's (capitalized); svckit adds Template, Generator and Name to
// outputs, Pattern, Min and Max to inputs.
type yamlInput struct {
	ID               string     `yaml:"Id"`
	Label            string     `yaml:"Label"`
	DisplayModeLabel string     `yaml:"DisplayModeLabel"`
	LabelCss         string     `yaml:"LabelCss"`
	Type             string     `yaml:"Type"`
	Mandatory        yamlBool   `yaml:"Mandatory"`
	Default          yamlScalar `yaml:"Default"`
	Candidates       []string   `yaml:"Candidates"`
	StrictCandidates yamlBool   `yaml:"StrictCandidates"`
	Constraint       string     `yaml:"Constraint"`
	Pattern          string     `yaml:"Pattern"`
	Min              yamlScalar `yaml:"Min"`
	Max              yamlScalar `yaml:"Max"`
	Help             string     `yaml:"Help"`
}

type yamlOutput struct {
	Name      string `yaml:"Name"`
	Template  string `yaml:"Template"`
	Generator string `yaml:"Generator"`
	Type      string `yaml:"Type"`
	Format    string `yaml:"Format"`
	Dest      string `yaml:"Dest"`
	Function  string `yaml:"Function"`
	Handler   string `yaml:"Handler"`
	Mangle    string `yaml:"Mangle"`
}

// yamlBool reads the collector's Yes/No as well as true/false.
type yamlBool bool

func (b *yamlBool) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected Yes or No", n.Line)
	}
	switch strings.ToLower(n.Value) {
	case "yes", "y", "true", "on", "1":
		*b = true
	case "no", "n", "false", "off", "0", "":
		*b = false
	default:
		return fmt.Errorf("line %d: %q is not Yes or No", n.Line, n.Value)
	}
	return nil
}

// yamlScalar keeps a scalar as its text ("32", "spd01 spd02"), with its
// line.
type yamlScalar struct {
	Text string
	Set  bool
	Line int
}

func (s *yamlScalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a single value", n.Line)
	}
	s.Text, s.Set, s.Line = n.Value, n.Tag != "!!null", n.Line
	if !s.Set {
		s.Text = ""
	}
	return nil
}

// LoadYAMLFile reads a form from a YAML file in the collector's form
// schema.
func LoadYAMLFile(path string) (*Form, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := LoadYAML(data)
	var verr *ValidationError
	if errors.As(err, &verr) {
		verr.File = path
		return nil, verr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// LoadYAML reads a form in the collector's form schema: Css, Label, Desc,
// Outputs (Type, Format, Dest, Function, Handler, Mangle; svckit adds Name,
// Template, Generator) and Inputs (Id, Label, DisplayModeLabel, LabelCss,
// Type, Mandatory, Default, Candidates, StrictCandidates, Constraint,
// Help; svckit adds Pattern, Min, Max). Unknown keys are errors, with
// their line. The form is checked (Form.Check); problems come back in a
// *ValidationError with their lines.
//
// Constraint takes the collector's forms "match REGEXP", "> N", ">= N",
// "< N", "<= N" (sizes take units: ">= 1g").
func LoadYAML(data []byte) (*Form, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var yf struct {
		Css     string      `yaml:"Css"`
		Label   string      `yaml:"Label"`
		Desc    string      `yaml:"Desc"`
		Outputs []yaml.Node `yaml:"Outputs"`
		Inputs  []yaml.Node `yaml:"Inputs"`
	}
	if err := dec.Decode(&yf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty form")
		}
		return nil, fmt.Errorf("form: %w", err)
	}
	f := &Form{Label: yf.Label, Description: yf.Desc, CSS: yf.Css}
	var errs ValidationError
	var inputLines, outputLines []int
	for i, n := range yf.Inputs {
		var yi yamlInput
		if err := decodeStrict(&n, &yi); err != nil {
			errs.Problems = append(errs.Problems, Problem{Input: fmt.Sprintf("input %d", i+1), Line: n.Line, Message: err.Error()})
			continue
		}
		in := Input{
			ID: yi.ID, Label: yi.Label, DisplayModeLabel: yi.DisplayModeLabel, LabelCSS: yi.LabelCss,
			Type: Type(strings.ToLower(strings.TrimSpace(yi.Type))), Mandatory: bool(yi.Mandatory),
			Default: yi.Default.Text, Candidates: yi.Candidates, StrictCandidates: bool(yi.StrictCandidates),
			Pattern: yi.Pattern, Help: yi.Help,
		}
		if in.Type == "list" {
			in.Type = StringList
		}
		where := in.ID
		if where == "" {
			where = fmt.Sprintf("input %d", i+1)
		}
		inputLines = append(inputLines, n.Line)
		for _, b := range []struct {
			s   yamlScalar
			dst **int64
		}{{yi.Min, &in.Min}, {yi.Max, &in.Max}} {
			if !b.s.Set {
				continue
			}
			v, err := parseBound(in.Type, b.s.Text)
			if err != nil {
				errs.Problems = append(errs.Problems, Problem{Input: where, Line: b.s.Line, Message: err.Error()})
				continue
			}
			*b.dst = &v
		}
		if yi.Constraint != "" {
			if err := in.applyConstraint(yi.Constraint); err != nil {
				errs.Problems = append(errs.Problems, Problem{Input: where, Line: n.Line, Message: err.Error()})
			}
		}
		f.Inputs = append(f.Inputs, in)
	}
	for i, n := range yf.Outputs {
		var yo yamlOutput
		if err := decodeStrict(&n, &yo); err != nil {
			errs.Problems = append(errs.Problems, Problem{Input: fmt.Sprintf("output %d", i+1), Line: n.Line, Message: err.Error()})
			continue
		}
		o := Output(yo)
		outputLines = append(outputLines, n.Line)
		f.Outputs = append(f.Outputs, o)
	}
	for _, p := range f.check() {
		if p.index >= 0 {
			p.Line = inputLines[p.index]
		} else {
			p.Line = outputLines[-p.index-1]
		}
		errs.Problems = append(errs.Problems, p.Problem)
	}
	if len(errs.Problems) > 0 {
		return nil, &errs
	}
	return f, nil
}

// decodeStrict decodes a mapping node into v, rejecting keys v has no
// field for, with their line (Node.Decode does not honour KnownFields).
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping of keys (Id: ..., Type: ...)", n.Line)
	}
	known := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			known[tag] = true
		}
	}
	var unknown []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !known[k.Value] {
			unknown = append(unknown, fmt.Sprintf("line %d: unknown key %q", k.Line, k.Value))
		}
	}
	if len(unknown) > 0 {
		return errors.New(strings.Join(unknown, "; "))
	}
	return n.Decode(v)
}

func parseBound(t Type, s string) (int64, error) {
	in := Input{ID: "bound", Type: t}
	switch t {
	case Integer, Size:
	default:
		return 0, fmt.Errorf("bounds apply to integer and size inputs, not %q", t)
	}
	v, msgs := in.convert(s)
	if len(msgs) > 0 {
		return 0, fmt.Errorf("bound: %s", msgs[0])
	}
	return v.(int64), nil
}

// applyConstraint reads a collector constraint into the input.
func (in *Input) applyConstraint(c string) error {
	c = strings.TrimSpace(c)
	if re, ok := strings.CutPrefix(c, "match "); ok {
		in.Pattern = strings.TrimSpace(re)
		return nil
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		rest, ok := strings.CutPrefix(c, op)
		if !ok {
			continue
		}
		v, err := parseBound(in.Type, strings.TrimSpace(rest))
		if err != nil {
			return fmt.Errorf("constraint %q: %v", c, err)
		}
		switch op {
		case ">=":
			in.Min = &v
		case ">":
			v++
			in.Min = &v
		case "<=":
			in.Max = &v
		case "<":
			v--
			in.Max = &v
		}
		return nil
	}
	return fmt.Errorf("constraint %q: expected \"match REGEXP\", \"> N\", \">= N\", \"< N\" or \"<= N\"", c)
}
