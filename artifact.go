package mlerr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// An ArtifactBackend is a Backend that stores the files logged to a run
// (Run.LogArtifact, LogArtifacts, LogBytes, LogText, LogJSON). On a Backend
// that is not one, those calls fail with an error of kind ErrNotImplemented.
type ArtifactBackend interface {
	Backend
	// WriteArtifact stores the size bytes read from content as the run's
	// artifact at path (slash-separated, relative to the run's artifacts,
	// never escaping them), replacing an artifact of that path: writing it
	// again, as a retry does with content from the start, stores it once.
	// It must return when ctx is done. A refusal that concerns this file
	// only (the server refused its name or size, say) is a permanent error;
	// any other error is judged as for WriteBatch.
	WriteArtifact(ctx context.Context, runID, path string, content io.Reader, size int64) error
}

// LogArtifact logs the file at localPath as an artifact of the run, under
// the directory artifactPath ("" for the top; slash-separated, relative)
// with the file's own name, as MLflow's log_artifact does. The file is
// copied when the call is made (a file written again afterwards does not
// change what is uploaded); the upload goes in the background, in order
// with the run's other entries, through the retry policy, and Wait and
// Close wait for it.
//
// A missing file, a directory, or an artifact path that would escape the
// run's artifacts (an absolute path, "..") is refused at the call with an
// error of kind ErrInvalidValue (ErrInvalidName for the path); a backend
// that stores no artifacts with one of kind ErrNotImplemented. An upload
// that fails for good goes to OnError, its item in LostItems: Kind
// ItemArtifact, Key the artifact's path, Text the local file.
func (r *Run) LogArtifact(localPath, artifactPath string) error {
	return r.logFiles(context.Background(), func(s *stager) { s.file(localPath, artifactPath) })
}

// LogArtifacts logs every file of the directory tree at localDir as
// artifacts under artifactPath, keeping their paths relative to localDir,
// as MLflow's log_artifacts does. Files that cannot be read at the call
// are refused, the others logged: the error is then an *Error caused by a
// *BatchError[Item] of exactly the files refused (LostItems). Each file is
// then uploaded as by LogArtifact; the files of one call that fail for good
// are reported together, in one OnError event whose LostItems are exactly
// them, the others stored: RetryFailed on it, with an operation that logs
// the items again (Run.LogItems), retries only those.
func (r *Run) LogArtifacts(localDir, artifactPath string) error {
	return r.logFiles(context.Background(), func(s *stager) { s.tree(localDir, artifactPath) })
}

// LogBytes logs data as the artifact at artifactFile (a slash-separated
// file path, relative to the run's artifacts), as LogArtifact does a file;
// data is copied at the call.
func (r *Run) LogBytes(data []byte, artifactFile string) error {
	return r.logFiles(context.Background(), func(s *stager) { s.bytes(data, artifactFile) })
}

// LogText logs text as the artifact at artifactFile, as LogBytes.
func (r *Run) LogText(text, artifactFile string) error {
	return r.LogBytes([]byte(text), artifactFile)
}

// LogJSON logs v, encoded as indented JSON, as the artifact at
// artifactFile, as MLflow's log_dict does; a value that does not encode is
// refused with an error of kind ErrInvalidValue.
func (r *Run) LogJSON(v any, artifactFile string) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ErrInvalidValue.Wrap(err, "artifact "+quoteKey(artifactFile)+": the value does not encode as JSON")
	}
	return r.LogBytes(append(data, '\n'), artifactFile)
}

// logFiles stages the files add names, without any lock (copying takes the
// time it takes, never the network's), then queues them as one call.
func (r *Run) logFiles(ctx context.Context, add func(*stager)) error {
	if err := r.out.closedFast(); err != nil {
		return err
	}
	if _, ok := r.backend.(ArtifactBackend); !ok {
		return ErrNotImplemented.New("the backend stores no artifacts (it is not an mlerr.ArtifactBackend)")
	}
	s := &stager{area: &r.staging, now: r.clock.Now()}
	add(s)
	return r.logStaged(ctx, s)
}

// logStaged queues the staged files and reports the refused ones, as a log
// call does its entries.
func (r *Run) logStaged(ctx context.Context, s *stager) error {
	c, err := r.begin(ctx, len(s.out), func() (need int) {
		for i := range s.out {
			need += itemSize(&s.out[i].item)
		}
		return need
	}, s.now)
	if err != nil {
		s.discard()
		return err
	}
	for i := range s.out {
		c.artifact(s, i, i)
	}
	return r.end(c, nil)
}

// stager copies the files of one call into the run's staging area and
// gathers, in order, their items, or the failures of those it could not
// copy.
type stager struct {
	area *stagingArea
	now  time.Time
	out  []staged
}

// staged is one file of a stager: its item, or why it was refused.
type staged struct {
	item Item
	fail *Failure[Item]
}

// file stages the file at local as artifactDir/<its name>.
func (s *stager) file(local, artifactDir string) {
	dest := joinArtifact(artifactDir, filepath.Base(local))
	if !s.dirOK(local, artifactDir) {
		return
	}
	st, err := os.Stat(local)
	switch {
	case err != nil:
		s.refuse(local, dest, CodeResourceDoesNotExist, err)
	case st.IsDir():
		s.refuse(local, dest, CodeInvalidParameterValue, ErrInvalidValue.Errorf("%s is a directory: log it with LogArtifacts", local))
	default:
		s.copy(local, dest)
	}
}

