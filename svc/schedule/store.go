package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/svckit/svckit/internal/atomicfile"
)

// maxRecordSize bounds a last-run file read back: a record is ~100 bytes,
// and a corrupt or hostile huge file must not be read into memory.
const maxRecordSize = 64 << 10

// Record is what a Store keeps of a task: when its last run started, and
// when the last run that succeeded started.
type Record struct {
	Task        string    `json:"task"`
	LastRun     time.Time `json:"last_run"`
	LastSuccess time.Time `json:"last_success,omitzero"`
}

// Store keeps the last runs of tasks across restarts, one JSON file per
// task (<dir>/<task>.json), each written atomically (a crash leaves the old
// record or the new one), and read inside the directory only (os.Root: a
// symbolic link cannot lead elsewhere).
type Store struct {
	dir string
}

// NewStore returns a store under dir. The directory is created on the
// first Save.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(task string) string { return filepath.Join(s.dir, task+".json") }

// Load reads the record of task. A task never recorded has a zero record
// and no error; a file that is not a record of that task is an error
// naming the file.
func (s *Store) Load(ctx context.Context, task string) (Record, error) {
	if err := CheckTaskName(task); err != nil {
		return Record{}, err
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	path := s.path(task)
	root, err := os.OpenRoot(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{Task: task}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("last run of %s: %w", task, err)
	}
	defer root.Close()
	f, err := root.Open(task + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return Record{Task: task}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("last run of %s: %w", task, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxRecordSize {
		return Record{}, fmt.Errorf("%s: malformed last-run file: larger than %d bytes, expected a JSON record like {\"task\":%q,\"last_run\":\"2026-01-02T03:04:05Z\"}", path, maxRecordSize, task)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("%s: malformed last-run file: %v; expected a JSON record like {\"task\":%q,\"last_run\":\"2026-01-02T03:04:05Z\"}", path, err, task)
	}
	if r.Task != task {
		return Record{}, fmt.Errorf("%s: malformed last-run file: it records task %q, expected %q", path, r.Task, task)
	}
	return r, nil
}

// Save writes the record of r.Task atomically.
func (s *Store) Save(ctx context.Context, r Record) error {
	if err := CheckTaskName(r.Task); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("last run of %s: %w", r.Task, err)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("last run of %s: %w", r.Task, err)
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return fmt.Errorf("last run of %s: %w", r.Task, err)
	}
	defer root.Close()
	if err := atomicfile.WriteFileIn(root, r.Task+".json", append(data, '\n'), 0o644, atomicfile.Keep); err != nil {
		return fmt.Errorf("last run of %s: %w", r.Task, err)
	}
	return nil
}

// CheckTaskName accepts the names the reference gives its tasks
// ("compliance_auto", "sync#i0", "status.schedule") and refuses what would
// not be a plain file name: 1 to 128 of letters, digits, and . _ - # @ +,
// not starting with a dot.
func CheckTaskName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("task name %q: %s; expected 1 to 128 letters, digits or . _ - # @ +, not starting with a dot", name, why)
	}
	if name == "" || len(name) > 128 {
		return bad("bad length")
	}
	if name[0] == '.' {
		return bad("starts with a dot")
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-', c == '#', c == '@', c == '+':
		default:
			return bad(fmt.Sprintf("character %q", c))
		}
	}
	return nil
}
