package mlflow

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlerr/mlerr"
)

// The environment variables NewClientFromEnv and NewBackendFromEnv read; they
// are the ones MLflow's Python client reads.
const (
	EnvTrackingURI      = "MLFLOW_TRACKING_URI"
	EnvTrackingToken    = "MLFLOW_TRACKING_TOKEN"
	EnvTrackingUsername = "MLFLOW_TRACKING_USERNAME"
	EnvTrackingPassword = "MLFLOW_TRACKING_PASSWORD"
	EnvInsecureTLS      = "MLFLOW_TRACKING_INSECURE_TLS"
	EnvRequestTimeout   = "MLFLOW_HTTP_REQUEST_TIMEOUT" // seconds
	EnvExperimentName   = "MLFLOW_EXPERIMENT_NAME"
)

// NewClientFromEnv returns a Client for $MLFLOW_TRACKING_URI, authenticated
// with basic auth when MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD
// are set, else with MLFLOW_TRACKING_TOKEN as a bearer token when it is set.
// MLFLOW_TRACKING_INSECURE_TLS=true and MLFLOW_HTTP_REQUEST_TIMEOUT (seconds)
// are honoured too. opts are applied after the environment, so they win.
//
// An unset MLFLOW_TRACKING_URI is an error of kind mlerr.ErrMissingConfig; a
// bad one, of kind mlerr.ErrInvalidURL; a bad numeric or boolean variable, of
// kind mlerr.ErrMissingConfig naming the variable.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	uri, envOpts, err := fromEnv()
	if err != nil {
		return nil, err
	}
	return NewClient(uri, append(envOpts, opts...)...)
}

// NewBackendFromEnv is NewClientFromEnv for a Backend; MLFLOW_EXPERIMENT_NAME,
// when set, is the default experiment (see WithExperiment).
func NewBackendFromEnv(opts ...Option) (*Backend, error) {
	uri, envOpts, err := fromEnv()
	if err != nil {
		return nil, err
	}
	if name := os.Getenv(EnvExperimentName); name != "" {
		envOpts = append(envOpts, WithExperiment(name))
	}
	return NewBackend(uri, append(envOpts, opts...)...)
}

func fromEnv() (string, []Option, error) {
	uri := strings.TrimSpace(os.Getenv(EnvTrackingURI))
	if uri == "" {
		return "", nil, mlerr.ErrMissingConfig.New(EnvTrackingURI + " is not set: it should be the tracking server's URL, such as http://127.0.0.1:5000")
	}
	var opts []Option
	user, pass := os.Getenv(EnvTrackingUsername), os.Getenv(EnvTrackingPassword)
	switch token := os.Getenv(EnvTrackingToken); {
	case user != "" && pass != "":
		opts = append(opts, WithBasicAuth(user, pass))
	case user != "" || pass != "":
		return "", nil, mlerr.ErrMissingConfig.New(EnvTrackingUsername + " and " + EnvTrackingPassword + " must be set together")
	case token != "":
		opts = append(opts, WithToken(token))
	}
	if v := os.Getenv(EnvInsecureTLS); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return "", nil, mlerr.ErrMissingConfig.Errorf("%s=%q is not true or false", EnvInsecureTLS, v)
		}
		if on {
			opts = append(opts, WithInsecureTLS())
		}
	}
	if v := os.Getenv(EnvRequestTimeout); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 {
			return "", nil, mlerr.ErrMissingConfig.Errorf("%s=%q is not a positive number of seconds", EnvRequestTimeout, v)
		}
		opts = append(opts, WithTimeout(time.Duration(s*float64(time.Second))))
	}
	return uri, opts, nil
}
