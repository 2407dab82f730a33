package mlflow

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlerr/mlerr"
)

// artifactsAPI is the path of MLflow's artifact proxy under the tracking URI.
const artifactsAPI = "/api/2.0/mlflow-artifacts/artifacts"

// proxyScheme is the scheme of the artifact URIs of runs whose artifacts
// the tracking server proxies.
const proxyScheme = "mlflow-artifacts:"

// ArtifactFile is one entry of a run's artifact listing (ListArtifacts).
type ArtifactFile struct {
	// Path is the entry's path among the run's artifacts, slash-separated.
	Path string
	// IsDir is true for a directory.
	IsDir bool
	// Size is a file's size in bytes (0 for a directory).
	Size int64
}

var _ mlerr.ArtifactBackend = (*Backend)(nil)

// WriteArtifact uploads size bytes read from content as the artifact at path
// of run runID, through the tracking server's artifact proxy (a PUT to
// /api/2.0/mlflow-artifacts/artifacts/<the run's artifact root>/<path>; see
// the package doc). The content is streamed, never held in memory; the
// server writes it under a temporary name and renames it once complete, so
// an upload cut short leaves nothing and writing the path again replaces
// the artifact (a retry stores it once).
//
// The run's artifact root is read from its artifact_uri (runs/get) once per
// run. A run whose artifacts the server does not proxy (its artifact_uri is
// not mlflow-artifacts:, as with `mlflow server --no-serve-artifacts`), and
// a server answering that artifact serving is disabled, give a permanent
// error of kind mlerr.ErrNotImplemented (code NOT_IMPLEMENTED): no retry can
// help. The server's refusal of the path (400 INVALID_PARAMETER_VALUE
// "Invalid path") is a permanent error too; other answers are decoded as
// Client's are.
func (b *Backend) WriteArtifact(ctx context.Context, runID, path string, content io.Reader, size int64) error {
	root, err := b.artifactRoot(ctx, runID)
	if err != nil {
		return err
	}
	err = b.c.putArtifact(ctx, root+"/"+path, content, size)
	if e := mlerr.AsError(err); e != nil && e.HTTPStatus() == http.StatusBadRequest {
		return mlerr.Permanent(err) // the path or content: this file's alone
	}
	return err
}

// artifactRoot returns the proxy path of the run's artifacts, cached.
func (b *Backend) artifactRoot(ctx context.Context, runID string) (string, error) {
	b.mu.Lock()
	root, ok := b.roots[runID]
	b.mu.Unlock()
	if ok {
		return root, nil
	}
	root, err := b.c.artifactRoot(ctx, runID)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	if b.roots == nil {
		b.roots = map[string]string{}
	}
	b.roots[runID] = root
	b.mu.Unlock()
	return root, nil
}

// artifactRoot reads the run's artifact_uri and returns its path in the
// artifact proxy ("<experiment>/<run>/artifacts").
func (c *Client) artifactRoot(ctx context.Context, runID string) (string, error) {
	run, err := c.GetRun(ctx, runID)
	if err != nil {
		return "", runGone(err, runID)
	}
	return proxyPath(runID, run.Info.ArtifactURI)
}

// proxyPath turns an mlflow-artifacts: URI into a path of the artifact
// proxy, or says why the run's artifacts cannot go through it.
func proxyPath(runID, uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, proxyScheme)
	if !ok {
		return "", mlerr.Permanent(notServed(runID, "its artifact_uri is "+quote(uri)+", not "+proxyScheme+"/...: the tracking server does not proxy artifacts (it was started with --no-serve-artifacts or an artifact root the client would have to reach itself)"))
	}
	if strings.HasPrefix(rest, "//") {
		return "", mlerr.Permanent(notServed(runID, "its artifact_uri "+quote(uri)+" names another artifact server"))
	}
	return strings.Trim(rest, "/"), nil
}

// notServed is the error of a run whose artifacts cannot be uploaded.
func notServed(runID, why string) error {
	return mlerr.New(mlerr.CodeNotImplemented, "mlflow: cannot upload the artifacts of run "+runID+": "+why).WithKind(mlerr.ErrNotImplemented)
}

// artifactURL returns the URL of a path of the artifact proxy ("" for its
// top), with query.
func (c *Client) artifactURL(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + artifactsAPI
	if path != "" {
		u.Path += "/" + path
	}
	u.RawQuery = query.Encode()
	return u.String()
}

