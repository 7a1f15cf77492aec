// Package web turns a formtemplate.Form into an http.Handler: the form
// as a web page that a person fills in a browser, and the same form as
// JSON for programs, the way the OpenSVC collector serves its forms.
//
// GET renders the form (html/template, no JavaScript): each input with
// its label bound to it, its help, default and mandatory mark; strict
// candidates as a select, other candidates as suggestions (a datalist);
// integers as number fields, booleans as checkboxes, secrets (an input
// that formtemplate.Input.IsSecret names a password) as password fields.
//
// POST validates on the server with Form.Submit, then Options.Check (the
// cross-input checks a form cannot express, such as spd.FromValues): on
// problems the page comes back with every problem beside its input and
// the answers kept, except secrets, which are never sent back. On success
// the outputs run (Form.Generate), Options.Store keeps the documents, and
// the page shows what was generated with every secret redacted by the
// one rule of resource/secret, where it was stored and its revision.
//
// A request whose Accept header prefers application/json gets JSON: the
// form's definition on GET, the result or the problems on POST, whose
// body may be form-encoded or a JSON object of answers.
//
// Safety comes from construction, not from care at each call: every
// value reaches the page through html/template's contextual escaping; a
// POST from another origin is refused by net/http's
// CrossOriginProtection (Sec-Fetch-Site and Origin, so no token to carry
// and no state); bodies are bounded by http.MaxBytesReader; pages carry
// a Content-Security-Policy that allows no script at all.
//
// This package never imports the service package: a Store is whatever
// the program gives it (a directory, the collector, etcd).
package web
