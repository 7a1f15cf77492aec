package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/resource/secret"
)

// DefaultMaxBodyBytes bounds a POST body when Options.MaxBodyBytes is 0:
// far more than any form's answers (a 1 KiB password, a few hundred node
// names), far less than what would hurt the server.
const DefaultMaxBodyBytes = 64 << 10

// Options tune a Handler. The zero value serves a form whose outputs are
// all templates, stores nothing and accepts same-origin POSTs only.
type Options struct {
	// Generators runs the outputs that name a generator; New checks that
	// each one is registered.
	Generators *formtemplate.Generators
	// Check runs after Form.Submit accepted the answers, for the checks
	// across inputs that a form cannot express (spd.FromValues). A
	// *formtemplate.ValidationError it returns (wrapped or not) is shown
	// beside the inputs as Submit's problems are; another error is a
	// server error.
	Check func(ctx context.Context, values formtemplate.Values) error
	// Store keeps what was generated; nil only shows it.
	Store Store
	// MaxBodyBytes bounds a POST body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// CrossOrigin refuses cross-origin POSTs (CSRF); nil means
	// http.NewCrossOriginProtection(), same origin only. Give one with
	// AddTrustedOrigin when a page of another origin posts on purpose.
	CrossOrigin *http.CrossOriginProtection
	// Logger receives the failures of outputs and stores, redacted; nil
	// means slog.Default().
	Logger *slog.Logger
	// HiddenFields gives the hidden inputs the page's form carries for
	// the program that mounts the handler, per request: a session's CSRF
	// token, checked by the program before the handler runs. On POST the
	// fields of these names are dropped from the answers. The names must
	// not be ids of the form's inputs.
	HiddenFields func(r *http.Request) map[string]string
	// Nav are links shown above the form, back to the program's other
	// pages.
	Nav []Link
}

// Link is a link of Options.Nav.
type Link struct {
	Label, Href string
}

// Submission is what a valid POST produced, handed to the Store.
type Submission struct {
	// Form is the handler's form, to read only.
	Form *formtemplate.Form
	// Values are the validated answers, secrets included: the documents
	// are made of them and the store may need them.
	Values formtemplate.Values
	// Documents are the outputs' results, unredacted.
	Documents []formtemplate.Document
}

// Receipt says where a Store kept a submission.
type Receipt struct {
	// Location names the place ("dir:/srv/conf/spdsvc01.conf", a URL);
	// it is shown, so it must hold no credentials.
	Location string `json:"location"`
	// Revision is the stored version, as the store names it.
	Revision string `json:"revision"`
	// URL, when not "", is a page showing what was stored: the result
	// page links to it.
	URL string `json:"url,omitempty"`
}

// ErrConflict, wrapped in an error of a Store, says that the submission
// clashes with what the store holds (a service that exists already): the
// answer is 409 Conflict, not a server error, and the page keeps the
// answers for another try.
var ErrConflict = errors.New("conflict with the stored version")

// ErrForbidden, wrapped in an error of a Store, says that the person
// may not store this submission (a service of another team): the answer
// is 403 Forbidden and the page keeps the answers.
var ErrForbidden = errors.New("forbidden")

// Store keeps the documents of a valid submission.
type Store interface {
	Store(ctx context.Context, s Submission) (Receipt, error)
}

// StoreFunc adapts a function to a Store.
type StoreFunc func(ctx context.Context, s Submission) (Receipt, error)

// Store calls f.
func (f StoreFunc) Store(ctx context.Context, s Submission) (Receipt, error) { return f(ctx, s) }

// Handler serves one form. It holds no state between requests and is
// safe for concurrent use.
type Handler struct {
	form   *formtemplate.Form
	opts   Options
	cross  *http.CrossOriginProtection
	logger *slog.Logger
}

