package mlflow

import (
	"os"
	"os/user"
)

// The system tags a Backend sets on every run it creates, as MLflow's
// fluent client (mlflow.start_run) sets them; see WithoutSystemTags.
const (
	// TagUser is the user who started the run (MLflow also stores it as the
	// run's user_id): WithUser, else MLFLOW_TRACKING_USERNAME (for a
	// Backend from NewBackendFromEnv), else the OS user, as Python's
	// getpass.getuser() finds it (LOGNAME, USER, LNAME, USERNAME, then the
	// account database), else "unknown".
	TagUser = "mlflow.user"
	// TagSourceName is the program: os.Args[0] as the program was called,
	// as MLflow records sys.argv[0].
	TagSourceName = "mlflow.source.name"
	// TagSourceType is "LOCAL", MLflow's type for a program run on a
	// machine.
	TagSourceType = "mlflow.source.type"
	// TagGitCommit is the commit checked out in the git work tree holding
	// the program's working directory, read from its .git files (git is not
	// run); not set outside a work tree.
	TagGitCommit = "mlflow.source.git.commit"
	// TagGitBranch is the branch checked out there; not set when HEAD is
	// detached.
	TagGitBranch = "mlflow.source.git.branch"
)

// sourceTypeLocal is MLflow's SourceType.LOCAL.
const sourceTypeLocal = "LOCAL"

// unknownUser is MLflow's user when none can be found.
const unknownUser = "unknown"

// WithUser sets the user the Backend's runs are created by (TagUser and
// the run's user_id) instead of the one found in the environment. It has
// no effect on a Client, nor with WithoutSystemTags.
func WithUser(name string) Option {
	return func(c *config) { c.user = name }
}

// WithoutSystemTags makes the Backend create runs with the caller's tags
// only: no TagUser, TagSourceName, TagSourceType, TagGitCommit nor
// TagGitBranch, and no user_id.
func WithoutSystemTags() Option {
	return func(c *config) { c.noSystemTags = true }
}

// systemTags returns the tags a new run gets besides the caller's, read
// once when the Backend is made.
func systemTags(cfg *config) map[string]string {
	if cfg.noSystemTags {
		return nil
	}
	tags := map[string]string{
		TagUser:       firstNonEmpty(cfg.user, cfg.envUser, osUser()),
		TagSourceName: sourceName(),
		TagSourceType: sourceTypeLocal,
	}
	if wd, err := os.Getwd(); err == nil {
		if g, ok := readGitHead(wd); ok {
			tags[TagGitCommit] = g.commit
			if g.branch != "" {
				tags[TagGitBranch] = g.branch
			}
		}
	}
	return tags
}

// osUser finds the user as Python's getpass.getuser() does.
func osUser() string {
	for _, v := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return unknownUser
}

// sourceName is MLflow's source name: the program as called, "<console>"
// when there is none.
func sourceName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return os.Args[0]
	}
	return "<console>"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
