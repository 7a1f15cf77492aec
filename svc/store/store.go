// Package store keeps service configurations where every node of a
// cluster can fetch them: the flex primary pushes a new version, the
// nodes pull it (validated before it replaces their local copy).
//
// Three stores come with svckit:
//
//   - Dir, a directory of <svc>.conf files (the embedded default, for one
//     host or a shared filesystem);
//   - Collector, the OpenSVC collector's REST API (GET and POST
//     /services), where the seed's form posts the generated config;
//   - etcdstore.Store (package svc/store/etcdstore), an etcd v3 cluster,
//     with compare-and-swap on the key's mod revision; a package of its
//     own so that a program links the etcd client only when it imports it.
//
// storetest.CAS checks a store of your own against the same contract.
//
// Every write is conditional: Put takes the revision the writer based its
// change on, so that two writers cannot silently overwrite each other (a
// stale write fails with an error wrapping ErrConflict).
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Config is one version of a service configuration in a store.
type Config struct {
	Service string `json:"service"`
	Data    []byte `json:"-"`
	// Checksum is the sha256 of Data, in hex: the version nodes compare.
	Checksum string `json:"checksum"`
	// Revision is the store's version token, to pass to Put as the
	// expected revision: the mod revision in etcd, the checksum in a
	// directory or the collector.
	Revision string    `json:"revision"`
	Time     time.Time `json:"time,omitzero"`
}

// Expectations for Put besides a revision read from the store.
const (
	// Absent makes Put create the config: it fails when one exists.
	Absent = ""
	// AnyRevision makes Put overwrite whatever the store holds.
	AnyRevision = "*"
)

// ErrNotFound is returned (wrapped) by Get when the store holds no config
// for the service.
var ErrNotFound = errors.New("no such service config")

// ErrConflict is returned (wrapped) by Put when the store's revision is not
// the expected one: someone else wrote in between.
var ErrConflict = errors.New("stale write")

// ConflictError tells which revision the writer expected and which one the
// store holds.
type ConflictError struct {
	Store    string
	Service  string
	Expected string
	Actual   string // "" when the store holds no config
}

func (e *ConflictError) Error() string {
	exp, act := e.Expected, e.Actual
	if exp == Absent {
		exp = "no config"
	}
	if act == "" {
		act = "no config"
	}
	return fmt.Sprintf("%s: put %s: stale write refused: the change was based on revision %s but the store holds revision %s (pull, redo the change, push again)", e.Store, e.Service, exp, act)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// Store keeps service configurations.
type Store interface {
	// Get returns the current config of svcname, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, svcname string) (*Config, error)
	// Put stores data as the new config of svcname if the store's
	// revision is expect (Absent: no config yet; AnyRevision: whatever),
	// and returns the stored version.
	Put(ctx context.Context, svcname string, data []byte, expect string) (*Config, error)
	// String names the store in messages (no credentials).
	String() string
}

// Checksum returns the sha256 of data in hex.
func Checksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Short returns the first 12 digits of a checksum, for messages.
func Short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

var svcnameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidServiceName checks that name can be used as a file name and key.
func ValidServiceName(name string) error {
	if !svcnameRE.MatchString(name) || len(name) > 200 {
		return fmt.Errorf("service name %q: expected letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}