// New returns the handler of form. The form is checked (Form.Check), and
// every generator its outputs name must be in opts.Generators: a broken
// form fails here, not at the first submission. The handler keeps a copy
// of the form.
func New(form *formtemplate.Form, opts Options) (*Handler, error) {
	if form == nil {
		return nil, errors.New("formtemplate/web: no form")
	}
	if err := form.Check(); err != nil {
		return nil, fmt.Errorf("formtemplate/web: form %q: %w", form.Label, err)
	}
	for i, o := range form.Outputs {
		switch {
		case o.Generator != "":
			if opts.Generators == nil {
				return nil, fmt.Errorf("formtemplate/web: form %q: output %d needs the generator %q: Options.Generators is nil", form.Label, i+1, o.Generator)
			}
			if _, ok := opts.Generators.Lookup(o.Generator); !ok {
				return nil, fmt.Errorf("formtemplate/web: form %q: output %d needs the generator %q, not among %v", form.Label, i+1, o.Generator, opts.Generators.Names())
			}
		case o.Template == "":
			return nil, fmt.Errorf("formtemplate/web: form %q: output %d has only a collector Mangle function, which is never run: give it a Template or a Generator", form.Label, i+1)
		}
	}
	f := *form
	f.Inputs = slices.Clone(form.Inputs)
	for i, in := range f.Inputs {
		f.Inputs[i].Candidates = slices.Clone(in.Candidates)
		if in.Min != nil {
			f.Inputs[i].Min = formtemplate.Int64(*in.Min)
		}
		if in.Max != nil {
			f.Inputs[i].Max = formtemplate.Int64(*in.Max)
		}
	}
	f.Outputs = slices.Clone(form.Outputs)
	h := &Handler{form: &f, opts: opts, cross: opts.CrossOrigin, logger: opts.Logger}
	if h.opts.MaxBodyBytes <= 0 {
		h.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if h.cross == nil {
		h.cross = http.NewCrossOriginProtection()
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	return h, nil
}

// ServeHTTP serves the form on GET and HEAD and takes answers on POST.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.serveForm(w, r)
	case http.MethodPost:
		if err := h.cross.Check(r); err != nil {
			h.fail(w, r, http.StatusForbidden, "cross-origin request refused: post the form from its own page")
			return
		}
		h.submit(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: expected GET or POST", r.Method))
	}
}

func (h *Handler) serveForm(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r, false) {
		writeJSON(w, http.StatusOK, describe(h.form))
		return
	}
	h.writePage(w, r, http.StatusOK, h.page(nil, nil, nil))
}

// answers is a POST's answers as Submit takes them, and as typed, for
// showing them again.
type answers struct {
	values   map[string]any
	typed    map[string][]string
	problems []formtemplate.Problem
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	isJSON, a, status, err := h.readAnswers(r)
	asJSON := wantsJSON(r, isJSON)
	if err != nil {
		h.failAs(w, asJSON, status, err.Error())
		return
	}
	if h.opts.HiddenFields != nil {
		for name := range h.opts.HiddenFields(r) {
			if _, ok := h.form.Input(name); !ok {
				delete(a.values, name)
				delete(a.typed, name)
			}
		}
	}
	secrets := h.secrets(a)
	values, err := h.form.Submit(a.values)
	if err == nil && h.opts.Check != nil {
		err = h.opts.Check(r.Context(), values)
	}
	secrets.addValues(h.form, values)
	problems := a.problems
	if err != nil {
		var verr *formtemplate.ValidationError
		if !errors.As(err, &verr) {
			h.serverError(w, r, asJSON, a, secrets, "check", err)
			return
		}
		problems = append(problems, verr.Problems...)
	}
	if len(problems) > 0 {
		h.invalid(w, r, asJSON, a, secrets, problems)
		return
	}
	docs, err := h.form.Generate(values, h.opts.Generators)
	if err != nil {
		var verr *formtemplate.ValidationError
		if errors.As(err, &verr) {
			h.invalid(w, r, asJSON, a, secrets, verr.Problems)
			return
		}
		h.serverError(w, r, asJSON, a, secrets, "generate", err)
		return
	}
	res := &Result{Documents: make([]Document, len(docs))}
	for i, d := range docs {
		res.Documents[i] = Document{Output: d.Output, Bytes: len(d.Data), Data: secrets.Redact(string(d.Data))}
	}
	if h.opts.Store != nil {
		rc, err := h.opts.Store.Store(r.Context(), Submission{Form: h.form, Values: values, Documents: docs})
		if err != nil {
			h.serverError(w, r, asJSON, a, secrets, "store", err)
			return
		}
		// The store should name no credential; a secret of the answers
		// (a database named after the password) is masked all the same.
		rc.Location, rc.Revision, rc.URL = secrets.Redact(rc.Location), secrets.Redact(rc.Revision), secrets.Redact(rc.URL)
		res.Stored = &rc
	}
	if asJSON {
		writeJSON(w, http.StatusOK, res)
		return
	}
	h.writePage(w, r, http.StatusOK, h.page(nil, nil, res))
}

// Result is what a valid POST answers: the documents, redacted, and where
// they were stored.
type Result struct {
	Documents []Document `json:"documents"`
	// Stored is nil when the handler has no Store.
	Stored *Receipt `json:"stored,omitempty"`
}

// Document is one output's result with every secret masked.
type Document struct {
	Output string `json:"output"`
	// Bytes is the size of the unredacted document.
	Bytes int    `json:"bytes"`
	Data  string `json:"data"`
}

// problemsJSON is the JSON answer of an invalid submission.
type problemsJSON struct {
	Problems []problemJSON `json:"problems"`
}

type problemJSON struct {
	Input   string `json:"input"`
	Message string `json:"message"`
}

