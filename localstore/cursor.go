package localstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// cursor is what a replay remembers, per run and target, once the target
// acknowledged a batch: it is saved atomically after every acknowledged
// batch, so an interrupted replay resumes after the last one.
type cursor struct {
	Version     int    `json:"version"`
	Target      string `json:"target"`
	RemoteRunID string `json:"remote_run_id"`
	// Batches is the number of the log's records uploaded (in log order).
	Batches int `json:"batches"`
	// Offset is the log offset just after the last uploaded record.
	Offset int64 `json:"offset"`
	// Pending, when above Batches, is the last record of the request being
	// sent (records Batches+1..Pending): a replay resumes by sending exactly
	// that request again (see uploader).
	Pending  int `json:"pending,omitempty"`
	Items    int `json:"items"`
	Rejected int `json:"rejected,omitempty"`
	// EndedStatus and EndedAt are the final status and end time sent.
	EndedStatus string    `json:"ended_status,omitempty"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	Updated     time.Time `json:"updated"`
}

var targetFilePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// cursorBase returns the file name (without extension) of a target's cursor:
// the target itself when it is a safe file name, else a digest of it.
func cursorBase(target string) string {
	if targetFilePattern.MatchString(target) && !strings.HasPrefix(target, ".") {
		return target
	}
	sum := sha256.Sum256([]byte(target))
	return "t-" + hex.EncodeToString(sum[:12])
}

func cursorPath(runDir, target string) string {
	return filepath.Join(runDir, syncDirName, cursorBase(target)+".json")
}

// readCursor returns the run's cursor for target; ok is false when there is
// none.
func readCursor(runDir, target string) (c cursor, ok bool, err error) {
	path := cursorPath(runDir, target)
	if err := checkDir(filepath.Dir(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return cursor{}, false, err
	}
	data, err := readInside(path, maxCursorBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return cursor{}, false, nil
	}
	if err != nil {
		return cursor{}, false, err
	}
	if err := json.Unmarshal(data, &c); err != nil || c.Version != 1 || c.Target != target {
		return cursor{}, false, corrupted(path, 0, "sync cursor does not decode or names another target")
	}
	return c, true, nil
}

func writeCursor(runDir string, c cursor, mode fs.FileMode) error {
	c.Version = 1
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(cursorPath(runDir, c.Target), append(data, '\n'), mode)
}

// maxCursorBytes bounds a cursor file (a spool's or a replay's), so that a
// crafted one cannot take the memory.
const maxCursorBytes = 64 << 10

// readCursors returns the state of every cursor of the run, by target name.
func readCursors(runDir string) ([]SyncState, error) {
	dir := filepath.Join(runDir, syncDirName)
	if err := checkDir(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var states []SyncState
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || filepath.Ext(name) != ".json" {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := readInside(path, maxCursorBytes)
		if err != nil {
			return states, err
		}
		var c cursor
		if err := json.Unmarshal(data, &c); err != nil || c.Version != 1 {
			return states, corrupted(path, 0, "sync cursor does not decode")
		}
		uploaded, err := readLines(uploadedPath(runDir, c.Target))
		if err != nil {
			return states, err
		}
		states = append(states, SyncState{
			Target: c.Target, RemoteRunID: c.RemoteRunID, Batches: c.Batches, Items: c.Items,
			Rejected: c.Rejected, EndedStatus: c.EndedStatus, Updated: c.Updated, Artifacts: countFor(uploaded, c.RemoteRunID),
		})
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Target < states[j].Target })
	return states, nil
}
