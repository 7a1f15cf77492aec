// Package svckit automates the deploy and the run of services made of many
// resources on many nodes: disks, filesystems, IPs and containers spread
// over the nodes of a "flex" cluster, with node and service configuration
// compliance and a form that generates the service configuration. Its
// reference scenario is the OpenSVC agent's 32-way sharded MariaDB/Spider
// cluster on Google Cloud, whose configuration formats it reads and
// writes.
//
// The packages, from the bottom up:
//
//   - resource: the Resource interface a driver implements, the status
//     values and their merge rules, the action context (logger, dry-run,
//     progress events).
//   - driver: the registry of drivers and their keyword manifests; the
//     group packages driver/disk, driver/fs, driver/ip, driver/container
//     and driver/sync hold the manifests of the standard drivers, their
//     subpackages the implementations (driver/container/dockerd: the
//     private Docker daemon of a service that sets docker_data_dir);
//     driver/fake fakes every group for tests; driver/all imports every
//     driver.
//   - svc: a service: configuration load (INI, scoping, references),
//     validation against the manifests, resource selection, the action
//     scheduler (a dependency graph), rollback, locks, status.
//   - compliance: modulesets, rulesets, filtersets, the native checkers and
//     script modules, check and fix.
//   - formtemplate: forms, generators, the spd layout generator and
//     relayout planning.
//
// The examples directory holds the programs: svcmgr, nodemgr, spdgen,
// compobj and spd, the whole scenario end to end.
package svckit
