// Package created keeps the records of what a service created: the
// backing files of disk.loop, the disks of disk.gce. Unprovision deletes
// only what has a record whose identity still matches the thing there now
// (the same inode and birth time, the same GCE disk id): a file or a disk
// that existed before provision, or that was replaced since, is not the
// service's to delete.
//
// The records are JSON files under <service var dir>/created, one per
// thing, written atomically.
package created

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/internal/atomicfile"
)

// Kinds of records.
const (
	KindFile    = "file"
	KindGCEDisk = "gce-disk"
)

// Record is what was created, and how to recognise it later.
type Record struct {
	Kind string `json:"kind"`
	// Name is the path of a file, projects/P/zones/Z/disks/D of a disk.
	Name    string    `json:"name"`
	RID     string    `json:"rid"`
	Created time.Time `json:"created"`
	// File identifies a file; nil for other kinds.
	File *FileID `json:"file,omitempty"`
	// GCE identifies a GCE disk; nil for other kinds.
	GCE *GCEID `json:"gce,omitempty"`
}

// FileID identifies one file for as long as it exists: a file deleted and
// created again at the same path may get the same inode number, but not
// the same birth time.
type FileID struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Btime int64  `json:"btime_ns,omitempty"` // 0 when the filesystem does not keep it
}

// GCEID identifies one GCE disk: a disk deleted and created again under
// the same name gets another id.
type GCEID struct {
	ID       uint64 `json:"id"`
	SelfLink string `json:"self_link"`
}

// StatFile returns the identity of the file at path (not following a
// final symlink).
func StatFile(path string) (FileID, error) {
	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_INO|unix.STATX_BTIME, &sx); err != nil {
		return FileID{}, &os.PathError{Op: "statx", Path: path, Err: err}
	}
	id := FileID{Dev: unix.Mkdev(sx.Dev_major, sx.Dev_minor), Ino: sx.Ino}
	if sx.Mask&unix.STATX_BTIME != 0 {
		id.Btime = sx.Btime.Sec*1e9 + int64(sx.Btime.Nsec)
	}
	return id, nil
}

// Store holds the records of one service on one node.
type Store struct {
	dir string
}

// Open returns the store under varDir, the service's state directory. An
// empty varDir gives a store that keeps nothing: Put fails, Get finds
// nothing.
func Open(varDir string) Store {
	if varDir == "" {
		return Store{}
	}
	return Store{dir: filepath.Join(varDir, "created")}
}

// ErrNoStateDir is returned by Put when the service has no state
// directory to keep the record in.
var ErrNoStateDir = errors.New("the service has no state directory: the record of what provision created cannot be kept, so unprovision will keep it unless forced")

func (s Store) path(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name))
	return filepath.Join(s.dir, kind+"-"+hex.EncodeToString(sum[:12])+".json")
}

// Put records rec, replacing any record of the same kind and name.
func (s Store) Put(rec Record) error {
	if s.dir == "" {
		return ErrNoStateDir
	}
	if rec.Created.IsZero() {
		rec.Created = time.Now().UTC()
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(s.path(rec.Kind, rec.Name), append(data, '\n'), 0o600)
}

// Get returns the record of kind and name; ok is false when there is none.
func (s Store) Get(kind, name string) (rec Record, ok bool, err error) {
	if s.dir == "" {
		return Record{}, false, nil
	}
	p := s.path(kind, name)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return Record{}, false, fmt.Errorf("%s: %w", p, err)
	}
	if rec.Kind != kind || rec.Name != name {
		return Record{}, false, fmt.Errorf("%s: holds the record of %s %s, expected %s %s", p, rec.Kind, rec.Name, kind, name)
	}
	return rec, true, nil
}

// Delete removes the record of kind and name, if any.
func (s Store) Delete(kind, name string) error {
	if s.dir == "" {
		return nil
	}
	if err := os.Remove(s.path(kind, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// PutFile records that rid created the file at path, as it is now.
func (s Store) PutFile(rid, path string) error {
	id, err := StatFile(path)
	if err != nil {
		return err
	}
	return s.Put(Record{Kind: KindFile, Name: path, RID: rid, File: &id})
}

// OwnsFile tells whether the file at path is the one recorded as created:
// same device, inode and birth time. why says what differs when it is not.
// A missing file is not owned (there is nothing to delete).
func (s Store) OwnsFile(path string) (owned bool, why string, err error) {
	rec, ok, err := s.Get(KindFile, path)
	if err != nil {
		return false, "", err
	}
	if !ok || rec.File == nil {
		return false, "not created by this service", nil
	}
	id, err := StatFile(path)
	if err != nil {
		return false, "", err
	}
	if id != *rec.File {
		return false, fmt.Sprintf("not created by this service (replaced since it was created on %s)", rec.Created.Format(time.RFC3339)), nil
	}
	return true, "", nil
}

// PutGCEDisk records that rid created the disk named name (the
// projects/P/zones/Z/disks/D path) with that id and self link.
func (s Store) PutGCEDisk(rid, name string, id uint64, selfLink string) error {
	return s.Put(Record{Kind: KindGCEDisk, Name: name, RID: rid, GCE: &GCEID{ID: id, SelfLink: selfLink}})
}

// OwnsGCEDisk tells whether the disk named name, whose id is id now, is
// the one recorded as created. why says what differs when it is not.
func (s Store) OwnsGCEDisk(name string, id uint64) (owned bool, why string, err error) {
	rec, ok, err := s.Get(KindGCEDisk, name)
	if err != nil {
		return false, "", err
	}
	if !ok || rec.GCE == nil {
		return false, "not created by this service", nil
	}
	if rec.GCE.ID != id {
		return false, fmt.Sprintf("not created by this service (the disk it created on %s had id %d, this one has id %d)", rec.Created.Format(time.RFC3339), rec.GCE.ID, id), nil
	}
	return true, "", nil
}
