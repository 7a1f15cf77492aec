// Package resource defines what a driver implements: the Resource
// interface and its optional interfaces (provisioning, dependencies), the
// Status values and their merge rules, and the action context (logger,
// dry-run, progress events) that the service scheduler passes down.
//
// It imports nothing of svckit: drivers depend on it, it depends on no one.
package resource
