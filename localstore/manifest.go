package localstore

import (
	"encoding/json"
	"errors"
	"io/fs"

	"path/filepath"
	"regexp"
	"time"

	"github.com/mlerr/mlerr"
)

const (
	manifestFile = "manifest.json"
	logFile      = "log"
	syncDirName  = "sync"
	markerFile   = "MLERR_STORE"
)

// StatusRunning is the status of a run that has not ended (or was resumed
// after it ended); the other statuses are mlerr.RunStatus names.
const StatusRunning = "RUNNING"

// manifest is a run's description, stored as JSON and replaced atomically.
type manifest struct {
	Version    int               `json:"version"`
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	Experiment string            `json:"experiment,omitempty"`
	ForkParent string            `json:"fork_parent,omitempty"`
	ForkStep   int64             `json:"fork_step,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	StartTime  time.Time         `json:"start_time"`
	Status     string            `json:"status"`
	EndTime    time.Time         `json:"end_time,omitzero"`
	// Resumes counts the times the run was resumed.
	Resumes int       `json:"resumes,omitempty"`
	Updated time.Time `json:"updated"`
}

// runIDPattern is what a run id must look like: it names a directory.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$`)

// ValidRunID reports whether id can name a run in a store: an ASCII letter
// or digit followed by up to 254 letters, digits, '-' or '_' (MLflow's rule,
// within the 255 bytes a file name may have; its 32 hex digits are valid).
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }

// maxManifestBytes bounds a manifest (a run's spec: name, experiment and
// tags, of up to 8000 characters each: some 500 of the longest tags), so
// that a crafted one cannot take the memory.
const maxManifestBytes = 4 << 20

// readManifest reads and checks the manifest of the run in runDir: its id
// must be the directory's name, and a fork parent a run id, since both name
// directories of the store.
func readManifest(runDir string) (manifest, error) {
	path := filepath.Join(runDir, manifestFile)
	data, err := readInside(path, maxManifestBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return manifest{}, mlerr.ErrRunNotFound.Errorf("no run at %s", runDir)
		}
		return manifest{}, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return manifest{}, corrupted(path, 0, "manifest does not decode: %v", err)
	}
	if m.Version != 1 || !ValidRunID(m.ID) {
		return manifest{}, corrupted(path, 0, "manifest has version %d and id %q", m.Version, m.ID)
	}
	if dir := filepath.Base(runDir); m.ID != dir {
		return manifest{}, corrupted(path, 0, "manifest names run %q but is in the directory of run %q", m.ID, dir)
	}
	if m.ForkParent != "" && !ValidRunID(m.ForkParent) {
		return manifest{}, corrupted(path, 0, "manifest's fork parent %q is not a run id", m.ForkParent)
	}
	return m, nil
}

func writeManifest(runDir string, m manifest, mode fs.FileMode) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(runDir, manifestFile), append(data, '\n'), mode)
}