func (h *Handler) invalid(w http.ResponseWriter, r *http.Request, asJSON bool, a *answers, secrets *redactor, problems []formtemplate.Problem) {
	problems = h.sortProblems(problems)
	for i := range problems {
		problems[i].Message = secrets.Message(problems[i].Message)
		problems[i].Input = secrets.Message(problems[i].Input)
	}
	if asJSON {
		out := problemsJSON{Problems: make([]problemJSON, len(problems))}
		for i, p := range problems {
			out.Problems[i] = problemJSON{Input: p.Input, Message: p.Message}
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	h.writePage(w, r, http.StatusUnprocessableEntity, h.page(a.typed, problems, nil))
}

// serverError reports a failure that is no fault of the answers (or a
// conflict with the store): the page keeps them so that the person can
// try again.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, asJSON bool, a *answers, secrets *redactor, stage string, err error) {
	msg := secrets.Message(err.Error())
	h.logger.Error("formtemplate/web: submission failed", "form", h.form.Label, "stage", stage, "error", msg)
	msg = stage + ": " + msg
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, ErrForbidden):
		status = http.StatusForbidden
	}
	if asJSON {
		writeJSON(w, status, errorJSON{Error: msg})
		return
	}
	h.writePage(w, r, status, h.page(a.typed, []formtemplate.Problem{{Message: msg}}, nil))
}

// sortProblems orders problems as the form's inputs, the others (unknown
// ids, form-level failures) first.
func (h *Handler) sortProblems(problems []formtemplate.Problem) []formtemplate.Problem {
	order := map[string]int{}
	for i, in := range h.form.Inputs {
		order[in.ID] = i + 1
	}
	problems = slices.Clone(problems)
	slices.SortStableFunc(problems, func(a, b formtemplate.Problem) int { return order[a.Input] - order[b.Input] })
	return problems
}

