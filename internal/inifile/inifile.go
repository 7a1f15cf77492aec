// Package inifile reads the INI dialect of OpenSVC service configurations
// in one pass, with the line of every section and key. svc loads configs
// with it and formtemplate/spd compares them with it, so that both read a
// config the same way.
package inifile

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The reader reads with the semantics gopkg.in/ini.v1 gives OpenSVC
// configurations under the options svc used (AllowPythonMultilineValues, SpaceBeforeInlineComment,
// KeyValueDelimiters "=", AllowShadows, PreserveSurroundedQuote): indented
// lines continue a value, " #" and " ;" start an inline comment, a trailing
// backslash joins the next line, """ and ` quote multi-line values, a
// repeated section merges into the first, "-" keys are numbered #1, #2...
//
// It replaces ini.LoadSources because that is quadratic in the input: every
// new section and every new key is searched for in a slice of the names
// already seen, and every value peeks (copies) the whole rest of the file
// when the reader buffer is large enough for long continuation values.
// TestReaderMatchesGoIni and FuzzReader compare the two.

// DefaultSection is the section of the keys before any header.
const DefaultSection = "DEFAULT"

// Key is one "key = value" of a section, as written (scope included in
// Name: "disable@n1"). Value is the first value of a repeated key, as ini
// keeps it, with the indentation of its continuation lines.
type Key struct {
	Name  string
	Value string
	Lines []int // every line the key is set on
}

// Split returns the keyword and the scope of the key: "disable", "n1" for
// "disable@n1"; scoped tells an "@" was written (the scope may be empty).
func (k *Key) Split() (name, scope string, scoped bool) { return strings.Cut(k.Name, "@") }

// Section is a section with its keys in the order of first appearance.
type Section struct {
	Name    string
	Lines   []int // every header line; none for the implicit DEFAULT
	Keys    []*Key
	keyIdx  map[string]*Key
	autoInc map[string]bool // keys last set through "-"
	count   int             // the next "-" number
}

// Line returns the first header line of s, 0 for an implicit DEFAULT.
func (s *Section) Line() int {
	if len(s.Lines) == 0 {
		return 0
	}
	return s.Lines[0]
}

