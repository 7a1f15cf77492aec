// Package e2e holds the end-to-end test of the host drivers under the svc
// scheduler: a service of two pods, each a loop disk, a filesystem, a
// Docker container and an address plumbed into it, provisioned, started,
// checked, stopped and unprovisioned on this machine. It has no API.
package e2e
