package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// DefaultSessionTTL is how long a login lasts when Options.SessionTTL
// is 0.
const DefaultSessionTTL = 12 * time.Hour

// The pages' cookies. Over TLS they carry the __Host- prefix: the
// browser then takes them only from a secure origin, for the whole host,
// never from a sibling domain.
const (
	sessionCookie = "collector_session"
	loginCookie   = "collector_login"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

func cookieName(r *http.Request, base string) string {
	if r.TLS != nil {
		return "__Host-" + base
	}
	return base
}

// newToken returns 32 random bytes, URL-safe base64.
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func tokenHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// CreateSession stores a new session of user and returns its id (the
// cookie's value; only its sha256 is stored) and its CSRF token.
func (d *DB) CreateSession(ctx context.Context, user string, expires time.Time) (id, csrf string, err error) {
	id, csrf = newToken(), newToken()
	_, err = d.sql.ExecContext(ctx, d.q(`INSERT INTO sessions (id_sha256, username, csrf, created, expires_ns) VALUES (?, ?, ?, ?, ?)`),
		tokenHash(id), user, csrf, now(), expires.UnixNano())
	return id, csrf, err
}

// Session returns the user and CSRF token of a session that has not
// expired at now; ok is false for an unknown or expired one.
func (d *DB) Session(ctx context.Context, id string, now time.Time) (user, csrf string, ok bool, err error) {
	var exp int64
	err = d.sql.QueryRowContext(ctx, d.q(`SELECT username, csrf, expires_ns FROM sessions WHERE id_sha256 = ?`), tokenHash(id)).Scan(&user, &csrf, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil || exp <= now.UnixNano() {
		return "", "", false, err
	}
	return user, csrf, true, nil
}

// DeleteSession ends a session.
func (d *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := d.sql.ExecContext(ctx, d.q(`DELETE FROM sessions WHERE id_sha256 = ?`), tokenHash(id))
	return err
}

// DeleteExpiredSessions removes the sessions expired at now.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := d.sql.ExecContext(ctx, d.q(`DELETE FROM sessions WHERE expires_ns <= ?`), now.UnixNano())
	return err
}

// session is a logged-in user of the pages.
type session struct {
	id   string
	csrf string
	p    *Principal
}

// session returns the request's session, nil when it has none (or one
// of a user no longer in the users file).
func (s *Server) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(cookieName(r, sessionCookie))
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	user, csrf, ok, err := s.db.Session(r.Context(), c.Value, s.now())
	if err != nil || !ok || !s.users.Has(user) {
		return nil, err
	}
	return &session{id: c.Value, csrf: csrf, p: s.users.Principal(user)}, nil
}

// setCookie sets a cookie the pages' way: HttpOnly, SameSite, Secure
// over TLS, for the whole host. maxAge < 0 deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, base, value string, maxAge int, same http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName(r, base),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: same,
	})
}

// sameToken compares tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// MaxPageForm bounds the body of a page's POST (login, logout, the
// form's answers).
const MaxPageForm = 64 << 10

// checkPost refuses a POST from another origin (the browser's
// Sec-Fetch-Site or Origin), then one without the session's CSRF token
// (the form's csrf_token field, or the X-CSRF-Token header for a
// program posting JSON): both, so that a browser that sends neither
// header is still covered. It removes the token from the parsed form.
func (s *Server) checkPost(w http.ResponseWriter, r *http.Request, want string) (int, string) {
	if err := s.cross.Check(r); err != nil {
		return http.StatusForbidden, "cross-origin request refused: post from the collector's own pages"
	}
	got := r.Header.Get(csrfHeader)
	if got == "" && !sentJSONBody(r) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxPageForm)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return http.StatusRequestEntityTooLarge, "the form is larger than the collector takes"
			}
			return http.StatusBadRequest, "the form does not parse"
		}
		got = r.PostForm.Get(csrfField)
		r.PostForm.Del(csrfField)
		r.Form.Del(csrfField)
	}
	if !sameToken(got, want) {
		return http.StatusForbidden, "the form's CSRF token is missing or stale: reload the page and try again"
	}
	return 0, ""
}

func sentJSONBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return len(ct) >= 16 && ct[:16] == "application/json"
}
