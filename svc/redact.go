package svc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/resource/secret"
)

// secrets collects the secret values of the configuration, following
// them through references: the values of secret-named keys of every
// section and node (expanded), the values secret-named variables are
// given in commands (-e MYSQL_PASSWORD=..., expanded), and the values of
// the [env] keys such a value references, directly or through other env
// keys. `run_args = -e MYSQL_PASSWORD={env.dbpw}` makes dbpw's value a
// secret, wherever else it shows.
func (l *loader) secrets() *secret.Set {
	set := secret.NewSet()
	add := func(v string) {
		set.Add(v)
		if strings.Contains(v, "\n") {
			// A multi-line value shows line by line in logs.
			for _, line := range strings.Split(v, "\n") {
				set.Add(strings.TrimSpace(line))
			}
		}
	}
	envSecret := map[string]bool{}
	var markRefs func(raw string)
	markRefs = func(raw string) {
		for _, m := range refPattern.FindAllString(raw, -1) {
			name, ok := strings.CutPrefix(m[1:len(m)-1], "env.")
			if !ok || envSecret[name] {
				continue
			}
			envSecret[name] = true
			if env := l.raw.section("env"); env != nil {
				for _, k := range env.variants(name) {
					markRefs(k.Value)
				}
			}
		}
	}
	for _, sec := range l.raw.Sections {
		rid := ""
		if strings.Contains(sec.Name, "#") {
			rid = sec.Name
		}
		for _, k := range sec.Keys {
			if l.isSecretName(k.Name) {
				if sec.Name == "env" {
					envSecret[k.Name] = true
				}
				markRefs(k.Value)
				add(l.expandQuiet(sec.Name, k, rid))
				continue
			}
			for _, a := range secret.Assignments(k.Value) {
				markRefs(a)
				add(a)
			}
			if strings.Contains(k.Value, "{") {
				for _, a := range secret.Assignments(l.expandQuiet(sec.Name, k, rid)) {
					add(a)
				}
			}
		}
	}
	if env := l.raw.section("env"); env != nil {
		for _, k := range env.Keys {
			if envSecret[k.Name] {
				add(l.expandQuiet("env", k, ""))
			}
		}
	}
	return set
}

// isSecretName is secret.IsName remembered by name: a config repeats a
// few keyword names in hundreds of sections.
func (l *loader) isSecretName(name string) bool {
	is, ok := l.secretNames[name]
	if !ok {
		is = secret.IsName(name)
		if l.secretNames == nil {
			l.secretNames = map[string]bool{}
		}
		l.secretNames[name] = is
	}
	return is
}

// refsSecret tells whether a raw value references, directly or through
// env keys, an [env] key named like a secret.
func (l *loader) refsSecret(raw string, seen map[string]bool) bool {
	for _, m := range refPattern.FindAllString(raw, -1) {
		name, ok := strings.CutPrefix(m[1:len(m)-1], "env.")
		if !ok || seen[name] {
			continue
		}
		if l.isSecretName(name) {
			return true
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[name] = true
		if k, ok := l.envKeys[name]; ok && l.refsSecret(k.Value, seen) {
			return true
		}
	}
	return false
}

// redactValue masks value in a validation message about key k when the
// value is a secret, however short: `stop_timeout = {env.db_password}`
// must not answer `"hunter2" is not a duration`.
func (l *loader) redactValue(k rawKey, value, msg string) string {
	if value != "" && (l.isSecretName(k.Name) || l.secretSet.Contains(value) || l.refsSecret(k.Value, nil)) {
		return strings.ReplaceAll(msg, value, secret.Placeholder)
	}
	return msg
}

// redactProblems masks the secrets of set in the problems' messages.
func redactProblems(set *secret.Set, problems []Problem) []Problem {
	for i := range problems {
		problems[i].Message = set.Redact(problems[i].Message)
	}
	return problems
}

// redactSyntaxError masks, in a syntax error that quotes a line of the
// file, what the file's secret-named keys and variables are given: the
// file did not parse, so only names can tell. A quoted line that holds a
// secret-named word without "=" ("db_password hunter2") is cut after
// that word.
func redactSyntaxError(data []byte, err error) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	set := secret.NewSet(secret.Assignments(string(data))...)
	for i, p := range ve.Problems {
		msg := set.Redact(p.Message)
		if end, ok := secretWordEnd(msg); ok {
			tail := ""
			if j := strings.LastIndex(msg, ": expected"); j >= end {
				tail = msg[j:]
			}
			msg = msg[:end] + " " + secret.Placeholder + tail
		}
		ve.Problems[i].Message = msg
	}
	return err
}

