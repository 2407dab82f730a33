package mlflow

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	hashA = "0123456789abcdef0123456789abcdef01234567"
	hashB = "89abcdef0123456789abcdef0123456789abcdef"
)

// TestReadGitHead builds .git layouts by hand (a checkout, a detached HEAD,
// packed refs, a linked worktree, a submodule's .git file, broken files)
// and reads the commit from a directory below the work tree's root.
func TestReadGitHead(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // path under the root -> content
		want   gitHead
		wantOK bool
	}{
		{"branch, loose ref", map[string]string{
			".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": hashA + "\n",
		}, gitHead{hashA, "main"}, true},
		{"detached HEAD", map[string]string{".git/HEAD": hashB + "\n"}, gitHead{hashB, ""}, true},
		{"packed ref", map[string]string{
			".git/HEAD":        "ref: refs/heads/dev/x\n",
			".git/packed-refs": "# pack-refs with: peeled fully-peeled sorted\n" + hashB + " refs/heads/main\n^" + hashA + "\n" + hashA + " refs/heads/dev/x\n",
		}, gitHead{hashA, "dev/x"}, true},
		{"loose ref wins over packed", map[string]string{
			".git/HEAD": "ref: refs/heads/main", ".git/refs/heads/main": hashB,
			".git/packed-refs": hashA + " refs/heads/main\n",
		}, gitHead{hashB, "main"}, true},
		{"linked worktree: .git file, commondir", map[string]string{
			".git":                               "gitdir: repo/.git/worktrees/wt\n",
			"repo/.git/worktrees/wt/HEAD":        "ref: refs/heads/feature\n",
			"repo/.git/worktrees/wt/commondir":   "../..\n",
			"repo/.git/packed-refs":              hashA + " refs/heads/feature\n",
			"repo/.git/worktrees/wt/refs/.keep":  "",
			"repo/.git/refs/heads/other-ignored": hashB,
		}, gitHead{hashA, "feature"}, true},
		{"submodule: .git file, own refs", map[string]string{
			".git": "gitdir: super/.git/modules/sub", "super/.git/modules/sub/HEAD": hashA,
		}, gitHead{hashA, ""}, true},
		{"no commit yet", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/.keep": ""}, gitHead{}, false},
		{"HEAD not a hash", map[string]string{".git/HEAD": "garbage\n"}, gitHead{}, false},
		{"ref outside refs/", map[string]string{".git/HEAD": "ref: ../../etc/passwd\n"}, gitHead{}, false},
		{"ref loop", map[string]string{".git/HEAD": "ref: refs/heads/a", ".git/refs/heads/a": "ref: refs/heads/a"}, gitHead{}, false},
		{".git file without gitdir", map[string]string{".git": "nonsense\n"}, gitHead{}, false},
		{"no .git", map[string]string{"README": "x"}, gitHead{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, content := range tt.files {
				path := filepath.Join(root, filepath.FromSlash(p))
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
			}
			sub := filepath.Join(root, "src", "pkg")
			require.NoError(t, os.MkdirAll(sub, 0o755))
			got, ok := readGitHead(sub)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestReadGitHeadOwnRepo reads this repository's checkout as git would,
// when the tests run in one (CI's clone is).
func TestReadGitHeadOwnRepo(t *testing.T) {
	if _, ok := findGitDir("."); !ok {
		t.Skip("not in a git work tree")
	}
	g, ok := readGitHead(".")
	require.True(t, ok)
	assert.True(t, isHash(g.commit), g.commit)
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		assert.Equal(t, strings.TrimSpace(string(out)), g.commit, "what git says")
	}
}
