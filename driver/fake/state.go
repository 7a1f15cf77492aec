package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/svckit/svckit/internal/atomicfile"
)

// State is what a fake remembers of its resource, in
// <VarDir>/fake/<rid>.json.
type State struct {
	RID         string `json:"rid"`
	Driver      string `json:"driver"`
	Up          bool   `json:"up"`
	Provisioned bool   `json:"provisioned"`
	// CreatedByProvision is set when Provision made the resource
	// provisioned: a fake disk that was provisioned before (its state saved
	// with provisioned true, as a disk that exists) is kept by Unprovision
	// unless forced, as the real disk drivers keep what they did not create.
	CreatedByProvision bool `json:"created_by_provision,omitempty"`
	// ContainerID is the id of a fake container, set once provisioned or
	// started.
	ContainerID string `json:"container_id,omitempty"`
	// Starts counts the times the resource went from down to up. For a
	// container it numbers its network namespaces.
	Starts int `json:"starts,omitempty"`
	// Netns is, for an ip.docker, the Starts of its container when the
	// address was plumbed: a later restart of the container made a new
	// namespace without the address.
	Netns   int       `json:"netns,omitempty"`
	Updated time.Time `json:"updated"`
}

// stateDir is the directory of the state files of a var directory.
func stateDir(varDir string) string { return filepath.Join(varDir, "fake") }

func stateFile(varDir, rid string) string {
	return filepath.Join(stateDir(varDir), rid+".json")
}

// readStateFile returns the state of rid, and false when none was saved.
func readStateFile(varDir, rid string) (State, bool, error) {
	b, err := os.ReadFile(stateFile(varDir, rid))
	if errors.Is(err, fs.ErrNotExist) {
		return State{RID: rid}, false, nil
	}
	if err != nil {
		return State{RID: rid}, false, fmt.Errorf("read fake state of %s: %w", rid, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{RID: rid}, false, fmt.Errorf("fake state of %s in %s: %w", rid, stateFile(varDir, rid), err)
	}
	return st, true, nil
}

// writeStateFile saves st atomically: a reader in another process sees the
// old file or the new one, never a part, and a crash keeps one of them.
func writeStateFile(varDir string, st State) error {
	dir := stateDir(varDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save fake state of %s: %w", st.RID, err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("save fake state of %s: %w", st.RID, err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(stateFile(varDir, st.RID), b, 0o600); err != nil {
		return fmt.Errorf("save fake state of %s: %w", st.RID, err)
	}
	return nil
}
