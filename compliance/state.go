package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/gofrs/flock"

	"github.com/svckit/svckit/internal/atomicfile"
)

// state is the attachments file: the modulesets attached to the node and
// to each service.
type state struct {
	Node     []string            `json:"node"`
	Services map[string][]string `json:"services,omitempty"`
}

func (e *Engine) statePath() string { return filepath.Join(e.opts.VarDir, "attachments.json") }

func readState(path string) (*state, error) {
	st := &state{Services: map[string][]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("compliance: %s: %w", path, err)
	}
	if st.Services == nil {
		st.Services = map[string][]string{}
	}
	return st, nil
}

func (st *state) list(svc string) []string {
	if svc == "" {
		return st.Node
	}
	return st.Services[svc]
}

func (st *state) set(svc string, l []string) {
	sort.Strings(l)
	if svc == "" {
		st.Node = l
		return
	}
	if len(l) == 0 {
		delete(st.Services, svc)
		return
	}
	st.Services[svc] = l
}

// Attached lists the modulesets attached to the node (or to the service of
// Options.Service).
func (e *Engine) Attached(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := readState(e.statePath())
	if err != nil {
		return nil, err
	}
	return st.list(e.opts.Service), nil
}

// Attach attaches modulesets; each must be defined in the export.
func (e *Engine) Attach(ctx context.Context, names ...string) error {
	for _, n := range names {
		if _, ok := e.export.Moduleset(n); !ok {
			return &UnknownModulesetError{Name: n, Known: e.export.ModulesetNames()}
		}
	}
	return e.updateState(ctx, func(l []string) []string {
		for _, n := range names {
			if !slices.Contains(l, n) {
				l = append(l, n)
			}
		}
		return l
	})
}

// Detach detaches modulesets; detaching one not attached is an error so a
// typo does not pass for success.
func (e *Engine) Detach(ctx context.Context, names ...string) error {
	var missing error
	err := e.updateState(ctx, func(l []string) []string {
		for _, n := range names {
			i := slices.Index(l, n)
			if i < 0 {
				missing = fmt.Errorf("compliance: moduleset %q is not attached", n)
				continue
			}
			l = slices.Delete(l, i, i+1)
		}
		return l
	})
	if err != nil {
		return err
	}
	return missing
}

func (e *Engine) updateState(ctx context.Context, f func([]string) []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := e.statePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("compliance: %w", err)
	}
	// Two nodemgr runs attaching at once must not lose one another's change.
	lk := flock.New(path + ".lock")
	if err := lk.Lock(); err != nil {
		return fmt.Errorf("compliance: lock %s: %w", path, err)
	}
	defer lk.Unlock()
	st, err := readState(path)
	if err != nil {
		return err
	}
	st.set(e.opts.Service, f(append([]string(nil), st.list(e.opts.Service)...)))
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644, atomicfile.Keep); err != nil {
		return fmt.Errorf("compliance: %w", err)
	}
	return nil
}
