package mlflow

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlerr/mlerr"
)

// The environment variables NewClientFromEnv and NewBackendFromEnv read; they
// are the ones MLflow's Python client reads, read as it reads them (see the
// package doc for each one's rules). The package reads no other variable.
const (
	EnvTrackingURI      = "MLFLOW_TRACKING_URI"
	EnvTrackingToken    = "MLFLOW_TRACKING_TOKEN"
	EnvTrackingUsername = "MLFLOW_TRACKING_USERNAME"
	EnvTrackingPassword = "MLFLOW_TRACKING_PASSWORD"
	EnvInsecureTLS      = "MLFLOW_TRACKING_INSECURE_TLS"
	EnvServerCertPath   = "MLFLOW_TRACKING_SERVER_CERT_PATH"
	EnvClientCertPath   = "MLFLOW_TRACKING_CLIENT_CERT_PATH"
	EnvRequestTimeout   = "MLFLOW_HTTP_REQUEST_TIMEOUT" // seconds
	EnvExperimentName   = "MLFLOW_EXPERIMENT_NAME"
	EnvExperimentID     = "MLFLOW_EXPERIMENT_ID"
	EnvRunID            = "MLFLOW_RUN_ID"
)

// NewClientFromEnv returns a Client for $MLFLOW_TRACKING_URI configured from
// the environment as MLflow's Python client configures itself (the package
// doc lists the variables and their rules): credentials from the URI's user
// info, else basic auth from MLFLOW_TRACKING_USERNAME and
// MLFLOW_TRACKING_PASSWORD when both are set, else MLFLOW_TRACKING_TOKEN;
// TLS from MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH and
// MLFLOW_TRACKING_CLIENT_CERT_PATH; MLFLOW_HTTP_REQUEST_TIMEOUT (seconds).
// opts are applied after the environment, so they win.
//
// An unset MLFLOW_TRACKING_URI is an error of kind mlerr.ErrMissingConfig; a
// bad one, of kind mlerr.ErrInvalidURL; a bad numeric or boolean variable,
// contradictory TLS variables or a certificate file that cannot be used, of
// kind mlerr.ErrMissingConfig naming the variable or the file.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	uri, envOpts, err := fromEnv()
	if err != nil {
		return nil, err
	}
	return NewClient(uri, append(envOpts, opts...)...)
}

// NewBackendFromEnv is NewClientFromEnv for a Backend, which also reads,
// when set and not empty: MLFLOW_EXPERIMENT_NAME, the default experiment
// (WithExperiment); MLFLOW_EXPERIMENT_ID, the default experiment by id
// (WithExperimentID: with both, the named experiment must have this id);
// MLFLOW_RUN_ID, the run that the first run started resumes
// (WithResumeRun); MLFLOW_TRACKING_USERNAME, the user of the system tags
// (TagUser) unless WithUser.
func NewBackendFromEnv(opts ...Option) (*Backend, error) {
	uri, envOpts, err := fromEnv()
	if err != nil {
		return nil, err
	}
	return NewBackend(uri, append(append(envOpts, backendFromEnv()...), opts...)...)
}

// backendFromEnv reads the variables only a Backend uses.
func backendFromEnv() []Option {
	var opts []Option
	for _, v := range []struct {
		name string
		opt  func(string) Option
	}{{EnvExperimentName, WithExperiment}, {EnvExperimentID, WithExperimentID}, {EnvRunID, WithResumeRun}} {
		if s := os.Getenv(v.name); s != "" {
			opts = append(opts, v.opt(s))
		}
	}
	return opts
}

func fromEnv() (string, []Option, error) {
	uri := strings.TrimSpace(os.Getenv(EnvTrackingURI))
	if uri == "" {
		return "", nil, mlerr.ErrMissingConfig.New(EnvTrackingURI + " is not set: it should be the tracking server's URL, such as http://127.0.0.1:5000")
	}
	var opts []Option
	if u := os.Getenv(EnvTrackingUsername); u != "" {
		opts = append(opts, func(c *config) { c.envUser = u })
	}
	if a, ok := envAuth(os.Getenv(EnvTrackingUsername), os.Getenv(EnvTrackingPassword), os.Getenv(EnvTrackingToken)); ok {
		opts = append(opts, func(c *config) { c.envAuth = &a })
	}
	tlsOpts, err := tlsFromEnv()
	if err != nil {
		return "", nil, err
	}
	opts = append(opts, tlsOpts...)
	if v := os.Getenv(EnvRequestTimeout); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 {
			return "", nil, mlerr.ErrMissingConfig.Errorf("%s=%q is not a positive number of seconds", EnvRequestTimeout, v)
		}
		opts = append(opts, WithTimeout(time.Duration(s*float64(time.Second))))
	}
	return uri, opts, nil
}

// tlsFromEnv reads the TLS variables as MLflow's client does: a variable
// that is set counts even when empty.
func tlsFromEnv() ([]Option, error) {
	var opts []Option
	if v, ok := os.LookupEnv(EnvInsecureTLS); ok {
		on, ok := parseBool(v)
		if !ok {
			return nil, mlerr.ErrMissingConfig.Errorf("%s=%q: the value must be one of true, false, 1, 0 (in any case), as for MLflow's client", EnvInsecureTLS, v)
		}
		if on {
			opts = append(opts, WithInsecureTLS())
		}
	}
	if v, ok := os.LookupEnv(EnvServerCertPath); ok {
		opts = append(opts, WithServerCertPath(v))
	}
	if v := os.Getenv(EnvClientCertPath); v != "" {
		opts = append(opts, WithClientCertPath(v))
	}
	return opts, nil
}

// parseBool reads a boolean variable as MLflow's client does: "true",
// "false", "1" or "0", in any case; anything else (an empty value too) is
// not ok.
func parseBool(v string) (on, ok bool) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}
