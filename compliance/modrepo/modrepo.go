// Package modrepo downloads the compliance module archive from a module
// repository and installs it in the modules directory, as the reference's
// `nodemgr updatecomp` does: the archive at <node.repocomp>/current (or
// <node.repo>/compliance/current) is a tar, gzipped or not, whose entries
// are under compliance/; that tree becomes the modules directory.
//
// Unlike the reference, which extracts whatever the archive names, an
// entry that would land outside the new tree (absolute path, "..", a
// symbolic or hard link leading out, a path through a link) is refused, as
// are devices and FIFOs, and the size and the number of entries are
// bounded. The new tree is unpacked beside the modules directory and
// swapped in with one rename, the previous tree kept as <dir>.bck; a failed
// download or a refused archive leaves the installed modules untouched.
package modrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Options bounds a download and an install. Zero values are the defaults.
type Options struct {
	// Client makes the request; nil is a client with Timeout.
	Client *http.Client
	// Timeout bounds the whole download; 0 is 5 minutes.
	Timeout time.Duration
	// MaxArchiveSize bounds the downloaded archive, in bytes; 0 is 64 MiB.
	MaxArchiveSize int64
	// MaxTreeSize bounds the unpacked files' total size; 0 is 256 MiB.
	MaxTreeSize int64
	// MaxEntries bounds the number of archive entries; 0 is 10000.
	MaxEntries int
	// Root, when set, is the directory the modules directory is a path
	// inside: it is resolved there with os.Root, and no symbolic link
	// leads the install out of it (nodemgr --root).
	Root string
}

func (o Options) withDefaults() Options {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.MaxArchiveSize == 0 {
		o.MaxArchiveSize = 64 << 20
	}
	if o.MaxTreeSize == 0 {
		o.MaxTreeSize = 256 << 20
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = 10000
	}
	return o
}

// Result is what an update installed.
type Result struct {
	URL     string   `json:"url,omitempty"`
	SHA256  string   `json:"sha256"`
	Size    int64    `json:"size"`    // archive bytes
	Dir     string   `json:"dir"`     // the modules directory
	Backup  string   `json:"backup"`  // the previous tree, "" when there was none
	Modules []string `json:"modules"` // the NN-name modules installed, sorted
	Entries int      `json:"entries"` // archive entries unpacked
	Bytes   int64    `json:"bytes"`   // unpacked file bytes
}

// ArchiveURL is the archive's address as the reference builds it:
// <repocomp>/current when node.repocomp is set, else
// <repo>/compliance/current. Only http and https are accepted.
func ArchiveURL(repocomp, repo string) (string, error) {
	var u string
	switch {
	case repocomp != "":
		u = strings.TrimRight(repocomp, "/") + "/current"
	case repo != "":
		u = strings.TrimRight(repo, "/") + "/compliance/current"
	default:
		return "", errors.New("node.repocomp or node.repo must be set in node.conf")
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("archive url %q: %w", u, err)
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("archive url %q: expected http:// or https:// with a host", u)
	}
	return u, nil
}

// Update downloads the archive at url and installs it in dir (see
// Install), under one lock: the download goes to a file beside dir,
// removed afterwards.
func Update(ctx context.Context, url, dir string, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	p, err := openPlace(dir, opts)
	if err != nil {
		return nil, err
	}
	defer p.close()
	unlock, err := p.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := p.tempName("download")
	tmp, err := p.parent.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	defer func() {
		tmp.Close()
		p.parent.Remove(name)
	}()
	sum, size, err := Download(ctx, url, tmp, opts)
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("updatecomp: %w", err)
	}
	res, err := p.install(ctx, tmp, opts)
	if err != nil {
		return nil, err
	}
	res.URL, res.SHA256, res.Size = url, sum, size
	return res, nil
}

// Download writes the archive at url into w, at most
// Options.MaxArchiveSize bytes, and returns its sha256 and size.
func Download(ctx context.Context, url string, w io.Writer, opts Options) (string, int64, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, fmt.Errorf("updatecomp: get %s: %w", url, err)
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("updatecomp: get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("updatecomp: get %s: %s", url, resp.Status)
	}
	if resp.ContentLength > opts.MaxArchiveSize {
		return "", 0, fmt.Errorf("updatecomp: get %s: archive of %d bytes, more than the %d allowed", url, resp.ContentLength, opts.MaxArchiveSize)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, opts.MaxArchiveSize+1))
	if err != nil {
		return "", 0, fmt.Errorf("updatecomp: get %s: %w", url, err)
	}
	if n > opts.MaxArchiveSize {
		return "", 0, fmt.Errorf("updatecomp: get %s: archive larger than the %d bytes allowed", url, opts.MaxArchiveSize)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
