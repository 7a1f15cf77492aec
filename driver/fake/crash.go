package fake

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Crash marks the resource down behind the service's back, as a crash
// leaves it (a container killed, a filesystem unmounted by hand): no
// ordering check, no fault, no latency, and it is not counted nor
// recorded as a stop. What uses the resource keeps its own state, except
// an ip.docker in a crashed container, which goes down with it and stays
// down once the container is started again (a new network namespace), as
// on a real host. Tests
// of a monitor use it to inject failures:
//
//	r, _ := s.Resource("container#01db")
//	err := r.(*fake.Resource).Crash(ctx)
//
// MarkDown does the same from another process (svcmgr --fake, a daemon
// run with --fake), on the state files of a var directory.
func (r *Resource) Crash(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l := r.svc.lock(r.ID)
	l.Lock()
	defer l.Unlock()
	st, _, err := r.svc.read(r.ID)
	if err != nil {
		return err
	}
	st.RID, st.Driver, st.Up = r.ID, r.Driver, false
	st.Updated = time.Now().UTC()
	return r.svc.write(st)
}

// FailNext makes the next n calls of action (start, stop, provision,
// unprovision or status) on this resource fail with ErrInjected, on top
// of Options.Faults: a crashed resource whose restarts fail, to exhaust
// a monitor's restarts. n <= 0 clears it.
func (r *Resource) FailNext(action string, n int) error {
	if !isAction(action) {
		return fmt.Errorf("fake %s: fail next: unknown action %q: expected one of %v", r.ID, action, actions)
	}
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	k := counterKey{r.svc.key, r.ID, action}
	if n <= 0 {
		delete(r.f.failNext, k)
	} else {
		r.f.failNext[k] = n
	}
	return nil
}

// takeFailNext consumes one of the failures FailNext asked for.
func (f *fakes) takeFailNext(svcKey, rid, action string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := counterKey{svcKey, rid, action}
	n := f.failNext[k]
	if n <= 0 {
		return false
	}
	if n == 1 {
		delete(f.failNext, k)
	} else {
		f.failNext[k] = n - 1
	}
	return true
}

// MarkDown marks the fake resource rid of the service whose var directory
// is varDir down in its state file, as Crash does, for a fake run in
// another process (state files are read on every call, so that process
// sees it at its next status). It fails when varDir holds no state for
// rid: a resource never started cannot crash.
func MarkDown(varDir, rid string) error {
	if g, name, ok := strings.Cut(rid, "#"); !ok || g == "" || name == "" || strings.ContainsAny(rid, `/\`) || strings.Contains(rid, "..") {
		return fmt.Errorf("fake: mark down %q: expected a resource id like container#01db", rid)
	}
	st, ok, err := readStateFile(varDir, rid)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("fake %s: no state in %s: expected a resource started by a fake", rid, stateDir(varDir))
	}
	st.Up = false
	st.Updated = time.Now().UTC()
	return writeStateFile(varDir, st)
}
