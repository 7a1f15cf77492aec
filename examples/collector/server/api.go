package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/svc/store"
)

// APIPrefix is where the REST API lives, as on the OpenSVC collector.
const APIPrefix = "/init/rest/api"

// Request body limits: a service config (the 110-pod spd config is
// 240 KB), an export document, the rest.
const (
	MaxConfigBody = 8 << 20
	MaxExportBody = compliance.MaxExportSize
	MaxSmallBody  = 4 << 20
	MaxRevisions  = 1000
)

// Options configure a Server.
type Options struct {
	// Users authenticate people (nil: only nodes can use the API).
	Users *Users
	// Logger gets one line per request: method, path, principal, status;
	// never a header, a query value or a body. Default: discard.
	Logger *slog.Logger
	// AnonymousRegister lets an unauthenticated client register a
	// nodename that is not registered yet (the reference's anonymous
	// register); re-registering a node always needs a user.
	AnonymousRegister bool
	// NotifyPort is the port the collector connects to on a node when an
	// action is queued for it, unless the node registered a notify_addr
	// (0: DefaultNotifyPort, 1214; negative: never notify).
	NotifyPort int
	// ActionLease is how long a dequeued action stays the node's without
	// a report or a renewal (0: DefaultActionLease); MaxAttempts bounds
	// its claims (0: DefaultMaxAttempts).
	ActionLease time.Duration
	MaxAttempts int
	// SessionTTL is how long a login lasts (0: DefaultSessionTTL).
	SessionTTL time.Duration
	// Now is the clock of leases and sessions (nil: time.Now); tests
	// move it instead of waiting.
	Now func() time.Time
	// Forms are the forms served under /forms/<name> (nil: the seed's
	// spd form, SpdForm).
	Forms []NamedForm
}

// Server is the collector's HTTP API on a DB.
type Server struct {
	db    *DB
	users *Users
	log   *slog.Logger
	opts  Options
	mux   *http.ServeMux
	// cross refuses cross-origin POSTs to the pages.
	cross    *http.CrossOriginProtection
	forms    []formRoute
	throttle loginThrottle

	notifying sync.WaitGroup
}

// New returns the API server on db.
func New(db *DB, opts Options) *Server {
	s := &Server{db: db, users: opts.Users, log: opts.Logger, opts: opts, mux: http.NewServeMux(), cross: http.NewCrossOriginProtection()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := APIPrefix
	s.mux.HandleFunc("GET "+p+"/services/{svc}", s.auth(s.getService))
	s.mux.HandleFunc("POST "+p+"/services", s.auth(s.postService))
	s.mux.HandleFunc("GET "+p+"/services/{svc}/revisions", s.auth(s.getRevisions))
	s.mux.HandleFunc("GET "+p+"/services/{svc}/revisions/{rev}", s.auth(s.getRevision))
	s.mux.HandleFunc("POST "+p+"/register", s.optionalAuth(s.register))
	s.mux.HandleFunc("POST "+p+"/nodes/{node}/asset", s.auth(s.postAsset))
	s.mux.HandleFunc("POST "+p+"/nodes/{node}/packages", s.auth(s.postPackages))
	s.mux.HandleFunc("GET "+p+"/nodes/{node}/facts", s.auth(s.getFacts))
	s.mux.HandleFunc("POST "+p+"/compliance/import", s.auth(s.importExport))
	s.mux.HandleFunc("GET "+p+"/compliance/export", s.auth(s.getExport))
	s.mux.HandleFunc("POST "+p+"/compliance/nodes/{node}/modulesets", s.auth(s.attachNode))
	s.mux.HandleFunc("POST "+p+"/compliance/services/{svc}/modulesets", s.auth(s.attachService))
	s.mux.HandleFunc("GET "+p+"/compliance/nodes/{node}/rules", s.auth(s.nodeRules))
	s.mux.HandleFunc("GET "+p+"/compliance/services/{svc}/rules", s.auth(s.serviceRules))
	s.mux.HandleFunc("GET "+p+"/filtersets/{fset}/nodes", s.auth(s.filtersetNodes))
	s.mux.HandleFunc("POST "+p+"/actions", s.auth(s.postAction))
	s.mux.HandleFunc("GET "+p+"/actions", s.auth(s.getActions))
	s.mux.HandleFunc("GET "+p+"/actions/{id}", s.auth(s.getAction))
	s.mux.HandleFunc("POST "+p+"/actions/dequeue", s.auth(s.dequeue))
	s.mux.HandleFunc("POST "+p+"/actions/{id}/result", s.auth(s.report))
	s.mux.HandleFunc("POST "+p+"/actions/{id}/lease", s.auth(s.renew))
	s.mux.HandleFunc("POST "+p+"/compliance/nodes/{node}/status", s.auth(s.postCompStatus))
	s.mountPages()
	return s
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ServeHTTP logs each request without its secrets.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	// The path carries names only; the query and the Authorization
	// header are never logged.
	s.log.Info("request", "method", r.Method, "path", r.URL.Path, "principal", rec.principal, "status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
}

type statusRecorder struct {
	http.ResponseWriter
	status    int
	principal string
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

type ctxKey struct{}

func principalOf(r *http.Request) *Principal {
	p, _ := r.Context().Value(ctxKey{}).(*Principal)
	return p
}

func (s *Server) principal(w http.ResponseWriter, r *http.Request) (*Principal, bool) {
	// A browser keeps basic credentials it was given and sends them with
	// a form another site makes it post (a text/plain body can be JSON):
	// the API refuses what a browser says comes from another origin.
	// Programs send neither Sec-Fetch-Site nor Origin and pass.
	if err := s.cross.Check(r); err != nil {
		s.fail(w, http.StatusForbidden, "cross-origin request refused")
		return nil, false
	}
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, true
	}
	p, err := s.authenticate(r.Context(), name, pw)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "authentication: %v", err)
		return nil, false
	}
	if p == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="collector"`)
		s.fail(w, http.StatusUnauthorized, "authentication failed")
		return nil, false
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.principal = p.Name
	}
	return p, true
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.principal(w, r)
		if !ok {
			return
		}
		if p == nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="collector"`)
			s.fail(w, http.StatusUnauthorized, "authentication required")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	}
}

