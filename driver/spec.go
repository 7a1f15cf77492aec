package driver

import (
	"errors"
	"fmt"

	"github.com/svckit/svckit/resource"
)

// Spec is what a driver knows of one section without any I/O: the label
// print status shows, the names the resource provides when up and the
// names it uses (the scheduler orders resources by them). Each group
// package (driver/fs, driver/disk, driver/ip, driver/container,
// driver/sync) exports a typed spec per driver, parsed once from the
// section; the real driver embeds it and adds I/O, and driver/fake wraps
// the very same spec, so that a fake cannot drift from the real driver.
type Spec interface {
	Label() string
	resource.Provider
	resource.User
}

// SpecFunc parses the spec of a section. Errors about one keyword are
// *KeywordError, so that the config's loader reports them at that
// keyword's line.
type SpecFunc func(cfg Config) (Spec, error)

// SpecOf adapts the parser of a typed spec to a SpecFunc, for
// Manifest.Spec: Spec: driver.SpecOf(ParseSpec).
func SpecOf[S Spec](parse func(Config) (S, error)) SpecFunc {
	return func(cfg Config) (Spec, error) {
		s, err := parse(cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// KeywordError is an error about the value of one keyword of a section.
// It does not name the section: the caller knows it, and svc reports it
// with the file, the line of the keyword and the section.
type KeywordError struct {
	Keyword string
	Err     error
}

func (e *KeywordError) Error() string { return e.Keyword + ": " + e.Err.Error() }
func (e *KeywordError) Unwrap() error { return e.Err }

// KeywordErrorf returns a *KeywordError about keyword.
func KeywordErrorf(keyword, format string, args ...any) error {
	return &KeywordError{Keyword: keyword, Err: fmt.Errorf(format, args...)}
}

// AsKeywordError returns the *KeywordError in err's chain, if any.
func AsKeywordError(err error) (*KeywordError, bool) {
	var ke *KeywordError
	ok := errors.As(err, &ke)
	return ke, ok
}

// ParseSpec returns the spec of cfg through its manifest's Spec. A
// manifest without one gives a spec ordered by group, with no label
// beyond the driver id: nothing is known of it without its driver.
func ParseSpec(cfg Config) (Spec, error) {
	if cfg.Manifest.Spec == nil {
		return groupOrdered(cfg.Manifest.ID), nil
	}
	return cfg.Manifest.Spec(cfg)
}

// groupOrdered is the spec of a driver that says nothing of its needs.
type groupOrdered string

func (g groupOrdered) Label() string                     { return string(g) }
func (groupOrdered) Provides() []string                  { return nil }
func (groupOrdered) Uses() ([]string, resource.Ordering) { return nil, resource.OrderByGroup }
