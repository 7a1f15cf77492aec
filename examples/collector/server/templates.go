package server

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
)

// pageStyle is the pages' only style sheet, inline; the
// Content-Security-Policy allows it by its hash and no script at all.
const pageStyle = `
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.5rem 1rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff}
header form{margin-left:auto}
header .who{color:#cfd3dc}
main{max-width:64rem;margin:1.5rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d8dbe2;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f4}
pre{background:#fff;border:1px solid #d8dbe2;padding:.75rem;overflow:auto;max-height:40rem;font-size:.85rem}
.diff{font-family:monospace;font-size:.85rem;white-space:pre;background:#fff;border:1px solid #d8dbe2;overflow:auto;max-height:40rem}
.diff div{padding:0 .5rem}
.diff .add{background:#e6ffec}
.diff .del{background:#ffebe9}
.diff .hunk{background:#ddf4ff;color:#555}
.problems{border:1px solid #b3261e;background:#fff6f5;border-radius:6px;padding:.5rem 1rem;color:#b3261e}
.ok{color:#1a7f37}.nok{color:#b3261e}
label{display:block;margin:.5rem 0 .2rem;font-weight:600}
input[type=text],input[type=password]{padding:.4rem;font:inherit;width:20rem}
button{font:inherit;padding:.3rem 1rem}
`

var pageStyleHash = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// setPageHeaders forbids scripts, frames and foreign form targets, and
// keeps pages (configs, inventories) out of caches.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+pageStyleHash+"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

const layout = `{{define "layout"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · collector</title>
<style>` + pageStyle + `</style>
</head>
<body>
<header>
<strong>collector</strong>
{{- if .User}}
<a href="/services">Services</a> <a href="/nodes">Nodes</a> <a href="/forms">Forms</a>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><span class="who" id="who">{{.User.Name}} ({{.User.Role}})</span> <button type="submit" id="logout">Log out</button></form>
{{- end}}
</header>
<main>
<h1>{{.Title}}</h1>
{{template "content" .Data}}
</main>
</body>
</html>
{{end}}`