func (s *Server) optionalAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.principal(w, r)
		if !ok {
			return
		}
		if p != nil {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, p))
		}
		h(w, r)
	}
}

// answer writes the collector's JSON envelope.
func (s *Server) answer(w http.ResponseWriter, code int, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, code int, format string, args ...any) {
	s.answer(w, code, map[string]any{"error": fmt.Sprintf(format, args...)})
}

// failErr maps store errors to statuses; other errors are logged and
// answered as internal errors without their text (it may hold SQL).
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce):
		s.answer(w, http.StatusPreconditionFailed, map[string]any{"error": ce.Error(), "expected": ce.Expected, "actual": ce.Actual})
	case errors.Is(err, ErrNotFound):
		s.fail(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrBadInput):
		s.fail(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrExists):
		s.fail(w, http.StatusConflict, "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.fail(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		s.fail(w, http.StatusInternalServerError, "internal error (see the collector's log)")
	}
}

// forbidden answers 403 when a node asks for what is not its own.
func (s *Server) forbidden(w http.ResponseWriter, what string) {
	s.fail(w, http.StatusForbidden, "forbidden: %s", what)
}

// decode reads a JSON body of at most limit bytes into v.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(w, http.StatusRequestEntityTooLarge, "request body larger than %d bytes", limit)
			return false
		}
		s.fail(w, http.StatusBadRequest, "request body: expected a JSON object: %v", err)
		return false
	}
	return true
}

// canSeeService tells whether p may read or write svc (see scope.go).
func (s *Server) canSeeService(r *http.Request, p *Principal, svc string) (bool, error) {
	return s.seesService(r.Context(), p, svc)
}

var serviceProps = []string{"svc_name", "svc_envfile", "svc_app", "updated", "svc_revision", "svc_checksum", "author"}

func (s *Server) getService(w http.ResponseWriter, r *http.Request) {
	svc := r.PathValue("svc")
	if err := store.ValidServiceName(svc); err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	props := serviceProps
	if v := r.URL.Query().Get("props"); v != "" {
		props = strings.Split(v, ",")
		for _, p := range props {
			if !slices.Contains(serviceProps, p) {
				s.fail(w, http.StatusBadRequest, "props: unknown property %q, expected some of %s", p, strings.Join(serviceProps, ","))
				return
			}
		}
	}
	p := principalOf(r)
	ok, err := s.canSeeService(r, p, svc)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if !ok {
		// The same answer as a missing service: a node cannot probe
		// which services exist.
		s.fail(w, http.StatusNotFound, "service %s: %v", svc, ErrNotFound)
		return
	}
	cur, err := s.db.GetService(r.Context(), svc)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	all := map[string]any{"svc_name": cur.Name, "svc_envfile": cur.EnvFile, "svc_app": cur.App, "updated": cur.Updated,
		"svc_revision": cur.Rev, "svc_checksum": cur.Checksum, "author": cur.Author}
	row := map[string]any{}
	for _, p := range props {
		row[p] = all[p]
	}
	w.Header().Set("ETag", strconv.Quote(cur.Checksum))
	s.answer(w, http.StatusOK, map[string]any{"data": []any{row}, "meta": map[string]any{"count": 1}})
}

