package formtemplate

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
)

// GenerateFunc computes an output from validated answers.
type GenerateFunc func(Values) ([]byte, error)

// Generators is a set of generator functions by name. The zero value is
// not usable; use NewGenerators. It is safe for concurrent use.
type Generators struct {
	mu  sync.RWMutex
	fns map[string]GenerateFunc
}

// NewGenerators returns an empty set.
func NewGenerators() *Generators { return &Generators{fns: map[string]GenerateFunc{}} }

// Register adds a generator. The name must be free.
func (g *Generators) Register(name string, fn GenerateFunc) error {
	if name == "" || fn == nil {
		return fmt.Errorf("generator %q: a name and a function are required", name)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.fns[name]; dup {
		return fmt.Errorf("generator %q is already registered", name)
	}
	g.fns[name] = fn
	return nil
}

// Lookup returns the generator of name.
func (g *Generators) Lookup(name string) (GenerateFunc, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	fn, ok := g.fns[name]
	return fn, ok
}

// Names returns the registered names, sorted.
func (g *Generators) Names() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	names := make([]string, 0, len(g.fns))
	for n := range g.fns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Document is the result of one output.
type Document struct {
	Output string
	Data   []byte
}

// Generate runs every output of the form over values, which should come
// from Submit. gens may be nil when no output names a generator.
func (f *Form) Generate(values Values, gens *Generators) ([]Document, error) {
	docs := make([]Document, 0, len(f.Outputs))
	for i, o := range f.Outputs {
		name := o.name(i)
		var (
			data []byte
			err  error
		)
		switch {
		case o.Template != "":
			data, err = executeTemplate(name, o.Template, values)
		case o.Generator != "":
			var fn GenerateFunc
			ok := false
			if gens != nil {
				fn, ok = gens.Lookup(o.Generator)
			}
			if !ok {
				return nil, fmt.Errorf("output %s: no generator %q is registered", name, o.Generator)
			}
			data, err = fn(values)
		case o.Mangle != "":
			return nil, fmt.Errorf("output %s: a collector Mangle function is not run: give the output a Generator or a Template", name)
		default:
			return nil, fmt.Errorf("output %s: no template and no generator", name)
		}
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		docs = append(docs, Document{Output: name, Data: data})
	}
	return docs, nil
}

func executeTemplate(name, src string, values Values) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(TemplateFuncs()).Parse(src)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, map[string]any(values)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TemplateFuncs are the functions templates can call besides the
// text/template builtins:
//
//	seq N          1, 2, ..., N
//	pad2 N         N on two digits at least ("07", "12", "110")
//	join SEP LIST  the words of a list joined by SEP
//	shellquote S   S quoted for a shell-style command line (run_args)
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"seq": func(n int64) []int64 {
			if n < 0 {
				return nil
			}
			s := make([]int64, n)
			for i := range s {
				s[i] = int64(i) + 1
			}
			return s
		},
		"pad2":       func(n int64) string { return fmt.Sprintf("%02d", n) },
		"join":       func(sep string, l []string) string { return strings.Join(l, sep) },
		"shellquote": ShellQuote,
	}
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@+=:,./-]+$`)

// ShellQuote quotes s as one word of a command line split the way
// github.com/google/shlex (and a POSIX shell) splits it, for a value
// written in a service config. Beyond shell quoting it keeps the INI and
// config layers out of the way: no raw space (so no " #" or " ;" inline
// comment), no trailing backslash (an INI continuation), no "{" followed
// by a name (a config reference) and no "%(" (an INI interpolation). The
// empty string becomes ”. s must not hold a line break or another
// control character: callers reject those, and they come out unchanged.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if shellSafe.MatchString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '\\' || r == '{' || r == '%' || r == '\t':
			// Single quotes keep the character literal and put a quote,
			// not a raw space or the character itself, next to the
			// neighbours that the INI or reference layers look at.
			b.WriteByte('\'')
			b.WriteRune(r)
			b.WriteByte('\'')
		case r < 0x80 && !isWordByte(byte(r)):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_@+=:,./-", c) >= 0
}
