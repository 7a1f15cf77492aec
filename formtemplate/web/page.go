package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/formtemplate"
)

// style is the page's only style sheet, inline so that the handler needs
// no other route; the Content-Security-Policy allows it by its hash and
// allows no script at all.
const style = `
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:46rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}
.description{color:#444}
.field{background:#fff;border:1px solid #d8dbe2;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}
.field.invalid{border-color:#b3261e;background:#fff6f5}
label{display:block;font-weight:600;margin-bottom:.35rem}
.check label{display:inline;font-weight:600}
.mandatory{color:#b3261e;text-decoration:none}
input[type=text],input[type=number],input[type=password],select{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
.help,.hint{margin:.35rem 0 0;color:#555;font-size:.9rem}
.errors{margin:.35rem 0 0;padding-left:1.2rem;color:#b3261e}
.problems{border:1px solid #b3261e;background:#fff6f5;border-radius:6px;padding:.5rem 1rem;color:#b3261e}
button{font:inherit;padding:.5rem 1.5rem;margin:.5rem 0 2rem}
pre{background:#fff;border:1px solid #d8dbe2;padding:.75rem;overflow:auto;max-height:40rem;font-size:.85rem}
`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// contentSecurityPolicy forbids scripts, plugins, frames and foreign form
// targets: even a value that escaped escaping could not run.
var contentSecurityPolicy = "default-src 'none'; style-src " + styleHash + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// The result page holds the generated config: no cache keeps it.
	h.Set("Cache-Control", "no-store")
}

