package localstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlerr/mlerr"
)

// The files of a run's artifacts.
const (
	artifactsDir   = "artifacts"       // <run>/artifacts/<path>: the files
	artifactsIndex = "artifacts.jsonl" // <run>/artifacts.jsonl: one line per file stored
	partialPrefix  = ".partial-"       // <run>/.partial-*: a copy under way
)

// maxIndexLine bounds a line of an artifact index or upload list.
const maxIndexLine = 64 << 10

var _ mlerr.ArtifactBackend = (*Store)(nil)

// artifactEntry is a line of a run's artifact index, written once its file
// is complete and durable; the upload lists of Replay use the same lines.
type artifactEntry struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	CRC  uint32 `json:"crc32c"`
	// Remote is, in an upload list, the remote run it went to (a run
	// uploaded again as a new one, see WithForce, gets its files again).
	Remote string `json:"remote_run_id,omitempty"`
}

// WriteArtifact stores size bytes of content as the artifact at path of the
// run, in the run's directory (artifacts/<path>), durably: the bytes go to
// a temporary file, which is fsynced, then renamed to its place, and only
// then is the file recorded, with its size and CRC-32C, in the run's
// artifact index (artifacts.jsonl, fsynced), which is what Replay uploads.
// A crash (even SIGKILL) in the middle leaves at most a temporary file that
// nothing uploads. Writing a path again replaces the file. A path that
// would leave the run's artifacts is an error of kind mlerr.ErrInvalidName;
// a run the store does not have, of kind mlerr.ErrRunNotFound; content
// shorter or longer than size, of kind mlerr.ErrInvalidValue.
func (s *Store) WriteArtifact(ctx context.Context, runID, path string, content io.Reader, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if why := badArtifactPath(path); why != "" {
		return mlerr.Permanent(mlerr.ErrInvalidName.Errorf("artifact path %q: %s", path, why))
	}
	if !ValidRunID(runID) {
		return mlerr.ErrRunNotFound.Errorf("no run %q: not a valid run id", runID)
	}
	dir := s.RunDir(runID)
	if _, err := readManifest(dir); err != nil {
		return err
	}
	e, err := s.copyArtifact(dir, path, content, size)
	if err != nil {
		return err
	}
	return appendLines(filepath.Join(dir, artifactsIndex), []artifactEntry{e}, s.mode)
}

// copyArtifact writes the file to a temporary name, fsyncs it and renames
// it to artifacts/<path>.
func (s *Store) copyArtifact(dir, path string, content io.Reader, size int64) (artifactEntry, error) {
	dest := filepath.Join(dir, artifactsDir, filepath.FromSlash(path))
	if err := mkdirsInside(dir, filepath.Dir(dest), dirMode(s.mode)); err != nil {
		return artifactEntry{}, err
	}
	tmp := filepath.Join(dir, partialPrefix+randomSuffix())
	e, err := writeDurable(tmp, content, size, s.mode)
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		os.Remove(tmp)
		return artifactEntry{}, err
	}
	e.Path = path
	return e, syncDir(filepath.Dir(dest))
}

// writeDurable copies size bytes of content to a new file at p, fsynced,
// and returns its size and checksum.
func writeDurable(p string, content io.Reader, size int64, mode fs.FileMode) (artifactEntry, error) {
	f, err := openInside(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return artifactEntry{}, err
	}
	h := crc32.New(castagnoli)
	n, err := copyArtifactBytes(io.MultiWriter(f, h), content)
	if err == nil && n != size {
		err = mlerr.ErrInvalidValue.Errorf("artifact: read %d bytes, expected %d", n, size)
	}
	return artifactEntry{Size: n, CRC: h.Sum32()}, syncClose(f, err)
}

// copyArtifactBytes copies src to dst; a variable so the crash test can
// slow it down.
var copyArtifactBytes = io.Copy

// mkdirsInside creates the directories from the run's directory down to
// dir, refusing links on the way.
func mkdirsInside(runDir, dir string, mode fs.FileMode) error {
	rel, err := filepath.Rel(runDir, dir)
	if err != nil {
		return err
	}
	cur := runDir
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if err := mkdirInside(cur, mode); err != nil {
			return err
		}
	}
	return nil
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// badArtifactPath says why p is not a relative, slash-separated path inside
// the run's artifacts, or "".
func badArtifactPath(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") || filepath.IsAbs(p) {
		return "want a relative path with / and no NUL"
	}
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." || part == ".." {
			return "an element is empty, . or .."
		}
	}
	return ""
}

// appendLines appends entries, one JSON line each, to the file at p, and
// fsyncs it.
func appendLines(p string, entries []artifactEntry, mode fs.FileMode) error {
	var buf []byte
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	f, err := openInside(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(buf)
	return syncClose(f, err)
}

// readLines reads an index or upload list: the last entry of each path, in
// the order the paths first came. A torn last line (a crash while
// appending) is ignored; a bad line before the last is corruption.
func readLines(p string) ([]artifactEntry, error) {
	f, err := openInside(p, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseLines(p, f)
}

func parseLines(p string, r io.Reader) ([]artifactEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxIndexLine)
	var out []artifactEntry
	at := map[string]int{}
	var bad error
	for n := 1; sc.Scan(); n++ {
		if bad != nil {
			return nil, bad
		}
		var e artifactEntry
		if err := json.Unmarshal(bytes.TrimSpace(sc.Bytes()), &e); err != nil || badArtifactPath(e.Path) != "" || e.Size < 0 {
			bad = corrupted(p, 0, "line %d is not an artifact entry", n)
			continue
		}
		if i, ok := at[e.Path]; ok {
			out[i] = e
			continue
		}
		at[e.Path] = len(out)
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, corrupted(p, 0, "%v", err)
	}
	return out, nil
}

// artifactTotals counts the artifacts of a run's index and their bytes.
func artifactTotals(runDir string) (n int, size int64, err error) {
	entries, err := readLines(filepath.Join(runDir, artifactsIndex))
	for _, e := range entries {
		size += e.Size
	}
	return len(entries), size, err
}

// openArtifact opens a stored artifact, checking its size and checksum
// against its entry first (an ErrCorrupted error when they differ), and
// returns it at its start.
func openArtifact(runDir string, e artifactEntry) (*os.File, error) {
	p := filepath.Join(runDir, artifactsDir, filepath.FromSlash(e.Path))
	if err := checkParents(runDir, p); err != nil {
		return nil, err
	}
	f, err := openInside(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err == nil && (n != e.Size || h.Sum32() != e.CRC) {
		err = corrupted(p, 0, "artifact %q: %d bytes with CRC-32C %08x, its index says %d bytes, %08x", e.Path, n, h.Sum32(), e.Size, e.CRC)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkParents refuses a link or non-directory among the directories from
// the run's directory down to the file at p.
func checkParents(runDir, p string) error {
	rel, err := filepath.Rel(runDir, filepath.Dir(p))
	if err != nil {
		return err
	}
	cur := runDir
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if err := checkDir(cur); err != nil {
			return fmt.Errorf("artifact %s: %w", p, err)
		}
	}
	return nil
}