// expectation reads the conditional write headers: If-Match "<checksum>"
// (the revision the change is based on), If-None-Match * (create only);
// neither is an unconditional write, as the reference collector does.
func expectation(r *http.Request) (string, error) {
	im, inm := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	switch {
	case im != "" && inm != "":
		return "", errors.New("If-Match and If-None-Match together")
	case inm == "*":
		return store.Absent, nil
	case inm != "":
		return "", errors.New(`If-None-Match: expected "*"`)
	case im == "*", im == "":
		return store.AnyRevision, nil
	}
	v, err := strconv.Unquote(im)
	if err != nil {
		v = im
	}
	if len(v) != 64 || strings.Trim(v, "0123456789abcdef") != "" {
		return "", errors.New(`If-Match: expected the "<sha256>" checksum the change is based on`)
	}
	return v, nil
}

func (s *Server) postService(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name    string `json:"svc_name"`
		EnvFile string `json:"svc_envfile"`
		App     string `json:"svc_app"`
	}
	if !s.decode(w, r, MaxConfigBody, &body) {
		return
	}
	if err := store.ValidServiceName(body.Name); err != nil {
		s.fail(w, http.StatusBadRequest, "svc_name: %v", err)
		return
	}
	if body.EnvFile == "" {
		s.fail(w, http.StatusBadRequest, "svc_envfile: expected the service config, got nothing")
		return
	}
	expect, err := expectation(r)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	p := principalOf(r)
	if !p.Node && !p.Admin() {
		// A limited user writes the services of its apps, and cannot
		// move one to another app.
		app := body.App
		if app == "" {
			app = defaultKey([]byte(body.EnvFile), "app")
		}
		cur, ok, err := s.db.ServiceApp(r.Context(), body.Name)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if !p.SeesApp(app) || (ok && !p.SeesApp(cur)) {
			s.outOfApps(w, p, "service "+body.Name)
			return
		}
	}
	if p.Node {
		// A node writes a service it is a node of, and cannot give the
		// service away to nodes that exclude it.
		ok, err := s.canSeeService(r, p, body.Name)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if !ok {
			if _, gerr := s.db.GetService(r.Context(), body.Name); !errors.Is(gerr, ErrNotFound) {
				s.forbidden(w, "node "+p.Name+" is not a node of service "+body.Name)
				return
			}
		}
		if nodes, err := ServiceNodes([]byte(body.EnvFile)); err == nil && !slices.Contains(nodes, p.Name) {
			s.forbidden(w, "node "+p.Name+" would not be a node of service "+body.Name+" in the config it pushes (a user makes that change)")
			return
		}
	}
	cur, err := s.db.PutService(r.Context(), body.Name, body.App, body.EnvFile, expect, p.Name)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(cur.Checksum))
	s.answer(w, http.StatusOK, map[string]any{"data": []any{map[string]any{
		"svc_name": cur.Name, "svc_app": cur.App, "updated": cur.Updated, "svc_revision": cur.Rev, "svc_checksum": cur.Checksum, "author": cur.Author,
	}}, "info": fmt.Sprintf("service %s revision %d stored", cur.Name, cur.Rev)})
}

func (s *Server) serviceAllowed(w http.ResponseWriter, r *http.Request) (string, bool) {
	svc := r.PathValue("svc")
	if err := store.ValidServiceName(svc); err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return "", false
	}
	ok, err := s.canSeeService(r, principalOf(r), svc)
	if err != nil {
		s.failErr(w, r, err)
		return "", false
	}
	if !ok {
		s.fail(w, http.StatusNotFound, "service %s: %v", svc, ErrNotFound)
		return "", false
	}
	return svc, true
}

func (s *Server) getRevisions(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.serviceAllowed(w, r)
	if !ok {
		return
	}
	revs, err := s.db.Revisions(r.Context(), svc, MaxRevisions)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if revs == nil {
		revs = []Revision{}
	}
	s.answer(w, http.StatusOK, map[string]any{"data": revs, "meta": map[string]any{"count": len(revs)}})
}