// Key returns the key of s written name (scope included), or nil.
func (s *Section) Key(name string) *Key {
	if s.keyIdx != nil {
		return s.keyIdx[name]
	}
	for _, k := range s.Keys {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// indexFrom is the number of keys from which a section keeps an index of
// them: below it, scanning a few keys costs less than a map per section.
const indexFrom = 16

// add appends k to s.
func (s *Section) add(k *Key) {
	s.Keys = append(s.Keys, k)
	switch {
	case s.keyIdx != nil:
		s.keyIdx[k.Name] = k
	case len(s.Keys) >= indexFrom:
		s.keyIdx = make(map[string]*Key, 2*len(s.Keys))
		for _, k := range s.Keys {
			s.keyIdx[k.Name] = k
		}
	}
}

// slab hands out Keys and their first line from arrays allocated a
// chunk at a time: a config is thousands of keys, and one allocation per
// key and per line list was most of the reader's cost.
type slab struct {
	keys     []Key
	lines    []int
	sections []Section
	ptrs     []*Key // the first keys of each section
}

// sectionKeys is the room a new section gets for its keys before append
// grows them: most sections of a config have fewer.
const sectionKeys = 8

func (b *slab) section(name string) *Section {
	if len(b.sections) == cap(b.sections) {
		b.sections = make([]Section, 0, slabChunk/4)
		b.ptrs = make([]*Key, 0, slabChunk/4*sectionKeys)
	}
	n := len(b.ptrs)
	b.ptrs = b.ptrs[:n+sectionKeys]
	// Capacity capped: a section with more keys moves them out.
	b.sections = append(b.sections, Section{Name: name, count: 1, Keys: b.ptrs[n : n : n+sectionKeys]})
	return &b.sections[len(b.sections)-1]
}

const slabChunk = 256

func (b *slab) key(name, value string, line int) *Key {
	if len(b.keys) == cap(b.keys) {
		b.keys = make([]Key, 0, slabChunk)
		b.lines = make([]int, 0, slabChunk)
	}
	b.lines = append(b.lines, line)
	n := len(b.lines)
	// Capacity 1: a repeated key appends its other lines to a copy.
	b.keys = append(b.keys, Key{Name: name, Value: value, Lines: b.lines[n-1 : n : n]})
	return &b.keys[len(b.keys)-1]
}

// SyntaxError is a line the INI syntax rejects.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// lineReader hands out the lines of a text with their terminating newline,
// the way bufio.Reader.ReadBytes('\n') does, and their numbers.
type lineReader struct {
	text string
	pos  int
	n    int // number of the line last read
	eof  bool
}

// next returns the next line (with its "\n" unless it is the last) and
// whether it was the last one (no newline after it).
func (r *lineReader) next() string {
	if r.pos >= len(r.text) {
		r.eof = true
		return ""
	}
	r.n++
	rest := r.text[r.pos:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		r.pos = len(r.text)
		r.eof = true
		return rest
	}
	r.pos += i + 1
	return rest[:i+1]
}

// Read parses text; sections come in the order of their first header,
// the DEFAULT section first (even when empty). A line the syntax rejects
// is a *SyntaxError. check, when not nil, is called every 1024 lines so
// that a cancelled load stops; its error ends the read.
func Read(text string, check func() error) ([]*Section, error) {
	r := &lineReader{text: text}
	switch {
	case strings.HasPrefix(text, "\xfe\xff"), strings.HasPrefix(text, "\xff\xfe"):
		r.pos = 2
	case strings.HasPrefix(text, "\xef\xbb\xbf"):
		r.pos = 3
	}
	byName := map[string]*Section{}
	var keys slab
	newSection := func(name string) *Section {
		if s, ok := byName[name]; ok {
			return s
		}
		s := keys.section(name)
		byName[name] = s
		return s
	}
	sections := []*Section{newSection(DefaultSection)}
	cur := sections[0]
	for !r.eof {
		if r.n%1024 == 0 && check != nil {
			if err := check(); err != nil {
				return nil, err
			}
		}
		raw := r.next()
		ln := r.n
		line := trimLeftSpace(raw)
		if line == "" {
			continue
		}
		switch line[0] {
		case '#', ';':
			continue
		case '[':
			end := strings.LastIndexByte(line, ']')
			if end < 0 {
				return nil, &SyntaxError{ln, "unclosed section: " + excerpt(line) + ": expected [name]"}
			}
			name := line[1:end]
			if name == "" {
				return nil, &SyntaxError{ln, "empty section name: expected [name]"}
			}
			_, seen := byName[name]
			cur = newSection(name)
			if !seen {
				sections = append(sections, cur)
			}
			cur.Lines = append(cur.Lines, ln)
			cur.count = 1
			continue
		}
		name, offset, err := readKeyName(line)
		if err != nil {
			return nil, &SyntaxError{ln, err.Error()}
		}
		autoInc := false
		if name == "-" {
			autoInc = true
			name = "#" + strconv.Itoa(cur.count)
			cur.count++
		}
		value, err := readValue(r, line[offset:])
		if err != nil {
			return nil, &SyntaxError{ln, err.Error()}
		}
		if name == "" {
			return nil, &SyntaxError{ln, "empty key name: expected key = value"}
		}
		if k := cur.Key(name); k != nil {
			if cur.autoInc[name] {
				return nil, &SyntaxError{ln, fmt.Sprintf("key %s set again after a \"-\" key numbered it", name)}
			}
			k.Lines = append(k.Lines, ln)
		} else {
			cur.add(keys.key(name, value, ln))
		}
		if autoInc || cur.autoInc[name] {
			if cur.autoInc == nil {
				cur.autoInc = map[string]bool{}
			}
			cur.autoInc[name] = autoInc
		}
	}
	return sections, nil
}

// trimLeftSpace is strings.TrimLeftFunc(s, unicode.IsSpace) without a
// function call per byte in the usual, ASCII case.
func trimLeftSpace(s string) string {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ', c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
		case c < utf8.RuneSelf:
			return s[i:]
		default:
			return strings.TrimLeftFunc(s[i:], unicode.IsSpace)
		}
	}
	return ""
}