// putArtifact streams size bytes of content to the proxy path.
func (c *Client) putArtifact(ctx context.Context, path string, content io.Reader, size int64) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.artifactURL(path, nil), io.NopCloser(io.LimitReader(content, size)))
	if err != nil {
		return mlerr.ErrInvalidURL.Errorf("mlflow: cannot build the artifact upload request: %w", err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	return nil
}

// send sends an artifact request with the Client's headers and decodes a
// non-2xx answer.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	c.setHeaders(req)
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, artifactError(c.decodeError(resp))
	}
	return resp, nil
}

// artifactError gives the proxy's "artifact serving is disabled" answer (a
// 503, which would otherwise be retried) the kind mlerr.ErrNotImplemented,
// permanent; other errors are returned as they are.
func artifactError(err error) error {
	e := mlerr.AsError(err)
	if e == nil || e.HTTPStatus() != http.StatusServiceUnavailable {
		return err
	}
	msg := e.Message()
	if !strings.Contains(msg, "Artifact serving is disabled") && !strings.Contains(msg, "--no-serve-artifacts") {
		return err
	}
	return mlerr.Permanent(mlerr.New(mlerr.CodeNotImplemented, "mlflow: the tracking server does not serve artifacts (it runs with --no-serve-artifacts): start it with --serve-artifacts, the default").
		WithKind(mlerr.ErrNotImplemented).WithHTTPStatus(e.HTTPStatus()).WithCause(err))
}

// withTimeout bounds ctx by the Client's request timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > c.timeout {
			return context.WithTimeout(ctx, c.timeout)
		}
	}
	return ctx, func() {}
}

// DownloadArtifact writes the content of the artifact at path (relative to
// the run's artifacts, slash-separated) of run runID to w, streaming, and
// returns the number of bytes written. A missing artifact is the server's
// 404 RESOURCE_DOES_NOT_EXIST error, a directory its 400; a run whose
// artifacts the server does not proxy an error of kind
// mlerr.ErrNotImplemented (see Backend.WriteArtifact).
func (c *Client) DownloadArtifact(ctx context.Context, runID, path string, w io.Writer) (int64, error) {
	root, err := c.artifactRoot(ctx, runID)
	if err != nil {
		return 0, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.artifactURL(root+"/"+path, nil), nil)
	if err != nil {
		return 0, mlerr.ErrInvalidURL.Errorf("mlflow: cannot build the artifact download request: %w", err)
	}
	resp, err := c.send(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}

// ListArtifacts lists the entries of the directory dir ("" for the top) of
// run runID's artifacts, one level, as MLflow's list_artifacts does; their
// paths are relative to the run's artifacts. A directory that does not
// exist, or a file, lists nothing (the server answers {}).
func (c *Client) ListArtifacts(ctx context.Context, runID, dir string) ([]ArtifactFile, error) {
	root, err := c.artifactRoot(ctx, runID)
	if err != nil {
		return nil, err
	}
	full := strings.TrimSuffix(root+"/"+dir, "/")
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.artifactURL("", url.Values{"path": {full}}), nil)
	if err != nil {
		return nil, mlerr.ErrInvalidURL.Errorf("mlflow: cannot build the artifact listing request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeListing(resp.Body, dir)
}

// listingJSON is the proxy's answer to a listing.
type listingJSON struct {
	Files []struct {
		Path  string    `json:"path"`
		IsDir bool      `json:"is_dir"`
		Size  jsonInt64 `json:"file_size"`
	} `json:"files"`
}

// decodeListing reads a listing of dir, giving each entry its path among
// the run's artifacts.
func decodeListing(body io.Reader, dir string) ([]ArtifactFile, error) {
	var l listingJSON
	if err := json.NewDecoder(io.LimitReader(body, maxResponseBytes)).Decode(&l); err != nil {
		return nil, mlerr.ErrRest.Errorf("mlflow: the artifact listing is not the expected JSON: %w", err)
	}
	out := make([]ArtifactFile, 0, len(l.Files))
	for _, f := range l.Files {
		p := f.Path
		if dir != "" {
			p = strings.TrimSuffix(dir, "/") + "/" + f.Path
		}
		out = append(out, ArtifactFile{Path: p, IsDir: f.IsDir, Size: int64(f.Size)})
	}
	return out, nil
}
