package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/formtemplate/web"
	"github.com/svckit/svckit/internal/nodename"
	"github.com/svckit/svckit/internal/shellwords"
	"github.com/svckit/svckit/resource/secret"
	"github.com/svckit/svckit/svc/store"
)

// NamedForm is a form the collector serves at /forms/<Name>.
type NamedForm struct {
	Name string
	Form *formtemplate.Form
}

// SpdForm is the seed's form (formtemplate/spd.Form, the Go form of the
// seed's YAML) with the spd generator.
func SpdForm() NamedForm { return NamedForm{Name: "spd", Form: spd.Form()} }

// formRoute is a mounted form.
type formRoute struct {
	Name, Label string
	h           http.Handler
}

// mountPages adds the pages for people: the login, the services with
// their revisions and diffs, the nodes with their inventory and
// compliance status, the forms. Every page but the login needs a
// session; every POST the session's CSRF token and a same-origin
// request.
func (s *Server) mountPages() {
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.page(s.logout))
	s.mux.HandleFunc("GET /{$}", s.page(func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/services", http.StatusSeeOther)
	}))
	s.mux.HandleFunc("GET /services", s.page(s.servicesPage))
	s.mux.HandleFunc("GET /services/{svc}", s.page(s.servicePage))
	s.mux.HandleFunc("GET /services/{svc}/diff", s.page(s.diffPage))
	s.mux.HandleFunc("GET /nodes", s.page(s.nodesPage))
	s.mux.HandleFunc("GET /nodes/{node}", s.page(s.nodePage))
	s.mux.HandleFunc("POST /nodes/{node}/actions", s.page(s.enqueuePage))
	s.mux.HandleFunc("GET /forms", s.page(s.formsPage))
	forms := s.opts.Forms
	if forms == nil {
		forms = []NamedForm{SpdForm()}
	}
	seen := map[string]bool{}
	for _, f := range forms {
		if !formNameRE.MatchString(f.Name) || seen[f.Name] {
			s.log.Error("form not served: expected a unique name of letters, digits, '.', '_' and '-'", "form", f.Name)
			continue
		}
		seen[f.Name] = true
		h, err := s.formHandler(f)
		if err != nil {
			// A broken form is the operator's mistake: the other pages
			// keep working and this one says why it does not.
			s.log.Error("form not served", "form", f.Name, "error", err)
			msg := err.Error()
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.errorPage(w, r, nil, http.StatusInternalServerError, "form "+f.Name+" is not served: "+msg)
			})
		}
		label := f.Name
		if f.Form != nil {
			label = f.Form.Label
		}
		s.forms = append(s.forms, formRoute{Name: f.Name, Label: label, h: h})
		route := s.forms[len(s.forms)-1]
		s.mux.HandleFunc("/forms/"+f.Name, s.page(func(w http.ResponseWriter, r *http.Request, _ *session) {
			route.h.ServeHTTP(w, r)
		}))
	}
}

type sessionKey struct{}

// page wraps a page handler: a session or the login page; on POST the
// origin and CSRF checks.
func (s *Server) page(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		sess, err := s.session(r)
		if err != nil {
			s.log.Error("session lookup failed", "error", err)
			s.errorPage(w, r, nil, http.StatusInternalServerError, "internal error (see the collector's log)")
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, nil, http.StatusUnauthorized, "log in first: your session is missing or has expired")
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.principal = sess.p.Name
		}
		if r.Method == http.MethodPost {
			if code, msg := s.checkPost(w, r, sess.csrf); code != 0 {
				s.errorPage(w, r, sess, code, msg)
				return
			}
		}
		ctx := context.WithValue(context.WithValue(r.Context(), ctxKey{}, sess.p), sessionKey{}, sess)
		h(w, r.WithContext(ctx), sess)
	}
}