// secretWordEnd returns the end of the first secret-named word of text.
func secretWordEnd(text string) (int, bool) {
	start := -1
	for i := 0; i <= len(text); i++ {
		word := i < len(text) && (text[i] == '_' || text[i] == '-' || text[i] == '.' ||
			(text[i] >= '0' && text[i] <= '9') || (text[i]|0x20 >= 'a' && text[i]|0x20 <= 'z'))
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			if secret.IsName(text[start:i]) {
				return i, true
			}
			start = -1
		}
	}
	return 0, false
}

// Redact replaces every secret of the service's configuration found in
// text, and what secret-named names are given in it. Callers pass every
// log line and error through it.
func (s *Service) Redact(text string) string { return s.secrets.Redact(text) }

// Secrets is the service's set of secret values; drivers and callers may
// add to it, and redact through it.
func (s *Service) Secrets() *secret.Set { return s.secrets }

// redactingContext returns ctx with its action logger redacting through
// the service's secrets, so that what drivers log is safe too.
func (s *Service) redactingContext(ctx context.Context) context.Context {
	h := resource.Logger(ctx).Handler()
	return resource.WithLogger(ctx, slog.New(secret.NewHandler(h, s.secrets)))
}

// RenderConfigOptions are the flags of RenderConfig.
type RenderConfigOptions struct {
	// ShowSecrets shows the secret values instead of redacting them.
	ShowSecrets bool
}

// RenderConfig returns the configuration text as written, with secret
// values replaced unless opts.ShowSecrets.
func (s *Service) RenderConfig(opts RenderConfigOptions) string {
	if opts.ShowSecrets {
		return s.text
	}
	return redactConfigText(s.text, s.secrets)
}

