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
// principal: a user of the users file sees everything, a node its own
// things only.
//
// It lives under examples/collector/internal: programs embed the
// collector by running the command, and the library (svc, compliance)
// never imports it.
package server