// formNameRE is what a form's name may be: one path segment.
var formNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// formHandler serves a form with the collector as its store.
func (s *Server) formHandler(f NamedForm) (http.Handler, error) {
	if f.Form == nil {
		return nil, errors.New("no form")
	}
	for _, id := range []string{spd.InputSvcname, spd.InputApp} {
		if _, ok := f.Form.Input(id); !ok {
			return nil, fmt.Errorf("a collector form stores a service config: it needs the inputs %s and %s (the seed's ids), %s is missing", spd.InputSvcname, spd.InputApp, id)
		}
	}
	form := *f.Form
	form.Outputs = append([]formtemplate.Output(nil), f.Form.Outputs...)
	gens := formtemplate.NewGenerators()
	if err := spd.Register(gens); err != nil {
		return nil, err
	}
	for i, o := range form.Outputs {
		// The collector runs Go generators, not the reference's
		// JavaScript: an output that only has the seed's Mangle, posting
		// to /services, is given its port, the spd generator.
		if o.Template == "" && o.Generator == "" && o.Mangle != "" {
			form.Outputs[i].Generator = spd.GeneratorName
		}
	}
	return web.New(&form, web.Options{
		Generators: gens,
		Check: func(ctx context.Context, v formtemplate.Values) error {
			if err := s.checkFormScope(ctx, v); err != nil {
				return err
			}
			if _, ok := v[spd.InputNPods]; ok {
				_, err := spd.FromValues(v)
				return err
			}
			return nil
		},
		Store:        web.StoreFunc(s.storeSubmission),
		MaxBodyBytes: MaxPageForm,
		CrossOrigin:  s.cross,
		Logger:       s.log,
		Nav:          []web.Link{{Label: "Services", Href: "/services"}, {Label: "Nodes", Href: "/nodes"}, {Label: "Forms", Href: "/forms"}},
		HiddenFields: func(r *http.Request) map[string]string {
			if sess, ok := r.Context().Value(sessionKey{}).(*session); ok {
				return map[string]string{csrfField: sess.csrf}
			}
			return nil
		},
	})
}

// checkFormScope refuses, beside the inputs, a service of an app the
// user does not have, or one that exists under such an app.
func (s *Server) checkFormScope(ctx context.Context, v formtemplate.Values) error {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	if p == nil || p.Admin() {
		return nil
	}
	var problems []formtemplate.Problem
	if app := v.String(spd.InputApp); !p.SeesApp(app) {
		problems = append(problems, formtemplate.Problem{Input: spd.InputApp, Message: fmt.Sprintf("%q is not among your apps (%s)", app, strings.Join(p.Apps, ", "))})
	}
	if name := v.String(spd.InputSvcname); name != "" {
		app, ok, err := s.db.ServiceApp(ctx, name)
		if err != nil {
			return err
		}
		if ok && !p.SeesApp(app) {
			problems = append(problems, formtemplate.Problem{Input: spd.InputSvcname, Message: "this name is taken by a service outside your apps"})
		}
	}
	if problems != nil {
		return &formtemplate.ValidationError{Problems: problems}
	}
	return nil
}

// storeSubmission stores the generated config as the service's new
// revision, written by the logged-in user.
func (s *Server) storeSubmission(ctx context.Context, sub web.Submission) (web.Receipt, error) {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	if p == nil || p.Node {
		return web.Receipt{}, fmt.Errorf("%w: no user", web.ErrForbidden)
	}
	name, app := sub.Values.String(spd.InputSvcname), sub.Values.String(spd.InputApp)
	if err := store.ValidServiceName(name); err != nil {
		return web.Receipt{}, err
	}
	var doc []byte
	for i, d := range sub.Documents {
		if i == 0 || sub.Form.Outputs[i].Function == "/services" {
			doc = d.Data
		}
	}
	// The check ran before generating; the write checks again against
	// what the database holds now.
	if !p.Admin() {
		cur, ok, err := s.db.ServiceApp(ctx, name)
		if err != nil {
			return web.Receipt{}, err
		}
		if !p.SeesApp(app) || (ok && !p.SeesApp(cur)) {
			return web.Receipt{}, fmt.Errorf("%w: service %s is not within your apps", web.ErrForbidden, name)
		}
	}
	cur, err := s.db.PutService(ctx, name, app, string(doc), store.AnyRevision, p.Name)
	if err != nil {
		if errors.Is(err, ErrBadInput) {
			return web.Receipt{}, fmt.Errorf("%w: %v", web.ErrConflict, err)
		}
		return web.Receipt{}, err
	}
	return web.Receipt{Location: "/services/" + cur.Name, Revision: strconv.FormatInt(cur.Rev, 10), URL: "/services/" + cur.Name}, nil
}

