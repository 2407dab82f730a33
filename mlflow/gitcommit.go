package mlflow

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// gitHead is what the Backend reads of the git work tree a program runs in:
// the commit checked out and, when HEAD names one, the branch.
type gitHead struct {
	commit, branch string
}

// maxGitFile bounds what is read of one file of a .git directory (HEAD, a
// ref, the gitdir and commondir files); packed-refs is read line by line.
const maxGitFile = 4096

// readGitHead finds the git work tree holding dir (dir or a parent with a
// .git entry) and returns its checked-out commit, reading the files of git's
// repository layout without running git: .git as a directory, or as a file
// "gitdir: <path>" (a linked worktree or a submodule, whose refs live in
// the directory its commondir file names), HEAD as a hash (detached) or
// "ref: <name>", the ref as a loose file or a line of packed-refs. ok is
// false outside a work tree, in a repository without commits, or when a
// file does not read as git writes it.
func readGitHead(dir string) (gitHead, bool) {
	gitDir, ok := findGitDir(dir)
	if !ok {
		return gitHead{}, false
	}
	common := commonDir(gitDir)
	head, ok := readSmall(filepath.Join(gitDir, "HEAD"))
	if !ok {
		return gitHead{}, false
	}
	var g gitHead
	for range 5 { // a symbolic ref may name another one
		name, symbolic := strings.CutPrefix(head, "ref: ")
		if !symbolic {
			if !isHash(head) {
				return gitHead{}, false
			}
			g.commit = head
			return g, true
		}
		name = strings.TrimSpace(name)
		if g.branch == "" {
			g.branch, _ = strings.CutPrefix(name, "refs/heads/")
		}
		if head, ok = resolveRef(gitDir, common, name); !ok {
			return gitHead{}, false
		}
	}
	return gitHead{}, false
}

// findGitDir walks up from dir to the first .git entry and returns the git
// directory it is or names.
func findGitDir(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				return p, true
			}
			return gitDirFile(p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// gitDirFile reads a .git file ("gitdir: <path>", relative to the file's
// directory unless absolute).
func gitDirFile(path string) (string, bool) {
	s, ok := readSmall(path)
	target, found := strings.CutPrefix(s, "gitdir: ")
	if !ok || !found || strings.TrimSpace(target) == "" {
		return "", false
	}
	return relativeTo(filepath.Dir(path), strings.TrimSpace(target)), true
}

// commonDir returns the directory holding a git directory's refs: the one
// its commondir file names (a linked worktree's), else itself.
func commonDir(gitDir string) string {
	if s, ok := readSmall(filepath.Join(gitDir, "commondir")); ok && s != "" {
		return relativeTo(gitDir, s)
	}
	return gitDir
}

func relativeTo(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// resolveRef returns what the ref called name holds (a hash, or "ref: ..."):
// its loose file in the git directory or the common one, else its line in
// packed-refs.
func resolveRef(gitDir, common, name string) (string, bool) {
	if !strings.HasPrefix(name, "refs/") && name != "HEAD" || strings.Contains(name, "..") {
		return "", false
	}
	for _, d := range []string{gitDir, common} {
		if s, ok := readSmall(filepath.Join(d, filepath.FromSlash(name))); ok && s != "" {
			return s, true
		}
	}
	return packedRef(filepath.Join(common, "packed-refs"), name)
}

// packedRef finds name in a packed-refs file ("<hash> <name>" lines;
// comments and peeled "^<hash>" lines skipped).
func packedRef(path, name string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hash, ref, ok := strings.Cut(sc.Text(), " ")
		if ok && ref == name && isHash(hash) {
			return hash, true
		}
	}
	return "", false
}

// readSmall returns the first line of a small file, trimmed.
func readSmall(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	buf := make([]byte, maxGitFile)
	n, _ := f.Read(buf)
	line, _, _ := bytes.Cut(buf[:n], []byte("\n"))
	return strings.TrimSpace(string(line)), n > 0
}

// isHash reports whether s is a full SHA-1 or SHA-256 object name.
func isHash(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