func (s *Server) getRevision(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.serviceAllowed(w, r)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(r.PathValue("rev"), 10, 64)
	if err != nil || n < 1 {
		s.fail(w, http.StatusBadRequest, "revision %q: expected a number from 1", r.PathValue("rev"))
		return
	}
	rev, err := s.db.RevisionOf(r.Context(), svc, n)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": []any{rev}})
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Nodename   string `json:"nodename"`
		App        string `json:"app"`
		NotifyAddr string `json:"notify_addr"`
	}
	if !s.decode(w, r, MaxSmallBody, &body) {
		return
	}
	if err := nodename.Check(body.Nodename); err != nil {
		s.fail(w, http.StatusBadRequest, "nodename: %v", err)
		return
	}
	if s.users.Has(body.Nodename) {
		// Basic auth tries users first: such a node could never log in.
		s.fail(w, http.StatusConflict, "nodename %q is a user's name: rename the user or the node", body.Nodename)
		return
	}
	if len(body.App) > 200 {
		s.fail(w, http.StatusBadRequest, "app: longer than 200 characters")
		return
	}
	if body.NotifyAddr != "" {
		if err := checkNotifyAddr(body.NotifyAddr); err != nil {
			s.fail(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	p := principalOf(r)
	by := "anonymous"
	switch {
	case p != nil && p.Node:
		s.forbidden(w, "a node cannot register nodes")
		return
	case p != nil && !p.Admin():
		// A limited user registers nodes of its apps, and cannot take
		// over a node of another app by registering its name again.
		cur, ok, err := s.db.NodeApp(r.Context(), body.Nodename)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if !p.SeesApp(body.App) || (ok && !p.SeesApp(cur)) {
			s.outOfApps(w, p, "node "+body.Nodename)
			return
		}
		by = p.Name
	case p != nil:
		by = p.Name
	case !s.opts.AnonymousRegister:
		w.Header().Set("WWW-Authenticate", `Basic realm="collector"`)
		s.fail(w, http.StatusUnauthorized, "authentication required: register as a user (anonymous register is off)")
		return
	}
	if p == nil && body.NotifyAddr != "" {
		// The collector connects where notify_addr says: only a user
		// chooses an address other than the node's own name.
		s.forbidden(w, "notify_addr: an anonymous register cannot set it (register as a user)")
		return
	}
	// A user re-registers a node (a new uuid, the old one stops
	// working); an anonymous client only registers new names, so that
	// nobody takes over a node by registering its name again.
	uuid, err := s.db.Register(r.Context(), body.Nodename, body.App, by, p != nil)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.db.SetNotifyAddr(r.Context(), body.Nodename, body.NotifyAddr); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": map[string]any{"uuid": uuid}, "info": "registered " + body.Nodename})
}

// selfNode resolves the {node} of a path for p: "self" or its own name
// for a node, any registered node for a user.
func (s *Server) selfNode(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := principalOf(r)
	n := r.PathValue("node")
	if n == "self" && p.Node {
		n = p.Name
	}
	if err := nodename.Check(n); err != nil {
		s.fail(w, http.StatusBadRequest, "node: %v", err)
		return "", false
	}
	if p.Node && n != p.Name {
		s.forbidden(w, "node "+p.Name+" cannot act for node "+n)
		return "", false
	}
	ok, err := s.seesNode(r.Context(), p, n)
	if err != nil {
		s.failErr(w, r, err)
		return "", false
	}
	if !ok {
		s.fail(w, http.StatusNotFound, "node %s: %v", n, ErrNotFound)
		return "", false
	}
	return n, true
}

// MaxAssetFields and MaxPackages bound an inventory push.
const (
	MaxAssetFields = 1000
	MaxPackages    = 100000
)

func (s *Server) postAsset(w http.ResponseWriter, r *http.Request) {
	n, ok := s.selfNode(w, r)
	if !ok {
		return
	}
	var body compliance.Facts
	if !s.decode(w, r, MaxSmallBody, &body) {
		return
	}
	if len(body.Node) > MaxAssetFields {
		s.fail(w, http.StatusBadRequest, "node: more than %d fields", MaxAssetFields)
		return
	}
	if err := s.db.PutAsset(r.Context(), n, body.Node); err != nil {
		s.failErr(w, r, err)
		return
	}
	if body.Packages != nil {
		if !s.putPackages(w, r, n, body.Packages) {
			return
		}
	}
	s.answer(w, http.StatusOK, map[string]any{"info": "asset of " + n + " stored"})
}

func (s *Server) putPackages(w http.ResponseWriter, r *http.Request, n string, pkgs []checker.Package) bool {
	if len(pkgs) > MaxPackages {
		s.fail(w, http.StatusBadRequest, "packages: more than %d", MaxPackages)
		return false
	}
	for i, p := range pkgs {
		if p.Name == "" {
			s.fail(w, http.StatusBadRequest, "packages[%d]: pkg_name is empty", i)
			return false
		}
	}
	if err := s.db.PutPackages(r.Context(), n, pkgs); err != nil {
		s.failErr(w, r, err)
		return false
	}
	return true
}

func (s *Server) postPackages(w http.ResponseWriter, r *http.Request) {
	n, ok := s.selfNode(w, r)
	if !ok {
		return
	}
	var body struct {
		Packages []checker.Package `json:"packages"`
	}
	if !s.decode(w, r, MaxExportBody, &body) {
		return
	}
	if !s.putPackages(w, r, n, body.Packages) {
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"info": fmt.Sprintf("%d packages of %s stored", len(body.Packages), n)})
}

func (s *Server) getFacts(w http.ResponseWriter, r *http.Request) {
	n, ok := s.selfNode(w, r)
	if !ok {
		return
	}
	f, err := s.db.Facts(r.Context(), n)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": f})
}

func (s *Server) userOnly(w http.ResponseWriter, r *http.Request) bool {
	if p := principalOf(r); p.Node {
		s.forbidden(w, "a node cannot "+r.Method+" "+r.URL.Path)
		return false
	}
	return true
}

func (s *Server) importExport(w http.ResponseWriter, r *http.Request) {
	if !s.adminOnly(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxExportBody)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, http.StatusRequestEntityTooLarge, "export: %v", err)
		return
	}
	e, err := compliance.ParseExport("export", data)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := s.db.ImportExport(r.Context(), e, principalOf(r).Name); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"info": fmt.Sprintf("imported %d modulesets, %d rulesets, %d filtersets", len(e.Modulesets), len(e.Rulesets), len(e.Filtersets))})
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	if !s.adminOnly(w, r) {
		return
	}
	e, err := s.db.Export(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.writeExport(w, e)
}