// loginPage shows the login form; its CSRF token is a cookie of its own
// (no session yet) that the POST must echo.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
	if sess, _ := s.session(r); sess != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	tok := newToken()
	setCookie(w, r, loginCookie, tok, 3600, http.SameSiteStrictMode)
	s.render(w, r, nil, http.StatusOK, "login", "Log in", loginView{Next: safeNext(r.URL.Query().Get("next")), Token: tok, NoUsers: s.users == nil})
}

type loginView struct {
	Next, Token, User, Error string
	NoUsers                  bool
}

// dummyHash is compared against when the user is unknown, so that the
// answer takes bcrypt's time either way.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
	if err := s.cross.Check(r); err != nil {
		s.errorPage(w, r, nil, http.StatusForbidden, "cross-origin request refused: log in from the collector's own page")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.errorPage(w, r, nil, http.StatusRequestEntityTooLarge, "the login form is larger than the collector takes")
			return
		}
		s.errorPage(w, r, nil, http.StatusBadRequest, "the login form does not parse")
		return
	}
	c, err := r.Cookie(cookieName(r, loginCookie))
	if err != nil || !sameToken(r.PostForm.Get(csrfField), c.Value) {
		s.errorPage(w, r, nil, http.StatusForbidden, "the login form's CSRF token is missing or stale: reload the login page")
		return
	}
	user, pw, next := r.PostForm.Get("username"), r.PostForm.Get("password"), safeNext(r.PostForm.Get("next"))
	key := throttleKey(r, user)
	if s.throttle.blocked(key, s.now()) {
		s.log.Warn("login refused: too many failures", "user", s.loggedUser(user))
		s.errorPage(w, r, nil, http.StatusTooManyRequests, "too many failed logins for this user from your address: try again later")
		return
	}
	if !s.users.Has(user) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
	}
	if !s.users.Check(user, pw) {
		s.log.Warn("login failed", "user", s.loggedUser(user))
		s.throttle.fail(key, s.now())
		tok := newToken()
		setCookie(w, r, loginCookie, tok, 3600, http.SameSiteStrictMode)
		s.render(w, r, nil, http.StatusUnauthorized, "login", "Log in", loginView{Next: next, Token: tok, User: user, Error: "wrong user name or password", NoUsers: s.users == nil})
		return
	}
	s.throttle.reset(key)
	now := s.now()
	if err := s.db.DeleteExpiredSessions(r.Context(), now); err != nil {
		s.log.Error("deleting expired sessions", "error", err)
	}
	ttl := s.opts.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	id, _, err := s.db.CreateSession(r.Context(), user, now.Add(ttl))
	if err != nil {
		s.log.Error("creating a session", "error", err)
		s.errorPage(w, r, nil, http.StatusInternalServerError, "internal error (see the collector's log)")
		return
	}
	setCookie(w, r, loginCookie, "", -1, http.SameSiteStrictMode)
	setCookie(w, r, sessionCookie, id, int(ttl.Seconds()), http.SameSiteLaxMode)
	if rec, ok := w.(*statusRecorder); ok {
		rec.principal = user
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// loggedUser is how a login's user name goes to the log: an unknown
// name may be a password typed in the wrong field, and is not logged.
func (s *Server) loggedUser(user string) string {
	if s.users.Has(user) {
		return user
	}
	return "(unknown user)"
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := s.db.DeleteSession(r.Context(), sess.id); err != nil {
		s.log.Error("deleting a session", "error", err)
	}
	setCookie(w, r, sessionCookie, "", -1, http.SameSiteLaxMode)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect on this site: a path, never //host or a URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") || len(next) > 2000 {
		return "/services"
	}
	return next
}

func (s *Server) servicesPage(w http.ResponseWriter, r *http.Request, sess *session) {
	svcs, err := s.db.ListServices(r.Context(), sess.p.Apps)
	if err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	s.render(w, r, sess, http.StatusOK, "services", "Services", svcs)
}

type serviceView struct {
	Service   *Service
	Nodes     []string
	Revisions []Revision
	Shown     *Revision
	Config    string
	Diff      *diffView
	Attached  []string
}