var formPage = template.Must(template.New("form").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Label}}</title>
<style>` + style + `</style>
</head>
<body>
<main>
{{- with .Nav}}
<nav id="nav">{{range .}}<a href="{{.Href}}">{{.Label}}</a> {{end}}</nav>
{{- end}}
<h1>{{.Label}}</h1>
{{with .Description}}<p class="description">{{.}}</p>{{end}}
{{- if .Result}}
<section id="result" aria-labelledby="result-title">
<h2 id="result-title">Generated</h2>
{{- with .Result.Stored}}
<p id="stored">Stored in <code id="stored-location">{{.Location}}</code>, revision <code id="stored-revision">{{.Revision}}</code>.{{with .URL}} <a id="stored-url" href="{{.}}">Open it</a>{{end}}</p>
{{- else}}
<p id="stored">Not stored: this form has no store.</p>
{{- end}}
{{- range .Result.Documents}}
<h3>{{.Output}} <small>({{.Bytes}} bytes, secrets shown as xxxx)</small></h3>
<pre id="doc-{{.Output}}">{{.Data}}</pre>
{{- end}}
<p><a href="">Fill in the form again</a></p>
</section>
{{- else}}
{{- if .Problems}}
<div class="problems" id="problems" role="alert">
<p>{{.ProblemCount}} {{if eq .ProblemCount 1}}problem{{else}}problems{{end}}: nothing was generated. Correct the answers marked below{{if .Secrets}} and type the secrets again (they are never sent back){{end}}.</p>
{{- with .FormProblems}}
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
</div>
{{- end}}
<form method="post" novalidate>
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
{{- range .Fields}}{{$id := .ID}}
<div class="field{{if .Errors}} invalid{{end}}{{if eq .Control "checkbox"}} check{{end}}" id="field-{{.ID}}">
{{- if eq .Control "checkbox"}}
<input type="hidden" name="{{.ID}}" value="false">
<input type="checkbox" id="in-{{.ID}}" name="{{.ID}}" value="true"{{if .Checked}} checked{{end}}{{if .Describe}} aria-describedby="{{.Describe}}"{{end}}{{if .Errors}} aria-invalid="true"{{end}}>
<label for="in-{{.ID}}">{{.Label}}{{if .Mandatory}} <abbr class="mandatory" title="mandatory">*</abbr>{{end}}</label>
{{- else}}
<label for="in-{{.ID}}">{{.Label}}{{if .Mandatory}} <abbr class="mandatory" title="mandatory">*</abbr>{{end}}</label>
{{- if eq .Control "select"}}
<select id="in-{{.ID}}" name="{{.ID}}"{{if .Multiple}} multiple size="{{len .Options}}"{{end}}{{if .Mandatory}} required aria-required="true"{{end}}{{if .Describe}} aria-describedby="{{.Describe}}"{{end}}{{if .Errors}} aria-invalid="true"{{end}}>
{{- range .Options}}
<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{if .Value}}{{.Value}}{{else}}(none){{end}}</option>
{{- end}}
</select>
{{- else}}
<input type="{{.InputType}}" id="in-{{.ID}}" name="{{.ID}}"{{if ne .Control "password"}} value="{{.Value}}"{{end}}
 {{- if eq .Control "password"}} autocomplete="new-password"{{else}} autocomplete="off" spellcheck="false" autocapitalize="off"{{end}}
 {{- if eq .Control "number"}} inputmode="numeric" step="1"{{with .Min}} min="{{.}}"{{end}}{{with .Max}} max="{{.}}"{{end}}{{end}}
 {{- if .Suggestions}} list="list-{{.ID}}"{{end}}
 {{- if .Mandatory}} required aria-required="true"{{end}}
 {{- if .Describe}} aria-describedby="{{.Describe}}"{{end}}
 {{- if .Errors}} aria-invalid="true"{{end}}>
{{- with .Suggestions}}
<datalist id="list-{{$id}}">{{range .}}<option value="{{.}}"></option>{{end}}</datalist>
{{- end}}
{{- end}}
{{- end}}
{{- with .Help}}
<p class="help" id="help-{{$id}}">{{.}}</p>
{{- end}}
{{- with .Hint}}
<p class="hint" id="hint-{{$id}}">{{.}}</p>
{{- end}}
{{- with .Errors}}
<ul class="errors" id="err-{{$id}}">{{range .}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
</div>
{{- end}}
<button type="submit">Generate</button>
</form>
{{- end}}
</main>
</body>
</html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title><style>` + style + `</style></head>
<body><main><h1>{{.Title}}</h1><p class="problems" role="alert">{{.Message}}</p><p><a href="">Back to the form</a></p></main></body>
</html>
`))

// pageView is what formPage renders.
type pageView struct {
	Label, Description string
	Fields             []fieldView
	// FormProblems are the problems of no input of the form (an unknown
	// field, a failed store), shown at the top.
	FormProblems []string
	ProblemCount int
	Problems     bool
	// Secrets tells whether the form has a secret input to type again.
	Secrets bool
	Result  *Result
	// Hidden are the program's hidden fields (Options.HiddenFields).
	Hidden []hiddenField
	Nav    []Link
}

type hiddenField struct{ Name, Value string }

type fieldView struct {
	ID, Label, Help, Hint string
	// Control is text, number, size, list, password, checkbox or select.
	Control     string
	Mandatory   bool
	Value       string
	Checked     bool
	Multiple    bool
	Options     []optionView
	Suggestions []string
	Min, Max    string
	Errors      []string
}

type optionView struct {
	Value    string
	Selected bool
}

// InputType is the type attribute of an input element.
func (f fieldView) InputType() string {
	switch f.Control {
	case "number", "password":
		return f.Control
	}
	return "text"
}

// Describe lists the ids of the elements describing the input.
func (f fieldView) Describe() string {
	var ids []string
	if f.Help != "" {
		ids = append(ids, "help-"+f.ID)
	}
	if f.Hint != "" {
		ids = append(ids, "hint-"+f.ID)
	}
	if len(f.Errors) > 0 {
		ids = append(ids, "err-"+f.ID)
	}
	return strings.Join(ids, " ")
}

// page builds the view: typed is nil on GET (defaults fill the fields),
// else the answers as posted, shown again but for secrets.
func (h *Handler) page(typed map[string][]string, problems []formtemplate.Problem, res *Result) pageView {
	v := pageView{Label: h.form.Label, Description: h.form.Description, Result: res,
		ProblemCount: len(problems), Problems: len(problems) > 0}
	byInput := map[string][]string{}
	for _, p := range problems {
		if _, ok := h.form.Input(p.Input); ok {
			byInput[p.Input] = append(byInput[p.Input], p.Message)
			continue
		}
		msg := p.Message
		if p.Input != "" {
			msg = p.Input + ": " + msg
		}
		v.FormProblems = append(v.FormProblems, msg)
	}
	for _, in := range h.form.Inputs {
		f := field(in, typed, byInput[in.ID])
		v.Secrets = v.Secrets || f.Control == "password"
		v.Fields = append(v.Fields, f)
	}
	return v
}

func field(in formtemplate.Input, typed map[string][]string, errs []string) fieldView {
	f := fieldView{ID: in.ID, Label: in.Label, Help: in.Help, Mandatory: in.Mandatory, Errors: errs}
	if f.Label == "" {
		f.Label = in.ID
	}
	vals := []string{in.Default}
	if typed != nil {
		vals = typed[in.ID]
	}
	var hints []string
	switch {
	case in.IsSecret():
		// Never sent back, not even its default: a password field
		// keeps nothing the page source would show.
		f.Control = "password"
		vals = nil
		if in.Default != "" {
			hints = append(hints, "leave empty to keep the default")
		}
	case in.Type == formtemplate.Boolean:
		f.Control = "checkbox"
		if len(vals) > 0 {
			b, err := driver.ParseBool(vals[len(vals)-1])
			f.Checked = err == nil && b
		}
	case in.StrictCandidates:
		f.Control = "select"
		f.Multiple = in.Type == formtemplate.StringList
		chosen := map[string]bool{}
		for _, s := range vals {
			if f.Multiple {
				for _, w := range strings.Fields(s) {
					chosen[w] = true
				}
			} else {
				chosen[s] = true
			}
		}
		if !f.Multiple && (!in.Mandatory || in.Default == "") {
			f.Options = append(f.Options, optionView{Value: "", Selected: len(vals) == 0 || vals[0] == ""})
		}
		for _, c := range in.Candidates {
			f.Options = append(f.Options, optionView{Value: c, Selected: chosen[c]})
		}
	default:
		f.Suggestions = in.Candidates
		switch in.Type {
		case formtemplate.Integer:
			f.Control = "number"
			if in.Min != nil {
				f.Min = strconv.FormatInt(*in.Min, 10)
			}
			if in.Max != nil {
				f.Max = strconv.FormatInt(*in.Max, 10)
			}
			hints = append(hints, "an integer"+bounds(in, ""))
		case formtemplate.Size:
			f.Control = "size"
			hints = append(hints, "a size: a number with an optional unit k, m, g, t or p (17g)"+bounds(in, " bytes"))
		case formtemplate.StringList:
			f.Control = "list"
			hints = append(hints, "words separated by blanks")
		default:
			f.Control = "text"
		}
		if in.Type == formtemplate.StringList {
			f.Value = strings.Join(vals, " ")
		} else if len(vals) > 0 {
			f.Value = vals[0]
		}
	}
	if in.Default != "" && !in.IsSecret() {
		hints = append(hints, "default: "+in.Default)
	}
	if len(hints) > 0 {
		f.Hint = strings.Join(hints, "; ")
	}
	return f
}

func bounds(in formtemplate.Input, unit string) string {
	switch {
	case in.Min != nil && in.Max != nil:
		return fmt.Sprintf(" from %d to %d%s", *in.Min, *in.Max, unit)
	case in.Min != nil:
		return fmt.Sprintf(" of at least %d%s", *in.Min, unit)
	case in.Max != nil:
		return fmt.Sprintf(" of at most %d%s", *in.Max, unit)
	}
	return ""
}

func (h *Handler) writePage(w http.ResponseWriter, r *http.Request, status int, v pageView) {
	v.Nav = h.opts.Nav
	if h.opts.HiddenFields != nil {
		fields := h.opts.HiddenFields(r)
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			v.Hidden = append(v.Hidden, hiddenField{Name: name, Value: fields[name]})
		}
	}
	var buf bytes.Buffer
	if err := formPage.Execute(&buf, v); err != nil {
		h.logger.Error("formtemplate/web: rendering the page", "form", h.form.Label, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, "text/html; charset=utf-8", buf.Bytes())
}