// writeExport answers the bare export document: what nodemgr compliance
// --rules reads.
func (s *Server) writeExport(w http.ResponseWriter, e *compliance.Export) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(e)
}

func (s *Server) attach(w http.ResponseWriter, r *http.Request, node, svc string) {
	if !s.adminOnly(w, r) {
		return
	}
	var body struct {
		Modulesets []string `json:"modulesets"`
	}
	if !s.decode(w, r, MaxSmallBody, &body) {
		return
	}
	if len(body.Modulesets) == 0 {
		s.fail(w, http.StatusBadRequest, "modulesets: expected at least one name")
		return
	}
	if err := s.db.Attach(r.Context(), node, svc, body.Modulesets); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"info": "attached " + strings.Join(body.Modulesets, ",")})
}

func (s *Server) attachNode(w http.ResponseWriter, r *http.Request) {
	n := r.PathValue("node")
	if err := nodename.Check(n); err != nil {
		s.fail(w, http.StatusBadRequest, "node: %v", err)
		return
	}
	s.attach(w, r, n, "")
}

func (s *Server) attachService(w http.ResponseWriter, r *http.Request) {
	svc := r.PathValue("svc")
	if err := store.ValidServiceName(svc); err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.attach(w, r, "", svc)
}

func (s *Server) nodeRules(w http.ResponseWriter, r *http.Request) {
	n, ok := s.selfNode(w, r)
	if !ok {
		return
	}
	e, err := s.db.Rules(r.Context(), n, "")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.writeExport(w, e)
}

// serviceRules answers the rules of a service's modulesets for a node of
// it: the asking node, or for a user the node given by ?node=.
func (s *Server) serviceRules(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.serviceAllowed(w, r)
	if !ok {
		return
	}
	p := principalOf(r)
	n := p.Name
	if !p.Node {
		n = r.URL.Query().Get("node")
		if err := nodename.Check(n); err != nil {
			s.fail(w, http.StatusBadRequest, "node: the rules are evaluated on a node's inventory: %v", err)
			return
		}
		ok, err := s.seesNode(r.Context(), p, n)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if !ok {
			s.fail(w, http.StatusNotFound, "node %s: %v", n, ErrNotFound)
			return
		}
	}
	e, err := s.db.Rules(r.Context(), n, svc)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.writeExport(w, e)
}

func (s *Server) filtersetNodes(w http.ResponseWriter, r *http.Request) {
	if !s.adminOnly(w, r) {
		return
	}
	nodes, err := s.db.FiltersetNodes(r.Context(), r.PathValue("fset"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.answer(w, http.StatusOK, map[string]any{"data": nodes, "meta": map[string]any{"count": len(nodes)}})
}

// HTTPServer returns an http.Server for the API with the timeouts and
// header limit a server on a network needs.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