type errorJSON struct {
	Error string `json:"error"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.failAs(w, wantsJSON(r, sentJSON(r)), status, msg)
}

// sentJSON tells whether the request body is JSON.
func sentJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (h *Handler) failAs(w http.ResponseWriter, asJSON bool, status int, msg string) {
	if asJSON {
		writeJSON(w, status, errorJSON{Error: msg})
		return
	}
	var buf bytes.Buffer
	if err := errorPage.Execute(&buf, struct {
		Title, Message string
	}{http.StatusText(status), msg}); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, "text/html; charset=utf-8", buf.Bytes())
}

// readAnswers reads a form-encoded or JSON body. It returns whether the
// body was JSON, and on error the status to answer.
func (h *Handler) readAnswers(r *http.Request) (bool, *answers, int, error) {
	ct := r.Header.Get("Content-Type")
	mt := "application/x-www-form-urlencoded"
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return false, nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: %v", ct, err)
		}
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return false, nil, bodyStatus(err), fmt.Errorf("reading the form: %v", bodyError(err))
		}
		return false, h.fromForm(r.PostForm), 0, nil
	case "application/json":
		a, err := h.fromJSON(r.Body)
		if err != nil {
			return true, nil, bodyStatus(err), fmt.Errorf("reading the JSON answers: %v", bodyError(err))
		}
		return true, a, 0, nil
	}
	// multipart/form-data among others: the form uploads no file.
	return false, nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: expected application/x-www-form-urlencoded or application/json", mt)
}

func bodyStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("the body is larger than %d bytes", tooBig.Limit)
	}
	return err
}

// fromForm turns posted fields into answers. A checkbox posts "false"
// from a hidden field, then "true" when checked: the last value wins. A
// list may come as several values (a multiple select). Any other input
// given twice is a problem: which value would be meant?
func (h *Handler) fromForm(form map[string][]string) *answers {
	a := &answers{values: map[string]any{}, typed: map[string][]string{}}
	for id, vals := range form {
		if len(vals) == 0 {
			continue
		}
		a.typed[id] = vals
		in, ok := h.form.Input(id)
		switch {
		case !ok:
			a.values[id] = vals[0]
		case in.Type == formtemplate.Boolean:
			a.values[id] = vals[len(vals)-1]
		case in.Type == formtemplate.StringList:
			a.values[id] = strings.Join(vals, " ")
		default:
			a.values[id] = vals[0]
			if len(vals) > 1 {
				a.problems = append(a.problems, formtemplate.Problem{Input: id, Message: fmt.Sprintf("given %d times: expected one value", len(vals))})
			}
		}
	}
	return a
}

// fromJSON reads one JSON object of answers: strings as typed, numbers,
// booleans and lists of strings.
func (h *Handler) fromJSON(body io.Reader) (*answers, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("expected an object of answers, not null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("expected one object of answers, with nothing after it")
	}
	a := &answers{values: map[string]any{}, typed: map[string][]string{}}
	for id, v := range raw {
		switch x := v.(type) {
		case nil, string, bool:
			a.values[id] = x
		case json.Number:
			a.values[id] = x.String()
		case []any:
			words := make([]string, 0, len(x))
			for _, w := range x {
				s, ok := w.(string)
				if !ok {
					a.problems = append(a.problems, formtemplate.Problem{Input: id, Message: "expected a list of strings"})
					words = nil
					break
				}
				words = append(words, s)
			}
			if words != nil {
				a.values[id] = words
			}
		default:
			a.problems = append(a.problems, formtemplate.Problem{Input: id, Message: "expected a string, a number, a boolean or a list of strings"})
		}
	}
	return a, nil
}

// redactor masks the secrets of one submission.
type redactor struct {
	set    *secret.Set
	values []string
}

// secrets collects the answers to secret inputs, as typed and as a
// generator may quote them.
func (h *Handler) secrets(a *answers) *redactor {
	r := &redactor{set: secret.NewSet()}
	for _, in := range h.form.Inputs {
		if !in.IsSecret() {
			continue
		}
		var vals []string
		switch x := a.values[in.ID].(type) {
		case string:
			vals = []string{x}
		case []string:
			vals = append(slices.Clone(x), strings.Join(x, " "))
		}
		vals = append(vals, a.typed[in.ID]...)
		for _, v := range vals {
			if v == "" {
				continue
			}
			r.values = append(r.values, v)
			r.set.Add(v, formtemplate.ShellQuote(v))
		}
	}
	return r
}

// addValues adds the validated values of the secret inputs: a default
// is as secret as a typed answer.
func (r *redactor) addValues(f *formtemplate.Form, values formtemplate.Values) {
	for _, in := range f.Inputs {
		if !in.IsSecret() {
			continue
		}
		var vals []string
		switch x := values[in.ID].(type) {
		case string:
			vals = []string{x}
		case []string:
			vals = append(slices.Clone(x), strings.Join(x, " "))
		}
		for _, v := range vals {
			if v != "" {
				r.values = append(r.values, v)
				r.set.Add(v, formtemplate.ShellQuote(v))
			}
		}
	}
}

// Redact masks what the one rule of resource/secret masks in text.
func (r *redactor) Redact(text string) string { return r.set.Redact(text) }

// Message masks the secrets of a problem message. A message quotes the
// answer it is about ("\"ab\" does not match ..."): a secret is masked
// there whatever its length, elsewhere from secret.MinLen.
func (r *redactor) Message(msg string) string {
	for _, v := range r.values {
		msg = strings.ReplaceAll(msg, strconv.Quote(v), secret.Placeholder)
	}
	return r.set.Redact(msg)
}

// wantsJSON tells whether the client prefers JSON to HTML. A client that
// states no preference gets what it sent.
func wantsJSON(r *http.Request, sentJSON bool) bool {
	qJSON, qHTML := -1.0, -1.0
	accept := r.Header.Values("Accept")
	for _, line := range accept {
		for part := range strings.SplitSeq(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil {
					continue
				}
			}
			switch mt {
			case "application/json":
				qJSON = max(qJSON, q)
			case "text/html":
				qHTML = max(qHTML, q)
			}
		}
	}
	if qJSON < 0 && qHTML < 0 {
		return sentJSON
	}
	return qJSON > 0 && qJSON > qHTML
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, "application/json", append(data, '\n'))
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// formJSON describes a form to programs. A secret input's default is
// left out.
type formJSON struct {
	Label       string      `json:"label"`
	Description string      `json:"description,omitempty"`
	Inputs      []inputJSON `json:"inputs"`
}

type inputJSON struct {
	ID               string   `json:"id"`
	Label            string   `json:"label,omitempty"`
	Type             string   `json:"type"`
	Mandatory        bool     `json:"mandatory,omitempty"`
	Secret           bool     `json:"secret,omitempty"`
	Default          string   `json:"default,omitempty"`
	Candidates       []string `json:"candidates,omitempty"`
	StrictCandidates bool     `json:"strict_candidates,omitempty"`
	Pattern          string   `json:"pattern,omitempty"`
	Min              *int64   `json:"min,omitempty"`
	Max              *int64   `json:"max,omitempty"`
	Help             string   `json:"help,omitempty"`
}

func describe(f *formtemplate.Form) formJSON {
	out := formJSON{Label: f.Label, Description: f.Description, Inputs: make([]inputJSON, len(f.Inputs))}
	for i, in := range f.Inputs {
		j := inputJSON{ID: in.ID, Label: in.Label, Type: string(in.Type), Mandatory: in.Mandatory, Secret: in.IsSecret(),
			Default: in.Default, Candidates: in.Candidates, StrictCandidates: in.StrictCandidates, Pattern: in.Pattern,
			Min: in.Min, Max: in.Max, Help: in.Help}
		if j.Secret {
			j.Default = ""
		}
		out.Inputs[i] = j
	}
	return out
}
