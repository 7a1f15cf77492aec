package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Docker returns a client of the local Docker daemon, or skips t when
// there is none (or the test is not root: the drivers' tests also need
// the container's namespaces).
func Docker(t testing.TB) *client.Client {
	t.Helper()
	RequireRoot(t)
	cli, err := client.New(client.FromEnv)
	if err != nil {
		Skip(t, "no docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		Skip(t, "no docker daemon: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// sleeperDir is the directory of the test image's program.
func sleeperDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the testenv package sources")
	}
	return filepath.Join(filepath.Dir(file), "testdata", "sleeper"), nil
}

// SleeperImage returns the reference of a local image made of nothing but
// a static Go binary (testdata/sleeper) that runs until SIGTERM, building
// it when absent. No registry is involved: the image is FROM scratch. The
// tag carries a hash of the program's source, so an edit rebuilds it.
//
// The image's entrypoint is /sleeper; its command arguments are the
// program's flags (-write FILE).
func SleeperImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ref, err := buildSleeper(ctx, cli)
	if err != nil {
		t.Fatalf("build the test image: %v", err)
	}
	return ref
}

func buildSleeper(ctx context.Context, cli *client.Client) (string, error) {
	dir, err := sleeperDir()
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(src)
	ref := "svckit-test-sleeper:" + hex.EncodeToString(sum[:6])
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect %s: %w", ref, err)
	}

	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build the test image: %w", err)
	}
	tmp, err := os.MkdirTemp("", "svckit-sleeper-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "sleeper")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build sleeper: %v: %s", err, out)
	}
	binData, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY sleeper /sleeper\nENTRYPOINT [\"/sleeper\"]\n")},
		{"sleeper", 0o755, binData},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}

	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		Dockerfile:  "Dockerfile",
		Labels:      map[string]string{"com.svckit.test": "sleeper"},
	})
	if err != nil {
		return "", fmt.Errorf("image build: %w", err)
	}
	defer res.Body.Close()
	// The build outcome is in the JSON message stream, not in the HTTP
	// status: read it to the end and look for an error message.
	dec := json.NewDecoder(res.Body)
	var log strings.Builder
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("image build output: %w", err)
		}
		log.WriteString(m.Stream)
		if m.Error != "" {
			return "", fmt.Errorf("image build: %s\n%s", m.Error, log.String())
		}
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		return "", fmt.Errorf("image %s not found after build: %w\n%s", ref, err, log.String())
	}
	return ref, nil
}

// RemoveContainer force-removes the container name when t ends, whatever
// state the test left it in.
func RemoveContainer(t testing.TB, cli *client.Client, name string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove container %s: %v", name, err)
		}
	})
}
