package mlflow

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"

	"github.com/mlerr/mlerr"
)

// tlsSettings are the TLS options of a Client.
type tlsSettings struct {
	insecure      bool
	serverCert    string // CA bundle: a PEM file or a directory of them
	serverCertSet bool   // set, even to "" (MLflow refuses it with insecure)
	clientCert    string // one PEM file: certificate and key
}

// config returns the tls.Config of an https Client, reading the certificate
// files. Errors name the file, with kind mlerr.ErrMissingConfig.
func (s tlsSettings) config() (*tls.Config, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.insecure {
		c.InsecureSkipVerify = true //nolint:gosec // asked for by the caller
	}
	if s.serverCertSet {
		pool, err := loadCAs(s.serverCert)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if s.clientCert != "" {
		data, err := os.ReadFile(s.clientCert)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: client certificate %s cannot be read: %v", s.clientCert, pathless(err))
		}
		cert, err := tls.X509KeyPair(data, data)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: client certificate %s must be one PEM file with the certificate and its unencrypted key: %v", s.clientCert, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// check refuses the settings MLflow's client refuses.
func (s tlsSettings) check() error {
	if s.insecure && s.serverCertSet {
		return mlerr.ErrMissingConfig.Errorf("mlflow: %s and %s (WithInsecureTLS and WithServerCertPath) cannot both be set: "+
			"either trust the server's CA or skip verification", EnvInsecureTLS, EnvServerCertPath)
	}
	if s.serverCertSet && s.serverCert == "" {
		return mlerr.ErrMissingConfig.Errorf("mlflow: %s is set but empty: it must name a PEM file of CA certificates", EnvServerCertPath)
	}
	return nil
}

// loadCAs reads the PEM certificates of a file, or of every regular file of
// a directory.
func loadCAs(path string) (*x509.CertPool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, mlerr.ErrMissingConfig.Errorf("mlflow: server CA certificates %s cannot be read: %v", path, pathless(err))
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: server CA directory %s cannot be read: %v", path, pathless(err))
		}
		files = files[:0]
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	pool := x509.NewCertPool()
	found := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: server CA certificates %s cannot be read: %v", f, pathless(err))
		}
		found = pool.AppendCertsFromPEM(data) || found
	}
	if !found {
		return nil, mlerr.ErrMissingConfig.Errorf("mlflow: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// pathless returns the cause of an *os.PathError, whose text repeats the path.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
