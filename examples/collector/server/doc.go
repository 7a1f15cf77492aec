// Package server is the collector of examples/collector: the OpenSVC
// collector's REST API (/init/rest/api) on a database/sql database,
// SQLite (modernc.org/sqlite, pure Go) or PostgreSQL (pgx).
//
// It keeps service configs with every revision and a compare-and-swap
// write (If-Match), registers nodes (their uuid is their password),
// stores their inventory, imports compliance exports, attaches
// modulesets to nodes and services and serves each node the rules that
// apply to it, filtersets evaluated here on the nodes' inventory with
// the compliance package's evaluator. Every answer is scoped to the
// principal: an admin of the users file sees everything, a user limited
// to apps those apps' services and nodes, a node its own things only.
//
// Queued actions: a user POSTs an action (a command as a list of words)
// for a node or a service on it; the collector opens a TCP connection to
// the node (its registered notify_addr, else its name on port 1214) and
// closes it, the signal the seed's socket unit turns into "nodemgr
// dequeue actions"; the node claims its queued actions (a conditional
// UPDATE: never twice), runs what its allow-list accepts and reports
// each one's status, exit code and output (bounded, secrets masked).
//
// Claims are leases: an action whose node died running it is queued
// again past Options.ActionLease (SweepLeases, which the command runs,
// notifies the node), at most Options.MaxAttempts claims, then expired.
//
// Pages for people (pages.go): a login against the users file, a
// session in the database (cookie HttpOnly, SameSite, Secure over TLS),
// a CSRF token on every POST besides the same-origin check; the forms
// (formtemplate/web handlers whose store is this database: a submission
// is the service's next revision, written by the user), the services
// with their revisions and a line diff (go-udiff), the nodes with their
// inventory, rules and compliance status. A user limited to apps in the
// users file sees those apps' services and nodes only, in the pages and
// the API alike (scope.go).
//
// It lives under examples/collector, beside the command that serves it:
// examples/spd runs it in process for its scenario, other programs run
// the command, and the library (svc, compliance) never imports it.
package server
