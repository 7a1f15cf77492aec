// Package formtemplate turns the answers to a form into generated files,
// the job the OpenSVC collector forms do with their JavaScript "Mangle"
// functions, as a library in-house tools import.
//
// A Form lists typed inputs (string, integer, boolean, size, list of
// strings) with their defaults, candidates and constraints, and one or
// more outputs. Form.Submit validates every answer at once and returns a
// *ValidationError listing every problem per input id; Form.Generate runs
// the outputs over the validated Values: Go text/template sources, or Go
// functions registered by name in a Generators set (computed layouts such
// as the spd generator of the subpackage formtemplate/spd).
//
// Forms are written as Go values or loaded from the collector's YAML form
// schema with LoadYAML. A collector Mangle function is kept as text and
// never run: give such an output a Generator or a Template.
//
// The subpackage formtemplate/web serves any Form as a web page (and as
// JSON) through an http.Handler.
//
// formtemplate knows nothing of the service package: what it generates is
// text, checked by whoever loads it.
package formtemplate
