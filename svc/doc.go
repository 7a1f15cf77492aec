// Package svc loads a service configuration for one node, validates it
// against the driver manifests, and runs actions on its resources.
//
// # Limits of a load
//
// A configuration comes from a store, a form or a hand, so a load bounds
// the time and memory it spends, proportionally to the size of the file;
// each limit, when crossed, is a Problem naming the file, line, section and
// keyword (see the constants below):
//
//   - MaxFileSize: a larger file is refused before it is read.
//   - MaxReferenceDepth: {env.x} references may nest this deep (x refers to
//     y which refers to z...); the [env] keys are resolved once each, so a
//     long chain written in order costs nothing more.
//   - MaxValueSize: the largest value references may expand to.
//   - ExpansionFactor: the bytes all references of a file expand to, in
//     total, stay under this multiple of the file's size (and never under
//     MaxValueSize), so that many keys referencing one large value do not
//     multiply it.
//   - MaxProblems: a ValidationError lists at most this many problems, and
//     then says how many it left out.
//
// Loading checks its context between sections, keys and references: a
// cancelled context stops it promptly and Parse returns the context's
// error.
package svc
