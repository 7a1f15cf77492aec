package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/store"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// The command end to end: a users file made by "collector passwd", the
// server on TLS and SQLite in a data directory, a node pushing and
// pulling with svc/store.Collector, a clean stop.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	var line bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"passwd", "admin"}, strings.NewReader("Adm1n-pw\n"), &line, &bytes.Buffer{}))
	require.True(t, strings.HasPrefix(line.String(), "admin:$2"))
	require.NotContains(t, line.String(), "Adm1n-pw")
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, line.Bytes(), 0o600))
	certFile, keyFile, pool := selfSigned(t, dir)

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-data", filepath.Join(dir, "data"), "-users", users, "-tls-cert", certFile, "-tls-key", keyFile,
			"-form", "spd=" + filepath.Join("..", "..", "formtemplate", "testdata", "seed-form.yaml")}, nil, &bytes.Buffer{}, &logs)
	}()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c, err := store.NewCollector("https://admin:Adm1n-pw@" + addr + "/init/rest/api")
	require.NoError(t, err)
	c.Client = hc
	require.Eventually(t, func() bool {
		_, err := c.Get(ctx, "spdsvc01")
		return err != nil && strings.Contains(err.Error(), store.ErrNotFound.Error())
	}, 10*time.Second, 50*time.Millisecond)
	cfg := []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = spd01\n")
	_, err = c.Put(ctx, "spdsvc01", cfg, store.Absent)
	require.NoError(t, err)
	got, err := c.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, cfg, got.Data)

	// The pages over TLS: the cookies are Secure, __Host- prefixed,
	// HttpOnly; the seed's YAML form is served.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	bc := &http.Client{Jar: jar, Transport: hc.Transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := get(t, bc, "https://"+addr+"/login")
	tok := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, tok)
	resp, err := bc.PostForm("https://"+addr+"/login", url.Values{"csrf_token": {tok[1]}, "username": {"admin"}, "password": {"Adm1n-pw"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var session string
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "__Host-collector_session=") {
			session = c
		}
	}
	require.Contains(t, session, "Secure")
	require.Contains(t, session, "HttpOnly")
	require.Contains(t, session, "Path=/")
	require.Contains(t, get(t, bc, "https://"+addr+"/services"), `<a href="/services/spdsvc01">spdsvc01</a>`)
	require.Contains(t, get(t, bc, "https://"+addr+"/forms/spd"), "RIVER SPD service configuration generator")
	cancel()
	require.NoError(t, <-done)
	require.FileExists(t, filepath.Join(dir, "data", "collector.db"))
	require.NotContains(t, logs.String(), "Adm1n-pw")
	require.Contains(t, logs.String(), "collector listening")
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}

// A users file with a plain password stops the collector before it
// listens, naming the file and the line.
func TestPlainPasswordRefused(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	require.NoError(t, os.WriteFile(users, []byte("# people\nadmin:hunter2-plain\n"), 0o600))
	var logs bytes.Buffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-users", users}, nil, &bytes.Buffer{}, &logs)
	require.ErrorContains(t, err, users+":2: user \"admin\": the password field is not a bcrypt hash")
	require.NotContains(t, err.Error(), "hunter2-plain")
	require.NotContains(t, logs.String(), "collector listening")
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{args: []string{"-tls-cert", "x"}, err: "-tls-cert and -tls-key go together"},
		{args: []string{"extra"}, err: `unexpected argument "extra"`},
		{args: []string{"-db", "mysql://u:pw@x/y", "-data", t.TempDir()}, err: "expected postgres://"},
		{args: []string{"-users", "/nonexistent/users"}, err: "users file"},
		{args: []string{"passwd"}, err: "usage: collector passwd NAME"},
		{args: []string{"-form", "spd"}, err: `"spd": expected NAME=FILE.yaml`},
		{args: []string{"-form", "spd=/nonexistent.yaml"}, err: "-form spd:"},
		{args: []string{"-action-lease", "0s"}, err: "-action-lease 0s: expected at least 1s"},
	} {
		err := run(context.Background(), tc.args, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		require.ErrorContains(t, err, tc.err)
		require.NotContains(t, err.Error(), ":pw@")
	}
}
