package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/svc/store"
)

// PostgresEnv names the URL of a PostgreSQL server the tests may create
// databases on (.ci/run starts one).
const PostgresEnv = "SVCKIT_TEST_POSTGRES"

// backend opens a fresh, migrated database.
type backend struct {
	name string
	open func(t testing.TB) *server.DB
}

func backends() []backend {
	return []backend{
		{name: "sqlite", open: openSQLite},
		{name: "postgres", open: openPostgres},
	}
}

func openSQLite(t testing.TB) *server.DB {
	db, err := server.OpenDB(context.Background(), "", t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens a database of its own on the server of
// SVCKIT_TEST_POSTGRES, dropped at the end of the test.
func openPostgres(t testing.TB) *server.DB {
	u := postgresURL(t)
	if u == "" {
		return nil
	}
	db, err := server.OpenDB(context.Background(), u, "")
	require.NoError(t, err)
	require.Equal(t, server.Postgres, db.Dialect())
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresURL creates an empty database on the server of
// SVCKIT_TEST_POSTGRES and returns its URL; it is dropped at the end of
// the test. "" when the test was skipped.
func postgresURL(t testing.TB) string {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		testenv.Skip(t, "%s is not set: no PostgreSQL server to test on (.ci/run starts one)", PostgresEnv)
		return ""
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "collector_test_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE DATABASE " + name)
	require.NoError(t, err)
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err == nil {
			a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	return u.String()
}

// Credentials of the test users.
// alice and bob are limited to their apps; they share the admin's
// password (one bcrypt hash for the three keeps the tests fast).
const (
	adminUser = "admin"
	adminPass = "s3cr3t-admin-pw"
	aliceUser = "alice"
	bobUser   = "bob"
)

// env is a collector on a real loopback listener.
type env struct {
	t    testing.TB
	db   *server.DB
	coll *server.Server
	srv  *httptest.Server
	log  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB, open func(testing.TB) *server.DB, opts server.Options) *env {
	db := open(t)
	h, err := bcrypt.GenerateFromPassword([]byte(adminPass), bcrypt.MinCost)
	require.NoError(t, err)
	users, err := server.ParseUsers("users", []byte("# test users\n"+adminUser+":"+string(h)+"\n"+
		aliceUser+":"+string(h)+":apps=RIVER_SPD\n"+bobUser+":"+string(h)+":apps=OTHER,THIRD\n"))
	require.NoError(t, err)
	buf := &syncBuffer{}
	opts.Users = users
	opts.Logger = slog.New(slog.NewTextHandler(buf, nil))
	s := server.New(db, opts)
	hs := s.HTTPServer("127.0.0.1:0")
	srv := httptest.NewUnstartedServer(hs.Handler)
	srv.Config = hs
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, coll: s, srv: srv, log: buf}
}

func (e *env) api() string { return e.srv.URL + server.APIPrefix }

// client returns the real svc/store.Collector as user:password.
func (e *env) client(user, password string) *store.Collector {
	c, err := store.NewCollector(e.api())
	require.NoError(e.t, err)
	c.User, c.Password = user, password
	return c
}

// call does one JSON request and decodes the answer into out (if any).
func (e *env) call(method, path, user, password string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.api()+path, rd)
	require.NoError(e.t, err)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	if out != nil && resp.StatusCode/100 == 2 {
		require.NoError(e.t, json.Unmarshal(raw, out), string(raw))
	}
	return resp.StatusCode
}

// register registers a node as the admin and returns its uuid.
func (e *env) register(node string) string {
	e.t.Helper()
	var ans struct {
		Data struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	require.Equal(e.t, http.StatusOK, e.call("POST", "/register", adminUser, adminPass, map[string]string{"nodename": node, "app": "RIVER_SPD"}, &ans))
	require.Len(e.t, ans.Data.UUID, 36)
	return ans.Data.UUID
}

func seedExport(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "compliance", "testdata", name))
	require.NoError(t, err)
	return b
}

func forEachBackend(t *testing.T, f func(t *testing.T, open func(testing.TB) *server.DB)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b.open) })
	}
}