// WriteConfig writes what RenderConfig returns to w, without making it
// whole first: the runs of lines that need no change go from the text as
// read, through a 32 KiB buffer (print config of a large config).
func (s *Service) WriteConfig(w io.Writer, opts RenderConfigOptions) error {
	if opts.ShowSecrets {
		_, err := io.WriteString(w, s.text)
		return err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := writeRedactedConfig(bw, s.text, s.secrets); err != nil {
		return err
	}
	return bw.Flush()
}

// redactConfigText redacts a configuration text line by line, keeping its
// layout: values of secret-named keywords (with their continuation
// lines), values of secret-named variables in commands, and any other
// occurrence of a known secret value.
func redactConfigText(text string, secrets *secret.Set) string {
	var b strings.Builder
	b.Grow(len(text))
	_ = writeRedactedConfig(&b, text, secrets) // a Builder does not fail
	return b.String()
}

// writeRedactedConfig is redactConfigText writing to w.
func writeRedactedConfig(w io.Writer, text string, secrets *secret.Set) error {
	// A config repeats a few keyword names on thousands of lines: the
	// rule is asked once per name.
	isSecret := map[string]bool{}
	if !redactByLine(secrets) {
		_, err := io.WriteString(w, secrets.Redact(strings.Join(keptLines(text, isSecret), "\n")))
		return err
	}
	return redactLines(w, text, secrets, isSecret)
}

// redactLines is redactConfigText's line by line path, in one pass over
// text without a slice of its lines (keptLines then redactLine, fused:
// print config of a large config spends its time here). What names
// assign is masked line by line, a plain key apart from its value; the
// known values then once over the whole text: none spans a line or a
// "=" (redactByLine), so each line comes out as secrets.Redact of it.
func redactLines(w io.Writer, text string, secrets *secret.Set, isSecret map[string]bool) error {
	// Most lines come out as they are: the output is text with the lines
	// that change replaced and the dropped ones cut, written by runs. Each
	// piece starts and ends at a line's start or end, or next to a "=", so
	// masking the known values piece by piece masks what masking the
	// whole would (none holds a newline or a "=").
	var werr error
	emit := func(piece string) {
		if werr == nil && piece != "" {
			_, werr = io.WriteString(w, secrets.RedactValues(piece))
		}
	}
	flushed := 0 // text[:flushed] is written, or cut
	replace := func(from, to int, with string) {
		emit(text[flushed:from])
		emit(with)
		flushed = to
	}
	// What a line does depends on its key (the text before its first
	// "="), and a config repeats a few hundred keys on thousands of lines.
	classes := map[string]keyClass{}
	inSecret := false
	for pos := 0; pos <= len(text); {
		end := strings.IndexByte(text[pos:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += pos
		}
		line := text[pos:end]
		start, next := pos, end+1
		pos = next
		indented := line != "" && (line[0] == ' ' || line[0] == '\t')
		if indented && inSecret {
			// The continuation lines of a secret value go with it (and
			// the newline before each).
			replace(start-1, end, "")
			continue
		}
		if indented {
			if r := secret.RedactCommand(line); r != line {
				replace(start, end, r)
			}
			continue
		}
		inSecret = false
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			if r := secret.RedactCommand(line); r != line {
				replace(start, end, r)
			}
			continue
		}
		c, known := classes[key]
		if !known {
			c = classify(key, isSecret)
			classes[key] = c
		}
		switch c {
		case keyPlain:
			if r := secret.RedactCommand(value); r != value {
				replace(start+len(key)+1, end, r)
			}
		case keySecret:
			replace(start, end, secret.RedactCommand(key+"= "+secret.Placeholder))
			inSecret = true
		case keyComment:
			if r := secret.RedactCommand(line); r != line {
				replace(start, end, r)
			}
		default:
			var lb strings.Builder
			redactLine(&lb, line, isSecret)
			if r := lb.String(); r != line {
				replace(start, end, r)
			}
		}
	}
	emit(text[flushed:])
	return werr
}

// keyClass is what redactLines does with a "key = value" line, by key.
type keyClass uint8

const (
	keyOther   keyClass = iota // as redactLine does
	keyPlain                   // a plain key, no secret name: its value alone is masked
	keySecret                  // a secret-named keyword: its value goes
	keyComment                 // a comment: masked whole
)

// classify is keptLines's then redactLine's reading of a line's key.
func classify(key string, isSecret map[string]bool) keyClass {
	trimmed := strings.TrimSpace(key)
	if strings.HasPrefix(trimmed, "#") {
		return keyComment
	}
	name, scope, _ := strings.Cut(trimmed, "@")
	if secretName(name, isSecret) {
		return keySecret
	}
	if tr := trimBlanks(key); len(tr) != len(trimmed) || !plainName(tr) ||
		(scope != "" && secretName(scope, isSecret)) {
		// Not a plain key (or blanks TrimSpace reads otherwise).
		return keyOther
	}
	return keyPlain
}

// keptLines returns the lines of text with the values of secret-named
// keywords replaced, their continuation lines dropped.
func keptLines(text string, isSecret map[string]bool) []string {
	lines := strings.Split(text, "\n")
	kept := lines[:0]
	inSecret := false
	for _, line := range lines {
		indented := line != "" && (line[0] == ' ' || line[0] == '\t')
		if !indented {
			inSecret = false
			if k, _, ok := strings.Cut(line, "="); ok && classify(k, isSecret) == keySecret {
				kept = append(kept, k+"= "+secret.Placeholder)
				inSecret = true
				continue
			}
		} else if inSecret {
			// The continuation lines of a secret value go with it.
			continue
		}
		kept = append(kept, line)
	}
	return kept
}

// redactByLine tells whether the text may be redacted line by line, and
// a line in its key and its value, with the result of redacting it
// whole: secret.Set.Redact never matches across a newline by itself, and
// a known secret value holding no newline and no "=" cannot span a line
// nor a key and its value.
func redactByLine(secrets *secret.Set) bool {
	for _, v := range secrets.Values() {
		if strings.ContainsAny(v, "\n=") {
			return false
		}
	}
	return true
}

// redactLine writes one line of a config with what secret-named names
// assign in it masked (secret.RedactCommand; the known values are
// redactConfigText's). A "key[@scope] = value" line whose key and scope
// are no secret names is masked in its value alone: RedactCommand asks
// the secret-name rule about every name written before a "=", which is
// every key of the config, and finds nothing to mask in a plain key;
// isSecret has the answers already.
func redactLine(b *strings.Builder, line string, isSecret map[string]bool) {
	key, value, ok := strings.Cut(line, "=")
	if !ok || !plainKey(key) {
		b.WriteString(secret.RedactCommand(line))
		return
	}
	name, scope, _ := strings.Cut(trimBlanks(key), "@")
	if secretName(name, isSecret) || (scope != "" && secretName(scope, isSecret)) {
		b.WriteString(secret.RedactCommand(line))
		return
	}
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(secret.RedactCommand(value))
}

func secretName(name string, isSecret map[string]bool) bool {
	is, seen := isSecret[name]
	if !seen {
		is = secret.IsName(name)
		isSecret[name] = is
	}
	return is
}

// plainKey tells whether key is a keyword, an optional @scope, and
// blanks: [A-Za-z_][A-Za-z0-9_.-]*(@[A-Za-z0-9_.-]*)?[ \t]*. The only
// names Redact could read as variables in it are then the keyword and
// the scope.
func plainKey(key string) bool { return plainName(trimBlanks(key)) }

// plainName is plainKey of a key without its trailing blanks.
func plainName(key string) bool {
	if key == "" || !(key[0] == '_' || key[0]|0x20 >= 'a' && key[0]|0x20 <= 'z') {
		return false
	}
	at := false
	for i := 1; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '@' && !at:
			at = true
		case c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z':
		default:
			return false
		}
	}
	return true
}

// trimBlanks drops the trailing blanks (spaces and tabs) of s.
func trimBlanks(s string) string {
	i := len(s)
	for i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
		i--
	}
	return s[:i]
}
