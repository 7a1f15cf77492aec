// Command collector is svckit's collector server: the REST API the node
// agents and the seed's form talk to (/init/rest/api, as the OpenSVC
// collector), on SQLite in a data directory or on PostgreSQL.
//
//	collector [-addr 127.0.0.1:8080] [-db URL] [-data DIR] [-tls-cert F -tls-key K] [-users FILE]
//	          [-form NAME=FORM.yaml]... [-anonymous-register] [-notify-port 1214] [-action-lease 30m]
//	collector passwd NAME < password     prints a users file line
//
// The users file holds one "name:bcrypt-hash[:admin|:apps=A,B]" per
// line: a user with apps=A,B sees the services and nodes of those apps
// only. Users log in to the pages (/login, then /services, /nodes,
// /forms) and use the API with HTTP basic auth; nodes authenticate with
// their name and the uuid /register gave them.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/formtemplate"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "collector:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	addr, db, data, cert, key, users string
	anonymousRegister                bool
	notifyPort                       int
	lease                            time.Duration
	forms                            formFlags
}

// formFlags are the -form NAME=FILE flags: forms in the collector's
// YAML format (the seed's), served at /forms/NAME.
type formFlags []string

func (f *formFlags) String() string { return strings.Join(*f, ",") }

func (f *formFlags) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || name == "" || file == "" || strings.ContainsAny(name, "/{} ") {
		return fmt.Errorf("%q: expected NAME=FILE.yaml", v)
	}
	*f = append(*f, v)
	return nil
}

// load reads the forms; none is the seed's spd form.
func (f formFlags) load() ([]server.NamedForm, error) {
	var out []server.NamedForm
	for _, v := range f {
		name, file, _ := strings.Cut(v, "=")
		form, err := formtemplate.LoadYAMLFile(file)
		if err != nil {
			return nil, fmt.Errorf("-form %s: %w", name, err)
		}
		out = append(out, server.NamedForm{Name: name, Form: form})
	}
	return out, nil
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("collector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.db, "db", "", "database: postgres://user@host/db, sqlite:PATH; default SQLite in -data")
	fs.StringVar(&c.data, "data", "collector-data", "data directory (the SQLite database)")
	fs.StringVar(&c.cert, "tls-cert", "", "TLS certificate file (with -tls-key)")
	fs.StringVar(&c.key, "tls-key", "", "TLS key file (with -tls-cert)")
	fs.StringVar(&c.users, "users", "", "users file: name:bcrypt-hash lines (collector passwd NAME makes one)")
	fs.BoolVar(&c.anonymousRegister, "anonymous-register", false, "let unauthenticated nodes register a new nodename")
	fs.IntVar(&c.notifyPort, "notify-port", server.DefaultNotifyPort, "port of the nodes told that actions are queued (a node's registered notify_addr wins; -1: never)")
	fs.DurationVar(&c.lease, "action-lease", server.DefaultActionLease, "how long a dequeued action stays the node's without a report; then it is queued again (at most 3 claims)")
	fs.Var(&c.forms, "form", "NAME=FILE.yaml: serve a form of the collector's YAML format at /forms/NAME (repeatable; default: the seed's spd form)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (c.cert == "") != (c.key == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if c.lease < time.Second {
		return nil, fmt.Errorf("-action-lease %v: expected at least 1s", c.lease)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "passwd" {
		return passwd(args[1:], stdin, stdout)
	}
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var users *server.Users
	if c.users != "" {
		if users, err = server.LoadUsers(c.users); err != nil {
			return err
		}
	}
	forms, err := c.forms.load()
	if err != nil {
		return err
	}
	db, err := server.OpenDB(ctx, c.db, c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	srv := server.New(db, server.Options{Users: users, Logger: log, AnonymousRegister: c.anonymousRegister, NotifyPort: c.notifyPort,
		ActionLease: c.lease, Forms: forms})
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		srv.SweepEvery(sweepCtx, max(c.lease/4, time.Second))
	}()
	defer func() { stopSweep(); <-swept }()
	hs := srv.HTTPServer(c.addr)
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if c.cert != "" {
		scheme = "https"
	}
	log.Info("collector listening", "url", scheme+"://"+ln.Addr().String()+server.APIPrefix, "db", db.String(), "schema", server.SchemaVersion())
	errc := make(chan error, 1)
	go func() {
		if c.cert != "" {
			errc <- hs.ServeTLS(ln, c.cert, c.key)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	srv.WaitNotify()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// passwd prints "NAME:bcrypt-hash" for the password read on stdin (first
// line), so that no password goes through the command line.
func passwd(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" || strings.ContainsAny(args[0], ":\n") {
		return errors.New("usage: collector passwd NAME < password")
	}
	sc := bufio.NewScanner(io.LimitReader(stdin, 4096))
	if !sc.Scan() || sc.Text() == "" {
		return errors.New("passwd: expected the password on stdin")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(sc.Text()), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s:%s\n", args[0], h)
	return err
}