var pageSources = map[string]string{
	"error": `{{define "content"}}<p class="problems" role="alert" id="error">{{.}}</p>{{end}}`,
	"login": `{{define "content"}}
{{- if .NoUsers}}<p class="problems" role="alert">This collector has no users file: start it with -users FILE to use the pages.</p>{{end}}
{{- with .Error}}<p class="problems" role="alert" id="login-error">{{.}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{.Token}}">
<input type="hidden" name="next" value="{{.Next}}">
<label for="username">User</label>
<input type="text" id="username" name="username" value="{{.User}}" autocomplete="username" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<p><button type="submit" id="login">Log in</button></p>
</form>{{end}}`,
	"services": `{{define "content"}}
<table id="services">
<tr><th>Service</th><th>App</th><th>Revision</th><th>Updated</th><th>By</th></tr>
{{- range .}}
<tr><td><a href="/services/{{.Name}}">{{.Name}}</a></td><td>{{.App}}</td><td>{{.Rev}}</td><td>{{.Updated}}</td><td>{{.Author}}</td></tr>
{{- else}}
<tr><td colspan="5">No service yet: fill in a <a href="/forms">form</a> or push one.</td></tr>
{{- end}}
</table>{{end}}`,
	"service": `{{define "content"}}
<p>App <strong id="svc-app">{{.Service.App}}</strong>, revision <strong id="svc-rev">{{.Service.Rev}}</strong> by <strong>{{.Service.Author}}</strong> at {{.Service.Updated}}; checksum <code>{{.Service.Checksum}}</code>.</p>
<p>Nodes: {{range .Nodes}}<a href="/nodes/{{.}}">{{.}}</a> {{else}}none{{end}}.
Modulesets: {{range .Attached}}{{.}} {{else}}none{{end}}.</p>
<h2>Revisions</h2>
<table id="revisions">
<tr><th>Revision</th><th>By</th><th>When</th><th>App</th><th>Checksum</th><th></th></tr>
{{- range .Revisions}}
<tr id="rev-{{.Rev}}"><td><a href="/services/{{$.Service.Name}}?rev={{.Rev}}">{{.Rev}}</a></td><td class="author">{{.Author}}</td><td>{{.Created}}</td><td>{{.App}}</td><td><code>{{printf "%.12s" .Checksum}}</code></td><td>{{if gt .Rev 1}}<a href="/services/{{$.Service.Name}}/diff?from={{.Rev | prev}}&amp;to={{.Rev}}">diff with {{.Rev | prev}}</a>{{end}}</td></tr>
{{- end}}
</table>
{{- with .Diff}}
<h2 id="diff-title">Changes in revision {{.To.Rev}} (from {{.From.Rev}})</h2>
{{template "diff" .}}
{{- end}}
<h2>Config of revision {{.Shown.Rev}} <small>(secrets shown as xxxx)</small></h2>
<pre id="config">{{.Config}}</pre>
{{end}}`,
	"diff": `{{define "content"}}<p><a href="/services/{{.Name}}">Back to {{.Name}}</a></p>
<h2 id="diff-title">Revision {{.Diff.From.Rev}} to {{.Diff.To.Rev}}</h2>
{{template "diff" .Diff}}{{end}}`,
	"nodes": `{{define "content"}}
<table id="nodes">
<tr><th>Node</th><th>App</th><th>Registered</th><th>Assets</th><th>Packages</th><th>Compliance</th><th>Actions waiting</th></tr>
{{- range .}}
<tr><td><a href="/nodes/{{.Name}}">{{.Name}}</a></td><td>{{.App}}</td><td>{{.RegisteredAt}} by {{.RegisteredBy}}</td><td>{{.Assets}}</td><td>{{.Packages}}</td>
<td>{{if or .CompOK .CompNOK .CompNA}}<span class="ok">{{.CompOK}} ok</span>, <span class="nok">{{.CompNOK}} nok</span>, {{.CompNA}} n/a{{else}}not reported{{end}}</td><td>{{.Queued}}</td></tr>
{{- else}}
<tr><td colspan="7">No node registered.</td></tr>
{{- end}}
</table>{{end}}`,
	"node": `{{define "content"}}
<p>App <strong>{{.Node.App}}</strong>, registered at {{.Node.RegisteredAt}} by {{.Node.RegisteredBy}}.
Services: {{range .Services}}<a href="/services/{{.}}">{{.}}</a> {{else}}none{{end}}.</p>
<h2>Compliance</h2>
<p>Modulesets attached: {{range .Attached}}{{.}} {{else}}none{{end}}.
Rulesets that apply: {{range .Rulesets}}{{.}} {{else}}none{{end}}.</p>
{{- with .RulesError}}<p class="problems">{{.}}</p>{{end}}
<table id="compliance">
<tr><th>Module</th><th>Status</th><th>Reported</th><th>Output</th></tr>
{{- range .Status}}
<tr><td>{{.Module}}</td><td class="{{if eq .Status "ok"}}ok{{else if eq .Status "nok"}}nok{{end}}">{{.Status}}</td><td>{{.Reported}}</td><td><pre>{{.Output}}</pre></td></tr>
{{- else}}
<tr><td colspan="4">The node has reported no compliance check.</td></tr>
{{- end}}
</table>
<h2>Assets</h2>
<table id="assets">
<tr><th>Field</th><th>Value</th></tr>
{{- range .Assets}}
<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{- else}}
<tr><td colspan="2">The node has pushed no asset.</td></tr>
{{- end}}
</table>
<h2>Packages</h2>
<p id="packages">{{range .Packages}}<code>{{.}}</code> {{else}}The node has pushed no package.{{end}}{{with .MorePkgs}} and {{.}} more{{end}}</p>
<h2>Actions</h2>
<form method="post" action="/nodes/{{.Node.Name}}/actions" id="enqueue">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label for="command">Queue a command for this node (words as a shell splits them; the node runs only its allow-list: svcmgr and nodemgr verbs)</label>
<input type="text" id="command" name="command" placeholder="nodemgr compliance check" spellcheck="false" autocomplete="off">
{{- with .Services}}
<label for="service">For the service</label>
<select id="service" name="service"><option value="">(none)</option>{{range .}}<option value="{{.}}">{{.}}</option>{{end}}</select>
{{- end}}
<p><button type="submit">Queue</button></p>
</form>
<table id="actions">
<tr><th>Id</th><th>Command</th><th>Service</th><th>Status</th><th>Claim</th><th>Exit</th><th>By</th><th>Output</th></tr>
{{- range .Actions}}
<tr id="action-{{.ID}}"><td>{{.ID}}</td><td><code>{{range .Argv}}{{.}} {{end}}</code></td><td>{{.Service}}</td><td>{{.Status}}{{with .LeaseUntil}} (lease until {{.}}){{end}}</td><td>{{.Attempt}}</td><td>{{with .ExitCode}}{{.}}{{end}}</td><td>{{.CreatedBy}}</td><td><pre>{{.Output}}{{.Reason}}</pre></td></tr>
{{- else}}
<tr><td colspan="8">No action.</td></tr>
{{- end}}
</table>{{end}}`,
	"forms": `{{define "content"}}<ul id="forms">{{range .}}<li><a href="/forms/{{.Name}}">{{.Label}}</a></li>{{end}}</ul>{{end}}`,
}

const diffTemplate = `{{define "diff"}}<p>{{.Added}} lines added, {{.Removed}} removed; revision {{.From.Rev}} by {{.From.Author}} at {{.From.Created}}, revision {{.To.Rev}} by {{.To.Author}} at {{.To.Created}}.</p>
<div class="diff" id="diff">
{{- range .Hunks}}<div class="hunk">{{.Header}}</div>
{{- range .Lines}}<div class="{{.Class}}">{{.Op}}{{.Text}}</div>{{end}}
{{- else}}<div class="hunk">The two revisions are the same.</div>
{{- end}}
</div>{{end}}`

var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{"prev": func(n int64) int64 { return n - 1 }}
	base := template.Must(template.New("layout").Funcs(funcs).Parse(layout + diffTemplate))
	out := map[string]*template.Template{}
	for name, src := range pageSources {
		out[name] = template.Must(template.Must(base.Clone()).Parse(src))
	}
	return out
}()