// readKeyName returns the key of a line and the offset of its value.
func readKeyName(line string) (string, int, error) {
	var quote string
	switch line[0] {
	case '"':
		quote = `"`
		if len(line) > 6 && strings.HasPrefix(line, `"""`) {
			quote = `"""`
		}
	case '`':
		quote = "`"
	}
	if quote != "" {
		start := len(quote)
		pos := strings.Index(line[start:], quote)
		if pos < 0 {
			return "", -1, fmt.Errorf("missing closing key quote: %s: expected %skey%s = value", excerpt(line), quote, quote)
		}
		pos += start
		i := strings.IndexByte(line[pos+start:], '=')
		if i < 0 {
			return "", -1, fmt.Errorf("key-value delimiter not found: %s: expected key = value", excerpt(line))
		}
		return strings.TrimSpace(line[start:pos]), pos + i + start + 1, nil
	}
	end := strings.IndexByte(line, '=')
	if end < 0 {
		return "", -1, fmt.Errorf("key-value delimiter not found: %s: expected [section] headers and key = value lines", excerpt(line))
	}
	if end == 0 {
		return "", -1, fmt.Errorf("empty key name: expected key = value")
	}
	return strings.TrimSpace(line[:end]), end + 1, nil
}

// readValue reads the value that starts with in (the rest of the key's
// line) and the lines that continue it.
func readValue(r *lineReader, in string) (string, error) {
	line := trimLeftSpace(in)
	if line == "" {
		if strings.HasSuffix(in, "\n") {
			return readIndented(r, ""), nil
		}
		return "", nil
	}
	var quote string
	switch {
	case len(line) > 3 && strings.HasPrefix(line, `"""`):
		quote = `"""`
	case line[0] == '`':
		quote = "`"
	}
	if quote != "" {
		start := len(quote)
		if pos := strings.LastIndex(line[start:], quote); pos >= 0 {
			return line[start : pos+start], nil
		}
		return readQuoted(r, line[start:], quote)
	}
	last := line[len(line)-1]
	line = strings.TrimSpace(line)
	if line[len(line)-1] == '\\' {
		return readBackslashed(r, line[:len(line)-1]), nil
	}
	i := strings.Index(line, " #")
	if i < 0 {
		i = strings.Index(line, " ;")
	}
	if i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	if last == '\n' {
		return readIndented(r, line), nil
	}
	return line, nil
}

// readIndented appends the following lines that start with a space, a tab
// or a form feed (Python-style continuation), indentation kept. It
// measures them first: most values have none and cost no copy, the
// others one allocation of the right size, however long (a run_args of
// many KiB).
func readIndented(r *lineReader, v string) string {
	size, pos := len(v), r.pos
	for pos < len(r.text) {
		c := r.text[pos]
		if c != ' ' && c != '\t' && c != '\f' {
			break
		}
		end := len(r.text)
		if i := strings.IndexByte(r.text[pos:], '\n'); i >= 0 {
			end = pos + i + 1
		}
		size += 1 + len(strings.TrimSuffix(r.text[pos:end], "\n"))
		pos = end
	}
	if pos == r.pos {
		return v
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(v)
	for r.pos < pos {
		b.WriteByte('\n')
		b.WriteString(strings.TrimSuffix(r.next(), "\n"))
	}
	return b.String()
}

// readQuoted reads a """ or ` value up to its closing quote.
func readQuoted(r *lineReader, v, quote string) (string, error) {
	first := r.n
	var b strings.Builder
	b.WriteString(v)
	for {
		next := r.next()
		if pos := strings.LastIndex(next, quote); pos >= 0 {
			rest := strings.TrimRight(next[pos+len(quote):], "\r\n")
			if !strings.HasSuffix(strings.TrimSpace(rest), `\`) {
				b.WriteString(next[:pos])
				return b.String(), nil
			}
		}
		b.WriteString(next)
		if r.eof {
			return "", fmt.Errorf("value opened with %s is not closed (from line %d to the end): expected a closing %s", quote, first, quote)
		}
	}
}

// readBackslashed joins the lines that follow a line ending with "\".
func readBackslashed(r *lineReader, v string) string {
	var b strings.Builder
	b.WriteString(v)
	for {
		next := strings.TrimSpace(r.next())
		if next == "" {
			return b.String()
		}
		if !strings.HasSuffix(next, `\`) {
			b.WriteString(next)
			return b.String()
		}
		b.WriteString(next[:len(next)-1])
	}
}

// excerpt is a line as an error message quotes it: trimmed, and cut when
// long.
func excerpt(line string) string {
	line = strings.TrimSpace(line)
	if len(line) > 120 {
		return line[:120] + "..."
	}
	return line
}
