package fake

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by OptionsFromEnv.
const (
	EnvLatency   = "SVCKIT_FAKE_LATENCY"
	EnvLatencyOf = "SVCKIT_FAKE_LATENCY_OF"
	EnvFaults    = "SVCKIT_FAKE_FAULTS"
)

// OptionsFromEnv returns the options that SVCKIT_FAKE_LATENCY,
// SVCKIT_FAKE_LATENCY_OF and SVCKIT_FAKE_FAULTS describe (see the package
// documentation), for programs whose fakes are chosen on the command line.
// A malformed variable is an error naming it.
func OptionsFromEnv() (Options, error) {
	var opts Options
	if v := strings.TrimSpace(os.Getenv(EnvLatency)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Options{}, fmt.Errorf("%s=%q: expected a duration like 20ms", EnvLatency, v)
		}
		opts.Latency = d
	}
	if v := os.Getenv(EnvLatencyOf); strings.TrimSpace(v) != "" {
		m, err := ParseLatencies(v)
		if err != nil {
			return Options{}, fmt.Errorf("%s: %w", EnvLatencyOf, err)
		}
		opts.LatencyOf = m
	}
	if v := os.Getenv(EnvFaults); strings.TrimSpace(v) != "" {
		f, err := ParseFaults(v)
		if err != nil {
			return Options{}, fmt.Errorf("%s: %w", EnvFaults, err)
		}
		opts.Faults = f
	}
	return opts, nil
}

// ParseFaults reads comma-separated rid:action[:nth[:message]] faults:
// "fs#03:start:2,container#*:stop::disk full". The message cannot hold a
// comma.
func ParseFaults(v string) ([]Fault, error) {
	var out []Fault
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.SplitN(item, ":", 4)
		if len(parts) < 2 {
			return nil, fmt.Errorf("fault %q: expected rid:action[:nth[:message]], like fs#03:start:2", item)
		}
		f := Fault{RID: strings.TrimSpace(parts[0]), Action: strings.TrimSpace(parts[1])}
		if len(parts) > 2 && strings.TrimSpace(parts[2]) != "" {
			n, err := strconv.Atoi(strings.TrimSpace(parts[2]))
			if err != nil {
				return nil, fmt.Errorf("fault %q: nth %q is not a number: expected 0 (every call) or a call number from 1", item, parts[2])
			}
			f.Nth = n
		}
		if len(parts) > 3 {
			f.Message = strings.TrimSpace(parts[3])
		}
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("fault %q: %w", item, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseLatencies reads comma-separated key=duration pairs, the keys of
// Options.LatencyOf: "disk.gce=2s,start=50ms,fs#01:stop=1s".
func ParseLatencies(v string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, d, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("latency %q: expected key=duration, like disk.gce=2s", item)
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur < 0 {
			return nil, fmt.Errorf("latency %q: %q is not a duration like 20ms", item, strings.TrimSpace(d))
		}
		out[k] = dur
	}
	return out, nil
}
