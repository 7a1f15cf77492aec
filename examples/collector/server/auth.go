package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Principal is who a request authenticated as: a user of the users file
// or a registered node (HTTP basic nodename:uuid, as the reference).
type Principal struct {
	Name string
	Node bool
	// Apps limits a user to the services and nodes of these apps; nil
	// for an admin (and for a node, whose scope is its own things).
	Apps []string
}

// Admin tells whether p is a user who sees everything.
func (p *Principal) Admin() bool { return p != nil && !p.Node && p.Apps == nil }

// SeesApp tells whether a user p sees the services and nodes of app.
func (p *Principal) SeesApp(app string) bool {
	if p == nil || p.Node {
		return false
	}
	return p.Apps == nil || slices.Contains(p.Apps, app)
}

// Role names p's scope for the pages: admin, apps A,B, node.
func (p *Principal) Role() string {
	switch {
	case p.Node:
		return "node"
	case p.Apps == nil:
		return "admin"
	}
	return "apps " + strings.Join(p.Apps, ",")
}

// Users holds the users of the users file, one per line:
//
//	name:bcrypt-hash              an admin: sees and changes everything
//	name:bcrypt-hash:admin        the same, said explicitly
//	name:bcrypt-hash:apps=A,B     sees the services and nodes of apps A and B only
//
// (htpasswd -B writes the first form), # comments and blank lines
// ignored. A bcrypt hash holds no ':'.
type Users struct {
	hashes map[string][]byte
	apps   map[string][]string

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
	u := &Users{hashes: map[string][]byte{}, apps: map[string][]string{}, ok: map[[32]byte]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		user, rest, ok := strings.Cut(t, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%s:%d: expected name:bcrypt-hash[:admin|:apps=A,B]", name, line)
		}
		hash, scope, _ := strings.Cut(rest, ":")
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			// Never echo the field: it may be a plain password.
			return nil, fmt.Errorf("%s:%d: user %q: the password field is not a bcrypt hash (make one with collector passwd %s, or htpasswd -nB %s): plain passwords are refused", name, line, user, user, user)
		}
		if _, dup := u.hashes[user]; dup {
			return nil, fmt.Errorf("%s:%d: user %q is defined twice", name, line, user)
		}
		apps, err := parseScope(scope)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: user %q: %v", name, line, user, err)
		}
		u.hashes[user] = []byte(hash)
		if apps != nil {
			u.apps[user] = apps
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return u, nil
}

// parseScope reads the third field of a users file line: "" or "admin"
// (nil: everything), "apps=A,B" (those apps only).
func parseScope(scope string) ([]string, error) {
	switch {
	case scope == "", scope == "admin":
		return nil, nil
	case strings.HasPrefix(scope, "apps="):
		var apps []string
		for a := range strings.SplitSeq(strings.TrimPrefix(scope, "apps="), ",") {
			a = strings.TrimSpace(a)
			if a == "" || len(a) > 200 {
				return nil, fmt.Errorf("scope %q: expected apps=A,B with non-empty app names", scope)
			}
			if !slices.Contains(apps, a) {
				apps = append(apps, a)
			}
		}
		return apps, nil
	}
	return nil, fmt.Errorf("scope %q: expected admin or apps=A,B", scope)
}

// Principal returns the principal of user name (who must be a user).
func (u *Users) Principal(name string) *Principal {
	return &Principal{Name: name, Apps: slices.Clone(u.apps[name])}
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
			return s.users.Principal(name), nil
		}
		return nil, nil
	}
	ok, err := s.db.CheckNode(ctx, name, password)
	if err != nil || !ok {
		return nil, err
	}
	return &Principal{Name: name, Node: true}, nil
}
