// Package fake provides fake drivers for every resource group of a svckit
// service (disk, fs, ip, container, sync), registered under the ids of the
// real drivers ("disk.gce", "fs.ext4", "ip.docker", "container.docker",
// "sync.rsync", ...) with the real keyword manifests. A configuration that
// validates and runs on the real drivers validates and runs unchanged on
// the fakes, so users can test their tooling, and the scheduler can be
// measured, without clouds, disks or a Docker daemon.
//
//	reg := fake.Registry(fake.Options{Latency: 20 * time.Millisecond, Recorder: rec})
//	s, err := svc.Load(ctx, path, svc.Options{Registry: reg, ...})
//
// To run a program's own registry on fakes (custom drivers included), use
// Replace: every driver keeps its manifest and gets a fake behaviour. A
// custom driver also keeps its ordering: Replace asks the resource its
// factory makes (without I/O) what it provides and uses.
//
// # What a fake does
//
// Start and Stop mark the resource up or down; Provision marks it
// provisioned without starting it; Unprovision refuses while the resource
// is up. Status is "up" or "down" ("stdby up"/"stdby down" for standby
// resources). The labels are those of the reference's print status
// ("gce volumes spdsvc01-pod1", "/dev/disk/by-id/...@/spdsvc01/pod01",
// "f52d3cb784a9@mariadb", ...). A fake container has a deterministic id
// derived from the service name and the rid. A sync is up until stopped:
// the reference never starts one in a service start, and the seed shows
// its sync#i0 up.
//
// The state lives in the service's var directory (driver.Config.VarDir),
// one JSON file per resource under <VarDir>/fake/, written atomically, so
// that separate processes (successive svcmgr --fake invocations) see it.
// When VarDir is empty, or with Options.Memory (for benchmarks: saving a
// state file takes milliseconds on ext4), the state stays in memory, in
// the registry.
//
// # Ordering checks
//
// Every fake declares what it provides and uses (resource.Provider and
// resource.User) with the rules of the real driver, and refuses an action
// that the real system would fail: a Start or a Provision while something
// it uses is provided by a sibling resource that is not up, a Stop while a
// sibling that uses it is still up. Siblings are the resources built by
// the same registry for the same var directory, minus disabled ones. A
// resource ordered by group (resource.OrderByGroup: an fs whose dev is
// LABEL=..., a custom driver that is no resource.User) is not checked: it
// relies on the group ordering. An ip.docker lives in its container's
// network namespace: stopping the container is allowed while the address
// is up, and the address then reports down, as it does on a real host,
// until it is started again in the new namespace.
//
// # Faults, latency, recording
//
// Options.Faults fail chosen calls (the Nth start of fs#03, every stop of
// container#*); Options.Latency and LatencyOf make actions take time
// (honouring context cancellation); Options.Recorder records every call
// with its start and end times, for ordering assertions. Fault counters
// and the recorder live in the Registry value, never in globals.
//
// # Crashes
//
// Resource.Crash marks a fake down behind the service's back, as a crash
// would leave it (no check, not counted as a stop), and MarkDown does it
// on the state files of a var directory from another process: the way
// to test a resource monitor. Resource.FailNext makes the next n calls of
// an action fail, so that restarts can be exhausted.
//
// In a dry run (resource.IsDryRun), start, stop, provision and unprovision
// change nothing, wait for nothing and are neither checked nor counted;
// they are recorded with DryRun set. Status reads the state as usual.
//
// # Environment
//
// OptionsFromEnv reads options for programs that take a --fake flag:
//
//	SVCKIT_FAKE_LATENCY=20ms
//	    the latency of start, stop, provision and unprovision
//	SVCKIT_FAKE_LATENCY_OF=disk.gce=2s,start=50ms,fs#01:stop=1s
//	    latencies by rid, driver id or action, alone or as key:action
//	SVCKIT_FAKE_FAULTS=fs#03:start:2,container#*:stop::disk full
//	    comma-separated rid:action[:nth[:message]] faults; rid is a
//	    path.Match glob, nth 0 or empty means every call
//
// Fault counters are per process: with svcmgr, "the 2nd start of fs#03"
// means the 2nd within one invocation.
package fake