// dirOK reports whether artifactDir is a valid artifact directory, and
// refuses the call's file when it is not.
func (s *stager) dirOK(local, artifactDir string) bool {
	if why := artifactPathProblem(artifactDir, false); why != "" {
		s.refuse(local, artifactDir, CodeInvalidParameterValue, ErrInvalidName.Errorf("artifact path %s: %s", quoteKey(artifactDir), why))
		return false
	}
	return true
}

// joinArtifact joins an artifact directory and a name, without cleaning
// the path (a path MLflow would refuse stays refused).
func joinArtifact(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// tree stages every regular file under dir as artifactDir/<its path under
// dir>.
func (s *stager) tree(dir, artifactDir string) {
	if !s.dirOK(dir, artifactDir) || !s.isDir(dir, artifactDir) {
		return
	}
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		s.visit(p, joinArtifact(artifactDir, filepath.ToSlash(rel)), d, err)
		return nil // go on with the other files (a directory that fails to list is skipped)
	})
	if walkErr != nil {
		s.refuse(dir, artifactDir, CodeIOError, walkErr)
	}
}

// isDir reports whether dir is a directory, and refuses the call when not.
func (s *stager) isDir(dir, artifactDir string) bool {
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		err = ErrInvalidValue.Errorf("%s is not a directory: log it with LogArtifact", dir)
	}
	if err != nil {
		s.refuse(dir, artifactDir, CodeResourceDoesNotExist, err)
		return false
	}
	return true
}

// visit stages one entry of a tree: a regular file, or a link (to a file:
// it is copied; else its copy fails and it is refused).
func (s *stager) visit(p, dest string, d fs.DirEntry, err error) {
	switch {
	case err != nil:
		s.refuse(p, dest, CodeIOError, err)
	case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
		s.copy(p, dest)
	}
}

// bytes stages data as artifactFile.
func (s *stager) bytes(data []byte, artifactFile string) {
	if why := artifactPathProblem(artifactFile, true); why != "" {
		s.refuse("", artifactFile, CodeInvalidParameterValue, ErrInvalidName.Errorf("artifact %s: %s", quoteKey(artifactFile), why))
		return
	}
	it, err := s.area.add(func(w io.Writer) (int64, error) {
		n, err := w.Write(data)
		return int64(n), err
	})
	if err != nil {
		s.refuse("", artifactFile, CodeIOError, err)
		return
	}
	s.keep(it, "", artifactFile)
}

// copy stages the file at local as dest.
func (s *stager) copy(local, dest string) {
	if why := artifactPathProblem(dest, true); why != "" {
		s.refuse(local, dest, CodeInvalidParameterValue, ErrInvalidName.Errorf("artifact %s: %s", quoteKey(dest), why))
		return
	}
	it, err := s.area.add(func(w io.Writer) (int64, error) {
		f, err := os.Open(local)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.Copy(w, f)
	})
	if err != nil {
		s.refuse(local, dest, CodeIOError, err)
		return
	}
	s.keep(it, local, dest)
}

// keep records a staged file.
func (s *stager) keep(it Item, local, dest string) {
	it.Key, it.Text, it.Time = dest, local, s.now
	s.out = append(s.out, staged{item: it})
}

// refuse records a file the call could not log.
func (s *stager) refuse(local, dest string, code Code, cause error) {
	reason, ok := refusalReasons[code]
	if !ok {
		reason = "file not readable"
	}
	kind := ErrInvalidValue
	if e := AsError(cause); e != nil && e.Kind() != nil {
		kind = e.Kind()
	}
	msg := fmt.Sprintf("artifact %s (%s): %v", quoteKey(dest), local, cause)
	bad := newError(code, kind, msg, cause)
	it := Item{Kind: ItemArtifact, Key: dest, Text: local, Time: s.now}
	s.out = append(s.out, staged{item: it, fail: &Failure[Item]{Item: it, Reason: reason, Code: code, Time: s.now, Cause: bad}})
}

// refusalReasons are the Failure.Reasons of the files a call refuses, by
// code ("file not readable" for any other).
var refusalReasons = map[Code]string{
	CodeResourceDoesNotExist:  "file not found",
	CodeInvalidParameterValue: "invalid artifact",
	CodeNotImplemented:        "the backend stores no artifacts",
}

// discard removes what the call staged (it was refused as a whole).
func (s *stager) discard() {
	for i := range s.out {
		if s.out[i].fail == nil {
			s.area.remove(&s.out[i].item)
		}
	}
}

// artifactPathProblem returns why p is not a path an artifact may have (a
// file's when file is true, else a directory's, where "" is the top), or "".
// MLflow's artifact proxy refuses such paths ("Invalid path").
func artifactPathProblem(p string, file bool) string {
	if p == "" {
		if file {
			return "the path is empty"
		}
		return ""
	}
	if why := artifactPathForm(p); why != "" {
		return why
	}
	return artifactPathElements(p)
}

// artifactPathForm returns why the path as a whole is not relative and
// slash-separated, naming a file, or "".
func artifactPathForm(p string) string {
	switch {
	case strings.HasPrefix(p, "/") || filepath.IsAbs(p) || strings.Contains(p, "\\"):
		return "the path is absolute or has a backslash: artifact paths are relative, with /"
	case strings.HasSuffix(p, "/"):
		return `the path ends with "/": it names no file`
	case strings.ContainsRune(p, 0):
		return "the path has a NUL byte"
	}
	return ""
}

// artifactPathElements returns why an element of the path would leave the
// run's artifacts or name another path ("..", ".", an empty one), or "".
func artifactPathElements(p string) string {
	for part := range strings.SplitSeq(p, "/") {
		switch part {
		case "..", ".", "":
			return fmt.Sprintf("the path has the element %q: it would leave the run's artifacts or name another path", part)
		}
	}
	return ""
}
