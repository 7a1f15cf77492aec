package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireLoop skips t unless loop devices can be attached: root, the
// loop-control device and losetup.
func RequireLoop(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		Skip(t, "needs loop devices: %v", err)
	}
	RequireCommands(t, "losetup", "blkid")
}

// LoopDevice attaches a sparse file of size bytes, in a temporary
// directory of t, to a free loop device and returns the device path. The
// device is detached when t ends.
func LoopDevice(t testing.TB, size int64) string {
	t.Helper()
	RequireLoop(t)
	file := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(file)
	if err != nil {
		t.Fatalf("create %s: %v", file, err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		t.Fatalf("truncate %s: %v", file, err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "losetup", "--find", "--show", file).CombinedOutput()
	if err != nil {
		Skip(t, "no free loop device: losetup --find --show %s: %v: %s", file, err, strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { DetachLoop(t, dev) })
	return dev
}

// DetachLoop detaches dev, retrying while udev or a lazy unmount still
// holds it; a failure is reported as a test error.
func DetachLoop(t testing.TB, dev string) {
	t.Helper()
	var out []byte
	var err error
	for i := 0; i < 20; i++ {
		out, err = exec.Command("losetup", "-d", dev).CombinedOutput()
		if err == nil || strings.Contains(string(out), "No such device") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("losetup -d %s: %v: %s", dev, err, out)
}

// Unmount unmounts mnt when something is mounted there; a cleanup helper
// for tests that mount.
func Unmount(t testing.TB, mnt string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Errorf("read mountinfo: %v", err)
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == mnt {
			if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", mnt, err, out)
			}
			return
		}
	}
}

// SHA256File returns the hex SHA-256 of the file at path, read as a
// stream: data-safety tests compare it before and after an action.
func SHA256File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