// servicePage shows a service: its revisions with who and when, the
// config of one revision (the current by default, ?rev=N), and what that
// revision changed.
func (s *Server) servicePage(w http.ResponseWriter, r *http.Request, sess *session) {
	svc, ok := s.pageService(w, r, sess)
	if !ok {
		return
	}
	ctx := r.Context()
	cur, err := s.db.GetService(ctx, svc)
	if err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	v := serviceView{Service: cur}
	if v.Nodes, err = ServiceNodes([]byte(cur.EnvFile)); err != nil {
		v.Nodes = nil
	}
	if v.Revisions, err = s.db.Revisions(ctx, svc, MaxRevisions); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	if v.Attached, err = s.db.Attached(ctx, "", svc); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	rev := cur.Rev
	if q := r.URL.Query().Get("rev"); q != "" {
		if rev, err = strconv.ParseInt(q, 10, 64); err != nil || rev < 1 {
			s.errorPage(w, r, sess, http.StatusBadRequest, "rev: expected a revision number from 1")
			return
		}
	}
	if v.Shown, err = s.db.RevisionOf(ctx, svc, rev); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	v.Config = secret.RedactCommand(v.Shown.EnvFile)
	if rev > 1 {
		prev, err := s.db.RevisionOf(ctx, svc, rev-1)
		if err != nil {
			s.pageErr(w, r, sess, err)
			return
		}
		v.Diff = lineDiff(prev, v.Shown)
	}
	s.render(w, r, sess, http.StatusOK, "service", "Service "+svc, v)
}

// diffPage compares two revisions: ?from=A&to=B.
func (s *Server) diffPage(w http.ResponseWriter, r *http.Request, sess *session) {
	svc, ok := s.pageService(w, r, sess)
	if !ok {
		return
	}
	var revs [2]*Revision
	for i, k := range []string{"from", "to"} {
		n, err := strconv.ParseInt(r.URL.Query().Get(k), 10, 64)
		if err != nil || n < 1 {
			s.errorPage(w, r, sess, http.StatusBadRequest, k+": expected a revision number from 1")
			return
		}
		if revs[i], err = s.db.RevisionOf(r.Context(), svc, n); err != nil {
			s.pageErr(w, r, sess, err)
			return
		}
	}
	s.render(w, r, sess, http.StatusOK, "diff", "Service "+svc+": changes", struct {
		Name string
		Diff *diffView
	}{svc, lineDiff(revs[0], revs[1])})
}

// pageService checks the {svc} of the path against the user's scope: a
// service out of scope is answered as a missing one.
func (s *Server) pageService(w http.ResponseWriter, r *http.Request, sess *session) (string, bool) {
	svc := r.PathValue("svc")
	if err := store.ValidServiceName(svc); err != nil {
		s.errorPage(w, r, sess, http.StatusNotFound, "no such service")
		return "", false
	}
	ok, err := s.seesService(r.Context(), sess.p, svc)
	if err != nil {
		s.pageErr(w, r, sess, err)
		return "", false
	}
	if !ok {
		s.errorPage(w, r, sess, http.StatusNotFound, "service "+svc+": not found")
		return "", false
	}
	return svc, true
}

func (s *Server) nodesPage(w http.ResponseWriter, r *http.Request, sess *session) {
	nodes, err := s.db.ListNodes(r.Context(), sess.p.Apps)
	if err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	s.render(w, r, sess, http.StatusOK, "nodes", "Nodes", nodes)
}

// MaxPagePackages bounds the packages a node page lists.
const MaxPagePackages = 2000

type nodeView struct {
	Node       *NodeInfo
	Assets     [][2]string
	Packages   []string
	MorePkgs   int
	Attached   []string
	Rulesets   []string
	RulesError string
	Status     []CompStatus
	Actions    []*Action
	Services   []string
	CSRF       string
}

