package checker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/svckit/svckit/compliance/internal/rootfs"
	"github.com/svckit/svckit/internal/atomicfile"
	"github.com/svckit/svckit/resource/secret"
)

// fileRule is one file variable: {"path", "fmt" | "ref", "mode", "uid",
// "gid"}. A path ending in "/" is a directory.
type fileRule struct {
	varName string
	Path    string
	Fmt     *string
	Ref     string
	Mode    *os.FileMode
	UID     string
	GID     string
}

type fileObject struct{ rules []*fileRule }

func newFileObject(vars []Var) (Object, error) {
	o := &fileObject{}
	for _, v := range vars {
		raws, err := objectOrList(v)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			r, err := parseFileRule(v.Name, raw)
			if err != nil {
				return nil, err
			}
			o.rules = append(o.rules, r)
		}
	}
	return o, nil
}

// objectOrList splits a value that holds one JSON object or a list of them.
func objectOrList(v Var) ([]json.RawMessage, error) {
	b := bytes.TrimSpace([]byte(v.Value))
	if len(b) > 0 && b[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
		return list, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("variable %s: expected a JSON object or a list of objects", v.Name)
	}
	return []json.RawMessage{b}, nil
}

func parseFileRule(name string, raw json.RawMessage) (*fileRule, error) {
	var d struct {
		Path *string         `json:"path"`
		Fmt  *string         `json:"fmt"`
		Ref  string          `json:"ref"`
		Mode json.RawMessage `json:"mode"`
		UID  json.RawMessage `json:"uid"`
		GID  json.RawMessage `json:"gid"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("variable %s: file rule: %w", name, err)
	}
	if d.Path == nil || *d.Path == "" {
		return nil, fmt.Errorf("variable %s: file rule: path is missing", name)
	}
	r := &fileRule{varName: name, Path: *d.Path, Fmt: d.Fmt, Ref: d.Ref}
	if !strings.Contains(r.Path, "%%") {
		// A path from a variable is checked once substituted.
		if _, err := rulePath(r.Path); err != nil {
			return nil, fmt.Errorf("variable %s: file rule: %w", name, err)
		}
	}
	if r.Fmt != nil && r.Ref != "" {
		return nil, fmt.Errorf("variable %s: file rule %s: fmt and ref are exclusive", name, r.Path)
	}
	if len(d.Mode) > 0 && string(d.Mode) != "null" {
		m, err := parseMode(d.Mode)
		if err != nil {
			return nil, fmt.Errorf("variable %s: file rule %s: mode: %w", name, r.Path, err)
		}
		r.Mode = &m
	}
	var err error
	if r.UID, err = scalar(d.UID); err != nil {
		return nil, fmt.Errorf("variable %s: file rule %s: uid: %w", name, r.Path, err)
	}
	if r.GID, err = scalar(d.GID); err != nil {
		return nil, fmt.Errorf("variable %s: file rule %s: gid: %w", name, r.Path, err)
	}
	return r, nil
}

// parseMode reads a mode as the reference does: its digits are octal even
// when JSON carries them as the number 644.
func parseMode(raw json.RawMessage) (os.FileMode, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, err
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%s is not an octal mode like 644", s)
	}
	return toFileMode(uint32(m)), nil
}

func toFileMode(m uint32) os.FileMode {
	fm := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		fm |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// scalar reads a JSON string or number as text; null and absent are "".
func scalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	// A string or a number, told by the first byte: trying one then the
	// other (through a Decoder and its 4 KiB buffer) cost more than a
	// file rule's whole check.
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, nil
		}
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("expected a string or a number, got %s", string(raw))
	}
	return n.String(), nil
}

// rulePath validates the path of a file rule (absolute, clean, no control
// character; a trailing / says a directory) and returns it without the
// trailing /.
func rulePath(p string) (string, error) {
	name := p
	if len(name) > 1 && strings.HasSuffix(name, "/") {
		name = name[:len(name)-1]
	}
	if err := rootfs.Check(name); err != nil {
		return "", err
	}
	return name, nil
}

// fileTarget is a rule with its variables substituted.
type fileTarget struct {
	rule     *fileRule
	path     string // as the rule says
	name     string // path without its trailing /, resolved inside the root
	root     *rootfs.FS
	dir      bool
	content  []byte
	hasData  bool
	uid, gid int // -1 when the rule does not say
}

// resolve substitutes the rule's variables. A rule that cannot be
// resolved gets its status and the problem to report, which resolve
// leaves to its caller: a check reports each rule's messages in the
// rules' order, after its batch's files were read (see Check).
func (r *fileRule) resolve(ctx context.Context, env *Env) (*fileTarget, Status, string) {
	p, err := env.Subst(r.Path)
	if err != nil {
		return nil, NA, fmt.Sprintf("file %s: n/a: %v", r.Path, err)
	}
	t := &fileTarget{rule: r, path: p, dir: strings.HasSuffix(p, "/"), uid: -1, gid: -1}
	if t.name, err = rulePath(p); err != nil {
		return nil, NOK, fmt.Sprintf("file %s: %v", p, err)
	}
	if t.root, err = env.fs(); err != nil {
		return nil, NOK, fmt.Sprintf("file %s: %v", p, err)
	}
	switch {
	case r.Fmt != nil:
		s, err := env.Subst(*r.Fmt)
		if err != nil {
			return nil, NA, fmt.Sprintf("file %s: n/a: %v", p, err)
		}
		// The reference ends fmt content with a newline.
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		t.content, t.hasData = []byte(s), true
	case r.Ref != "":
		ref, err := env.Subst(r.Ref)
		if err != nil {
			return nil, NA, fmt.Sprintf("file %s: n/a: %v", p, err)
		}
		b, err := fetchRef(ctx, env, ref)
		if err != nil {
			return nil, NOK, fmt.Sprintf("file %s: ref %s: %v", p, ref, err)
		}
		t.content, t.hasData = b, true
	}
	if t.dir && t.hasData {
		return nil, NOK, fmt.Sprintf("file %s: a directory rule (path ends with /) cannot carry content", p)
	}
	if r.UID != "" {
		s, err := env.Subst(r.UID)
		if err == nil {
			t.uid, err = lookupID(env, s, "passwd")
		}
		if err != nil {
			return nil, NOK, fmt.Sprintf("file %s: uid: %v", p, err)
		}
	}
	if r.GID != "" {
		s, err := env.Subst(r.GID)
		if err == nil {
			t.gid, err = lookupID(env, s, "group")
		}
		if err != nil {
			return nil, NOK, fmt.Sprintf("file %s: gid: %v", p, err)
		}
	}
	return t, OK, ""
}

const maxRefSize = 64 << 20

func fetchRef(ctx context.Context, env *Env, ref string) ([]byte, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %s", resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, maxRefSize))
	case "file":
		root, err := env.fs()
		if err != nil {
			return nil, err
		}
		return root.ReadFile(u.Path, maxRefSize)
	}
	return nil, fmt.Errorf("unsupported scheme %q (expected http, https or file)", u.Scheme)
}

// lookupID resolves a user or group name, or a number, to its id. Under a
// root other than / the names come from the root's etc/passwd and
// etc/group when they exist, so a chroot image is judged by its own users.
func lookupID(env *Env, s, db string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%d is negative", n)
		}
		return n, nil
	}
	if env.RootDir() != "/" {
		root, err := env.fs()
		if err != nil {
			return 0, err
		}
		if id, ok, err := lookupIDFile(root, "/etc/"+db, s); err != nil {
			return 0, err
		} else if ok {
			return id, nil
		}
	}
	if s == "root" {
		return 0, nil
	}
	if db == "passwd" {
		u, err := user.Lookup(s)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(u.Uid)
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

func lookupIDFile(root *rootfs.FS, path, name string) (int, bool, error) {
	f, err := root.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			id, err := strconv.Atoi(fields[2])
			if err != nil {
				return 0, false, fmt.Errorf("%s: bad id for %s", path, name)
			}
			return id, true, nil
		}
	}
	return 0, false, sc.Err()
}

// fileState is what a check found wrong.
type fileState struct {
	exists      bool
	isDir       bool
	size        int64
	contentDiff bool
	modeDiff    bool
	ownerDiff   bool
	mode        os.FileMode
	uid, gid    int
	special     os.FileMode // type bits of a symlink, fifo, device...
}

func (t *fileTarget) inspect() (*fileState, error) {
	st := &fileState{}
	a, err := t.root.LstatAttr(t.name)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	st.exists = true
	st.isDir = a.Mode.IsDir()
	if !st.isDir && !a.Mode.IsRegular() {
		st.special = a.Mode.Type()
		return st, nil
	}
	st.mode = a.Mode & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	st.uid, st.gid = a.UID, a.GID
	if t.dir != st.isDir {
		return st, nil
	}
	st.size = a.Size
	if t.hasData {
		// Compared as a stream: the file may be larger than memory.
		if st.contentDiff, err = t.differs(st.size); err != nil {
			return nil, err
		}
	}
	if t.rule.Mode != nil && st.mode != *t.rule.Mode {
		st.modeDiff = true
	}
	if (t.uid >= 0 && t.uid != st.uid) || (t.gid >= 0 && t.gid != st.gid) {
		st.ownerDiff = true
	}
	return st, nil
}

// Bounds of a check batch (see Check): rules, and bytes of target
// content held at once (a ref may bring up to maxRefSize).
const (
	checkBatchRules = 256
	checkBatchBytes = 16 << 20
	maxCheckWorkers = 8
	inspectRun      = 16 // rules a worker takes at a time
)

// Check checks the rules by batches: the rules of a batch are resolved in
// order, their files are then read by up to GOMAXPROCS goroutines (a
// file rule's check is a few system calls, which wait on the kernel one
// after the other otherwise), and each rule's messages are reported in
// the rules' order, as a one-by-one check would give them.
func (o *fileObject) Check(ctx context.Context, env *Env) Status {
	if len(o.rules) == 0 {
		env.infof("no file rules")
		return NA
	}
	var sts []Status
	for start := 0; start < len(o.rules); {
		if err := ctx.Err(); err != nil {
			env.errorf("file rules: %d not checked: %v", len(o.rules)-start, err)
			return NOK
		}
		batch := make([]fileCheck, 0, min(checkBatchRules, len(o.rules)-start))
		held := 0
		for start < len(o.rules) && len(batch) < checkBatchRules && held < checkBatchBytes {
			c := fileCheck{rule: o.rules[start]}
			c.t, c.status, c.problem = c.rule.resolve(ctx, env)
			if c.t != nil {
				held += len(c.t.content)
			}
			batch = append(batch, c)
			start++
		}
		inspectAll(ctx, batch)
		for i := range batch {
			sts = append(sts, batch[i].report(env))
		}
	}
	return Merge(sts...)
}

// fileCheck is one rule of a check batch.
type fileCheck struct {
	rule    *fileRule
	t       *fileTarget // nil when it could not be resolved
	status  Status      // of the resolution
	problem string      // why it could not be
	st      *fileState
	err     error
}

// inspectAll inspects the resolved rules of batch, on up to GOMAXPROCS
// goroutines (maxCheckWorkers at most). inspect only reads the file
// system: no message, no shared state but the FS, which is safe for
// concurrent use.
func inspectAll(ctx context.Context, batch []fileCheck) {
	workers := min(runtime.GOMAXPROCS(0), maxCheckWorkers, len(batch))
	if workers <= 1 {
		for i := range batch {
			batch[i].inspect()
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// By runs of rules: neighbours share a directory, and a
			// worker's runs keep the two threads off each other's.
			for {
				i := int(next.Add(inspectRun)) - inspectRun
				if i >= len(batch) || ctx.Err() != nil {
					return
				}
				for j := i; j < min(i+inspectRun, len(batch)); j++ {
					batch[j].inspect()
				}
			}
		})
	}
	wg.Wait()
	for i := range batch {
		if batch[i].t != nil && batch[i].st == nil && batch[i].err == nil {
			batch[i].err = ctx.Err() // not reached before the cancellation
		}
	}
}

func (c *fileCheck) inspect() {
	if c.t != nil {
		c.st, c.err = c.t.inspect()
	}
}

// report logs what the check of one rule found and returns its status.
func (c *fileCheck) report(env *Env) Status {
	if c.t == nil {
		env.errorf("%s", c.problem)
		return c.status
	}
	t, st, r := c.t, c.st, c.rule
	if c.err != nil {
		env.errorf("file %s: %v", t.path, c.err)
		return NOK
	}
	switch {
	case !st.exists:
		env.errorf("file %s does not exist", t.path)
		return NOK
	case st.special != 0:
		env.errorf("file %s is a %s, expected a regular file", t.path, typeName(st.special))
		return NOK
	case t.dir && !st.isDir:
		env.errorf("file %s is not a directory", t.path)
		return NOK
	case !t.dir && st.isDir:
		env.errorf("file %s is a directory, expected a file", t.path)
		return NOK
	}
	status := OK
	if st.contentDiff {
		status = NOK
		if secret.IsName(r.varName) {
			env.errorf("file %s content differs (diff not shown: variable %s holds a secret)", t.path, r.varName)
		} else {
			diff, err := t.diff(st.size)
			if err != nil {
				env.errorf("file %s content differs (diff: %v)", t.path, err)
			} else {
				env.errorf("file %s content differs:\n%s", t.path, diff)
			}
		}
	}
	if st.modeDiff {
		status = NOK
		env.errorf("file %s mode is %04o, target %04o", t.path, unixPerm(st.mode), unixPerm(*r.Mode))
	}
	if st.ownerDiff {
		status = NOK
		env.errorf("file %s owner is %d:%d, target %s", t.path, st.uid, st.gid, ownerString(t.uid, t.gid))
	}
	if status == OK {
		env.infof("file %s is conform", t.path)
	}
	return status
}

func ownerString(uid, gid int) string {
	s := func(n int) string {
		if n < 0 {
			return "-"
		}
		return strconv.Itoa(n)
	}
	return s(uid) + ":" + s(gid)
}

func unixPerm(m os.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// Fixable is n/a as in the reference: whether a file can be written is
// only known by writing it.
func (o *fileObject) Fixable(ctx context.Context, env *Env) Status { return NA }

func (o *fileObject) Fix(ctx context.Context, env *Env) Status {
	var sts []Status
	for _, r := range o.rules {
		sts = append(sts, r.fix(ctx, env))
	}
	return Merge(sts...)
}

func (r *fileRule) fix(ctx context.Context, env *Env) Status {
	t, s, problem := r.resolve(ctx, env)
	if s != OK {
		env.errorf("%s", problem)
		return s
	}
	st, err := t.inspect()
	if err != nil {
		env.errorf("file %s: %v", t.path, err)
		return NOK
	}
	if st.special != 0 {
		// Replacing a symlink would silently change what else points
		// through it; a device or a fifo is not ours to replace.
		env.errorf("file %s: refusing to replace a %s by a %s", t.path, typeName(st.special), kind(t.dir))
		return NOK
	}
	if st.exists && st.isDir != t.dir {
		// Replacing a directory by a file (or the reverse) would lose data.
		env.errorf("file %s: refusing to replace a %s by a %s", t.path, kind(st.isDir), kind(t.dir))
		return NOK
	}
	if t.dir {
		return r.fixDir(env, t, st)
	}
	mode := os.FileMode(0o644)
	if st.exists {
		mode = st.mode
	}
	if r.Mode != nil {
		mode = *r.Mode
	}
	if !st.exists || st.contentDiff {
		data := t.content
		if st.exists && st.contentDiff {
			b, err := backup(env, t)
			if err != nil {
				env.errorf("file %s: backup: %v", t.path, err)
				return NOK
			}
			env.infof("file %s: previous content saved as %s", t.path, b)
		}
		owner := atomicfile.Owner{UID: t.uid, GID: t.gid}
		if st.exists {
			// Keep the current owner unless the rule says otherwise.
			if owner.UID < 0 {
				owner.UID = st.uid
			}
			if owner.GID < 0 {
				owner.GID = st.gid
			}
		}
		if err := t.root.WriteFile(t.name, data, mode, owner); err != nil {
			env.errorf("file %s: %v", t.path, err)
			return NOK
		}
		env.infof("file %s written", t.path)
		return OK
	}
	return fixAttrs(env, t, st, mode)
}

func typeName(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "symlink"
	case m&os.ModeNamedPipe != 0:
		return "fifo"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

func kind(dir bool) string {
	if dir {
		return "directory"
	}
	return "file"
}

func (r *fileRule) fixDir(env *Env, t *fileTarget, st *fileState) Status {
	mode := os.FileMode(0o755)
	if r.Mode != nil {
		mode = *r.Mode
	}
	if !st.exists {
		if err := t.root.MkdirAll(t.name, 0o755); err != nil {
			env.errorf("directory %s: %v", t.path, err)
			return NOK
		}
		env.infof("directory %s created", t.path)
		// The umask decided the mode: look again.
		var err error
		if st, err = t.inspect(); err != nil {
			env.errorf("directory %s: %v", t.path, err)
			return NOK
		}
	}
	return fixAttrs(env, t, st, mode)
}

func fixAttrs(env *Env, t *fileTarget, st *fileState, mode os.FileMode) Status {
	if st.ownerDiff {
		if err := t.root.Lchown(t.name, t.uid, t.gid); err != nil {
			env.errorf("file %s: %v", t.path, err)
			return NOK
		}
		env.infof("file %s owner set to %s", t.path, ownerString(t.uid, t.gid))
	}
	// chown clears setuid bits, so the mode goes after it.
	if st.modeDiff || (st.ownerDiff && t.rule.Mode != nil) {
		if err := t.root.Chmod(t.name, mode); err != nil {
			env.errorf("file %s: %v", t.path, err)
			return NOK
		}
		env.infof("file %s mode set to %04o", t.path, unixPerm(mode))
	}
	return OK
}

// backup keeps the content a fix is about to replace, under the backup
// directory with the file's absolute path and a timestamp; it is copied as
// a stream, never held whole in memory.
func backup(env *Env, t *fileTarget) (string, error) {
	bfs, dir, err := env.backupFS()
	if err != nil {
		return "", err
	}
	src, err := t.root.Open(t.name)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst := path.Join(dir, t.name) + "." + env.now().UTC().Format("20060102T150405.000000000Z")
	if err := bfs.Copy(dst, src, 0o600, atomicfile.Keep); err != nil {
		return "", err
	}
	return bfs.HostPath(dst), nil
}
