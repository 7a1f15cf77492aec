package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Principal is who a request authenticated as: a user of the users file
// or a registered node (HTTP basic nodename:uuid, as the reference).
type Principal struct {
	Name string
	Node bool
}

// Users holds the users of the users file: one "name:bcrypt-hash" per
// line (htpasswd -B writes them), # comments and blank lines ignored.
type Users struct {
	hashes map[string][]byte

	mu sync.Mutex
	// ok caches the sha256 of name:password pairs bcrypt accepted, so
	// that a client's every request does not pay bcrypt's cost.
	ok map[[32]byte]bool
}

// MaxUsersFile bounds the users file.
const MaxUsersFile = 4 << 20

// LoadUsers reads a users file; errors name the file and line.
func LoadUsers(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if len(data) > MaxUsersFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxUsersFile)
	}
	return ParseUsers(path, data)
}

// ParseUsers reads the users file format; name is used in messages.
func ParseUsers(name string, data []byte) (*Users, error) {
	u := &Users{hashes: map[string][]byte{}, ok: map[[32]byte]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		user, hash, ok := strings.Cut(t, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%s:%d: expected name:bcrypt-hash", name, line)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			// Never echo the field: it may be a plain password.
			return nil, fmt.Errorf("%s:%d: user %q: the password field is not a bcrypt hash (make one with htpasswd -nB %s): plain passwords are refused", name, line, user, user)
		}
		if _, dup := u.hashes[user]; dup {
			return nil, fmt.Errorf("%s:%d: user %q is defined twice", name, line, user)
		}
		u.hashes[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return u, nil
}

// Has tells whether name is a user.
func (u *Users) Has(name string) bool {
	if u == nil {
		return false
	}
	_, ok := u.hashes[name]
	return ok
}

// Check tells whether password is name's.
func (u *Users) Check(name, password string) bool {
	if u == nil {
		return false
	}
	h, ok := u.hashes[name]
	if !ok {
		return false
	}
	key := sha256.Sum256([]byte(name + "\x00" + password))
	u.mu.Lock()
	cached := u.ok[key]
	u.mu.Unlock()
	if cached {
		return true
	}
	if bcrypt.CompareHashAndPassword(h, []byte(password)) != nil {
		return false
	}
	u.mu.Lock()
	if len(u.ok) > 10000 {
		clear(u.ok)
	}
	u.ok[key] = true
	u.mu.Unlock()
	return true
}

// authenticate returns the principal of HTTP basic credentials: a user
// when name is in the users file, else a node when the password is its
// uuid; nil when neither.
func (s *Server) authenticate(ctx context.Context, name, password string) (*Principal, error) {
	if s.users.Has(name) {
		if s.users.Check(name, password) {
			return &Principal{Name: name}, nil
		}
		return nil, nil
	}
	ok, err := s.db.CheckNode(ctx, name, password)
	if err != nil || !ok {
		return nil, err
	}
	return &Principal{Name: name, Node: true}, nil
}
