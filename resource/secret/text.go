package secret

import "strings"

// RedactEnv returns a copy of env (NAME=value entries) with the values of
// secret-named variables replaced by Placeholder.
func RedactEnv(env []string) []string {
	out := make([]string, len(env))
	for i, e := range env {
		if name, _, ok := strings.Cut(e, "="); ok && IsName(name) {
			e = name + "=" + Placeholder
		}
		out[i] = e
	}
	return out
}

// RedactArgs returns a copy of a command's arguments with the secrets
// their names give away masked: "-e NAME=value", "--env NAME=value",
// "--env=NAME=value", "-eNAME=value", "NAME=value", "--password=value"
// and "--password value" for a secret-named option.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out[i] = RedactCommand(a)
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && IsName(a) &&
			i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			out[i] = Placeholder
		}
	}
	return out
}

// RedactCommand returns a command line, a log line or a line of a
// configuration file with the value of every assignment to a
// secret-named name masked, layout and quotes kept: "-e NAME=value",
// "--env=NAME=value", "NAME=value cmd", "name = value" (to the end of
// the line), `"name": "value"` (JSON), `-e "NAME=a b"` and
// "--password value".
func RedactCommand(text string) string {
	var b strings.Builder
	last := 0
	scan(text, func(start, end int) {
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:start])
		b.WriteString(Placeholder)
		last = end
	})
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// Assignments returns the values RedactCommand masks in text: what a
// secret-named name is given in a command or configuration line.
func Assignments(text string) []string {
	var out []string
	scan(text, func(start, end int) { out = append(out, text[start:end]) })
	return out
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

func isNameChar(c byte) bool {
	return isNameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isSpace(c byte) bool { return isBlank(c) || c == '\n' || c == '\r' }

// scan calls found with the bounds of each value assigned to a
// secret-named name in text, in order, without overlaps.
func scan(text string, found func(start, end int)) {
	// Every value found follows a "=", a ":" or a "--name" (the two
	// cases of the switch below): text without them holds none, and most
	// configuration values (names, sizes, paths) have none.
	// (IndexByte twice: vectorised, where IndexAny goes byte by byte.)
	if strings.IndexByte(text, '=') < 0 && strings.IndexByte(text, ':') < 0 && !strings.Contains(text, "--") {
		return
	}
	scanAll(text, found)
}

// scanAll is scan without its first look for "=", ":" and "--".
func scanAll(text string, found func(start, end int)) {
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if !isNameStart(c) || (i > 0 && isNameChar(text[i-1]) && text[i-1] != '-') {
			i++
			continue
		}
		j := i + 1
		for j < n && isNameChar(text[j]) {
			j++
		}
		name := text[i:j]
		var open byte
		if i > 0 && (text[i-1] == '"' || text[i-1] == '\'') {
			open = text[i-1]
		}
		k := j
		closed := false
		if open != 0 && k < n && text[k] == open {
			k++
			closed = true
		}
		blankBefore := k < n && isBlank(text[k])
		for k < n && isBlank(text[k]) {
			k++
		}
		dashed := strings.HasPrefix(text[max(0, i-2):i], "--")
		switch {
		case k < n && (text[k] == '=' || (closed && text[k] == ':')):
			k++
		case dashed && !closed && open == 0 && blankBefore && k < n && text[k] != '-' && text[k] != '\n' && IsName(name):
			// "--password value": the next word.
			end := k
			for end < n && !isSpace(text[end]) {
				end++
			}
			found(k, end)
			i = end
			continue
		default:
			i = j
			continue
		}
		if !IsName(name) {
			i = j
			continue
		}
		spaced := blankBefore || (k < n && isBlank(text[k]))
		// Inside a quoted word ('NAME= lead') the blanks are the value's.
		for k < n && isBlank(text[k]) && (open == 0 || closed) {
			k++
		}
		start, end := k, k
		switch {
		case k < n && (text[k] == '"' || text[k] == '\''):
			start = k + 1
			end = indexFrom(text, start, text[k])
		case open != 0 && !closed:
			end = indexFrom(text, start, open)
		case spaced:
			end = indexFrom(text, start, '\n')
			for end > start && isSpace(text[end-1]) {
				end--
			}
		default:
			// A shell word: to the next blank, whatever it holds
			// ("semi;colon", "a&b" are one password), except the
			// closing quote of a quoted log value (msg="x token=abc")
			// and, in JSON, the end of the member.
			for end < n && !isSpace(text[end]) && !(closed && strings.ContainsRune(",}]", rune(text[end]))) {
				end++
			}
			if last := text[end-1]; end-1 > start && (last == '"' || last == '\'') && text[end-2] != '\\' &&
				strings.IndexByte(text[start:end-1], last) < 0 {
				end--
			}
		}
		if end > start {
			found(start, end)
		}
		i = max(end, j)
	}
}

// indexFrom returns the index of c in text at or after from, or the end
// of the line (or text) when c is not on the line. A backslash escapes
// the next byte ("a\"b" is one quoted value).
func indexFrom(text string, from int, c byte) int {
	for i := from; i < len(text); i++ {
		switch text[i] {
		case c, '\n':
			return i
		case '\\':
			if i+1 < len(text) && text[i+1] != '\n' {
				i++
			}
		}
	}
	return len(text)
}
