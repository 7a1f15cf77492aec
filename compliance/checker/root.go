package checker

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/svckit/svckit/compliance/internal/rootfs"
)

// envFS holds the directories an Env resolves paths in, each opened once.
type envFS struct {
	mu                 sync.Mutex
	root, proc, backup *rootfs.FS
}

// fs returns the root the rules' paths are resolved in: every path a rule
// reads or writes stays inside it, symbolic links included.
func (e *Env) fs() (*rootfs.FS, error) {
	e.fsys.mu.Lock()
	defer e.fsys.mu.Unlock()
	if e.fsys.root == nil {
		f, err := rootfs.Open(e.RootDir())
		if err != nil {
			return nil, err
		}
		e.fsys.root = f
	}
	return e.fsys.root, nil
}

// procFS returns the live sysctl tree, as a root of its own.
func (e *Env) procFS() (*rootfs.FS, error) {
	e.fsys.mu.Lock()
	defer e.fsys.mu.Unlock()
	if e.fsys.proc == nil {
		f, err := rootfs.Open(e.procSys())
		if err != nil {
			return nil, err
		}
		e.fsys.proc = f
	}
	return e.fsys.proc, nil
}

// backupFS returns where backups go and the directory inside it.
func (e *Env) backupFS() (*rootfs.FS, string, error) {
	if e.BackupDir == "" {
		f, err := e.fs()
		return f, "/var/compliance/backup", err
	}
	e.fsys.mu.Lock()
	defer e.fsys.mu.Unlock()
	if e.fsys.backup == nil {
		if err := os.MkdirAll(e.BackupDir, 0o700); err != nil {
			return nil, "", err
		}
		f, err := rootfs.Open(e.BackupDir)
		if err != nil {
			return nil, "", err
		}
		e.fsys.backup = f
	}
	return e.fsys.backup, "/", nil
}

// Close releases the directories the checkers opened; the Env may be used
// again afterwards (they are opened anew).
func (e *Env) Close() error {
	e.fsys.mu.Lock()
	defer e.fsys.mu.Unlock()
	err := errors.Join(e.fsys.root.Close(), e.fsys.proc.Close(), e.fsys.backup.Close())
	e.fsys.root, e.fsys.proc, e.fsys.backup = nil, nil, nil
	return err
}

// nodeConf is the node configuration's path inside the root.
func (e *Env) nodeConf() string {
	if e.NodeConf == "" {
		return "/etc/node.conf"
	}
	return e.NodeConf
}

// checkText refuses a key or value that holds a newline, NUL or another
// control character: written to a file, it would inject a line.
func checkText(what, s string) error {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s %q holds a control character (newline, NUL, ...)", what, s)
		}
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	return nil
}
