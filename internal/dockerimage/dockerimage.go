// Package dockerimage builds small local Docker images without a registry,
// for svckit's tests and example programs: an image is FROM scratch and
// holds nothing but a static Go binary built on the spot by the go
// command, which therefore must be in PATH.
//
// The only program so far is sleeper (see sleeper/main.go): it runs until
// SIGTERM, and its flags -write and -listen let a caller check what reached
// the container. Its source lives in the directory sleeper as a main
// package of its own, so that go vet ./... and go build ./... check it
// like any other code (go install ./... would also install a sleeper
// binary: harmless). This package embeds that source, so it builds the
// image from any working directory and from a binary built with -trimpath.
package dockerimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

//go:embed sleeper/main.go
var sleeperSource []byte

// Sleeper returns the reference of a local FROM-scratch image of the
// sleeper program whose entrypoint is /sleeper followed by args, building
// it when absent. ref is repo:<12 hex of sha256(source + args)>, so an edit
// or other args make another tag. labels are set on the image when it is
// built; they are not part of the tag, so an image found under ref keeps
// the labels it was built with.
func Sleeper(ctx context.Context, cli *client.Client, repo string, labels map[string]string, args ...string) (string, error) {
	ref := repo + ":" + tag(sleeperSource, args)
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect %s: %w", ref, err)
	}
	bin, err := goBuild(ctx, sleeperSource)
	if err != nil {
		return "", fmt.Errorf("build sleeper: %w", err)
	}
	dockerfile, err := dockerfile("sleeper", args)
	if err != nil {
		return "", err
	}
	if err := build(ctx, cli, ref, labels, dockerfile, "sleeper", bin); err != nil {
		return "", err
	}
	return ref, nil
}

// Tag gives ref a further name (docker tag).
func Tag(ctx context.Context, cli *client.Client, ref, newRef string) error {
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: ref, Target: newRef}); err != nil {
		return fmt.Errorf("tag %s as %s: %w", ref, newRef, err)
	}
	return nil
}

// tag returns the first 12 hex digits of the sha256 of src followed by
// each arg after a NUL byte (which no argument holds, so that different
// lists never hash alike). Without args it is the hash of src alone.
func tag(src []byte, args []string) string {
	h := sha256.New()
	h.Write(src)
	for _, a := range args {
		h.Write([]byte{0})
		h.Write([]byte(a))
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// dockerfile returns the Dockerfile of an image holding only the binary
// name, at /name, with /name followed by args as its entrypoint.
func dockerfile(name string, args []string) ([]byte, error) {
	var entry bytes.Buffer
	enc := json.NewEncoder(&entry)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(append([]string{"/" + name}, args...)); err != nil {
		return nil, err
	}
	// Encode ends the JSON with a newline, which ends the instruction.
	return []byte("FROM scratch\nCOPY " + name + " /" + name + "\nENTRYPOINT " + entry.String()), nil
}

// goBuild builds the main package of the single file src into a static
// Linux binary and returns its content. The file is built alone, outside
// any module or workspace, so it may only import the standard library.
func goBuild(ctx context.Context, src []byte) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is needed to build the image: %w", err)
	}
	tmp, err := os.MkdirTemp("", "svckit-dockerimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "main.go"), src, 0o644); err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "bin")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "main.go")
	cmd.Dir = tmp
	// GOPATH mode: no go.mod or go.work around the temporary directory
	// (nor a GOFLAGS of the caller) has a say in the build.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=", "GO111MODULE=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, out)
	}
	return os.ReadFile(bin)
}

// build builds the image ref of dockerfile, with the executable binData
// named name in its build context.
func build(ctx context.Context, cli *client.Client, ref string, labels map[string]string, dockerfile []byte, name string, binData []byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, dockerfile},
		{name, 0o755, binData},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}

	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		Dockerfile:  "Dockerfile",
		Labels:      labels,
	})
	if err != nil {
		return fmt.Errorf("image build: %w", err)
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
			return fmt.Errorf("image build output: %w", err)
		}
		log.WriteString(m.Stream)
		if m.Error != "" {
			return fmt.Errorf("image build: %s\n%s", m.Error, log.String())
		}
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		return fmt.Errorf("image %s not found after build: %w\n%s", ref, err, log.String())
	}
	return nil
}
