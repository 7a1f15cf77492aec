package secret

import (
	"sort"
	"strings"
	"sync"
)

// Set is the secret values known to a service or a compliance run: the
// values of secret-named keys and variables, and every value that flows
// from one. It is safe for concurrent use; a nil *Set knows no value but
// still masks what secret-named names assign.
type Set struct {
	mu     sync.RWMutex
	values map[string]struct{}
	sorted []string // longest first, so that a secret holding another goes whole
}

// NewSet returns a set holding values.
func NewSet(values ...string) *Set {
	s := &Set{}
	s.Add(values...)
	return s
}

// Add records values as secrets. Empty values are ignored.
func (s *Set) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v == "" {
			continue
		}
		if _, ok := s.values[v]; ok {
			continue
		}
		if s.values == nil {
			s.values = map[string]struct{}{}
		}
		s.values[v] = struct{}{}
		s.sorted = append(s.sorted, v)
	}
	sort.SliceStable(s.sorted, func(i, j int) bool { return len(s.sorted[i]) > len(s.sorted[j]) })
}

// Contains tells whether v is a known secret.
func (s *Set) Contains(v string) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.values[v]
	return ok
}

// Values returns the known secrets, longest first.
func (s *Set) Values() []string {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.sorted...)
}

// Len is the number of known secrets.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sorted)
}

// Redact returns text with what secret-named names assign masked (as
// RedactCommand does), then every known secret of MinLen bytes or more.
// A secret shorter than WordLen goes only where it is a whole word (no
// letter or digit touches it on a side where the secret itself starts or
// ends with one), so that the secret "root" leaves "chroot" alone but
// goes in "user=root" and "root@host"; a longer one goes wherever it
// occurs, since any part of a long text that holds it gives it away.
func (s *Set) Redact(text string) string {
	return s.RedactValues(RedactCommand(text))
}

// RedactValues masks the known secrets in text, as Redact does after
// RedactCommand: Redact(t) is RedactValues(RedactCommand(t)), and a text
// cut in pieces none of the secrets spans may be masked by
// RedactCommand piece by piece, then by RedactValues whole.
func (s *Set) RedactValues(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.sorted {
		if len(v) < MinLen {
			continue
		}
		text = replace(text, v, len(v) < WordLen)
	}
	return text
}

// RedactError returns err's text redacted; "" for nil.
func (s *Set) RedactError(err error) string {
	if err == nil {
		return ""
	}
	return s.Redact(err.Error())
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

// WordLen is the length from which a secret is masked wherever it
// occurs, not only as a whole word.
const WordLen = 8

func replace(text, v string, wordOnly bool) string {
	i := strings.Index(text, v)
	if i < 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for i >= 0 {
		end := i + len(v)
		whole := !wordOnly || ((i == 0 || !isAlnum(v[0]) || !isAlnum(text[i-1])) &&
			(end == len(text) || !isAlnum(v[len(v)-1]) || !isAlnum(text[end])))
		if whole {
			b.WriteString(text[last:i])
			b.WriteString(Placeholder)
			last = end
		} else {
			end = i + 1
		}
		next := strings.Index(text[end:], v)
		if next < 0 {
			break
		}
		i = end + next
	}
	if last == 0 && b.Len() == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}
