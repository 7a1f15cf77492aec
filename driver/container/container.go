// Package container holds the keyword manifests and the specs of the
// container drivers, with the parser of docker run options (run_args).
// The implementation lives in container/docker; driver/fake builds its
// stand-ins from the same specs.
package container

import "github.com/svckit/svckit/driver"

// Docker is the manifest of container.docker.
var Docker = driver.Manifest{
	ID:   "container.docker",
	Text: "a Docker container",
	Spec: driver.SpecOf(ParseDockerSpec),
	Keywords: []driver.Keyword{
		{Name: "run_image", Kind: driver.String, Required: true, Scopable: true, Text: "the image"},
		{Name: "run_args", Kind: driver.Shell, Scopable: true, Text: "docker run options (--net, -e, -v, -p, --hostname, ...), shell-quoted, may span lines"},
		{Name: "run_command", Kind: driver.Shell, Scopable: true, Text: "the command and arguments given to the image"},
		{Name: "name", Kind: driver.String, Scopable: true, Claim: "container.name", ClaimOf: func(cfg driver.Config) []string { return []string{Name(cfg)} },
			Text: "the container name (default: <svcname>.<rid with # as .>)"},
		{Name: "stop_timeout", Kind: driver.Duration, Scopable: true, Default: "10s", Text: "how long stop waits before killing"},
		{Name: "pull", Kind: driver.String, Scopable: true, Default: "missing", Candidates: []string{"missing", "always", "never"}, Text: "when start pulls the image"},
		{Name: "start_timeout", Kind: driver.Duration, Scopable: true, Default: "30s", Text: "how long start waits for the container to run"},
	},
}

// Manifests lists every container manifest.
func Manifests() []driver.Manifest { return []driver.Manifest{Docker, Dockerd} }

// Name returns the container name of a container section: its name
// keyword, else "<svcname>.<rid with # as .>" ("spdsvc01.container.01db").
func Name(cfg driver.Config) string {
	if n := cfg.String("name"); n != "" {
		return n
	}
	return cfg.DeviceName()
}