func (s *Server) nodePage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	n := r.PathValue("node")
	ok := nodename.Check(n) == nil
	var err error
	if ok {
		ok, err = s.seesNode(ctx, sess.p, n)
	}
	var info *NodeInfo
	if err == nil && ok {
		info, err = s.db.NodeInfo(ctx, n)
		if errors.Is(err, ErrNotFound) {
			ok, err = false, nil
		}
	}
	if err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	if !ok {
		s.errorPage(w, r, sess, http.StatusNotFound, "node "+n+": not found")
		return
	}
	v := nodeView{Node: info, CSRF: sess.csrf}
	facts, err := s.db.Facts(ctx, n)
	if err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	for _, k := range sortedKeys(facts.Node) {
		val := secret.RedactCommand(facts.Node[k])
		if secret.IsName(k) {
			val = secret.Placeholder
		}
		v.Assets = append(v.Assets, [2]string{k, val})
	}
	for i, p := range facts.Packages {
		if i == MaxPagePackages {
			v.MorePkgs = len(facts.Packages) - i
			break
		}
		v.Packages = append(v.Packages, strings.TrimSpace(p.Name+" "+p.Version))
	}
	if v.Attached, err = s.db.Attached(ctx, n, ""); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	if e, err := s.db.Rules(ctx, n, ""); err != nil {
		// A broken compliance set is shown, not fatal to the page.
		v.RulesError = err.Error()
	} else {
		v.Rulesets = rulesetNames(e)
	}
	if v.Status, err = s.db.CompStatuses(ctx, n); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	if v.Actions, err = s.db.Actions(ctx, n, nil, 100); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	for _, a := range v.Actions {
		a.Argv = secret.RedactArgs(a.Argv)
	}
	if v.Services, err = s.db.strings(ctx, `SELECT svc_name FROM service_nodes WHERE nodename = ? ORDER BY svc_name`, n); err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	// Only the services this user sees.
	vis := v.Services[:0]
	for _, svc := range v.Services {
		if ok, err := s.seesService(ctx, sess.p, svc); err == nil && ok {
			vis = append(vis, svc)
		}
	}
	v.Services = vis
	s.render(w, r, sess, http.StatusOK, "node", "Node "+n, v)
}

// enqueuePage queues the command typed on a node's page (split into
// words as a shell would, never run by one) and notifies the node.
func (s *Server) enqueuePage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	n := r.PathValue("node")
	ok := nodename.Check(n) == nil
	var err error
	if ok {
		if ok, err = s.seesNode(ctx, sess.p, n); err == nil && ok {
			ok, err = s.db.NodeExists(ctx, n)
		}
	}
	if err != nil {
		s.pageErr(w, r, sess, err)
		return
	}
	if !ok {
		s.errorPage(w, r, sess, http.StatusNotFound, "node "+n+": not found")
		return
	}
	argv, err := shellwords.Split(r.PostForm.Get("command"))
	if err != nil {
		s.errorPage(w, r, sess, http.StatusBadRequest, "command: "+err.Error())
		return
	}
	svc := r.PostForm.Get("service")
	if svc != "" {
		ok := store.ValidServiceName(svc) == nil
		if ok {
			if ok, err = s.db.IsServiceNode(ctx, svc, n); err == nil && ok {
				ok, err = s.seesService(ctx, sess.p, svc)
			}
		}
		if err != nil {
			s.pageErr(w, r, sess, err)
			return
		}
		if !ok {
			s.errorPage(w, r, sess, http.StatusBadRequest, "service: "+n+" is not a node of a service of that name")
			return
		}
	}
	a, err := s.db.Enqueue(ctx, n, svc, argv, sess.p.Name)
	if err != nil {
		if errors.Is(err, ErrBadInput) {
			s.errorPage(w, r, sess, http.StatusBadRequest, err.Error())
			return
		}
		s.pageErr(w, r, sess, err)
		return
	}
	s.notify(n)
	http.Redirect(w, r, "/nodes/"+n+"#action-"+strconv.FormatInt(a.ID, 10), http.StatusSeeOther)
}

func rulesetNames(e *compliance.Export) []string {
	var out []string
	for _, rs := range e.Rulesets {
		out = append(out, rs.Name)
	}
	return out
}

func (s *Server) formsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	s.render(w, r, sess, http.StatusOK, "forms", "Forms", s.forms)
}

// pageErr answers a store error as a page.
func (s *Server) pageErr(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		s.errorPage(w, r, sess, http.StatusNotFound, err.Error())
	default:
		s.log.Error("page failed", "path", r.URL.Path, "error", err)
		s.errorPage(w, r, sess, http.StatusInternalServerError, "internal error (see the collector's log)")
	}
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, sess *session, code int, msg string) {
	s.render(w, r, sess, code, "error", http.StatusText(code), msg)
}

// pageData is what every page's template gets.
type pageData struct {
	Title string
	User  *Principal
	CSRF  string
	Data  any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *session, code int, name, title string, data any) {
	setPageHeaders(w)
	d := pageData{Title: title, Data: data}
	if sess != nil {
		d.User, d.CSRF = sess.p, sess.csrf
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("rendering a page", "page", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
