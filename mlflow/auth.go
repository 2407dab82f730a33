package mlflow

import (
	"encoding/base64"
	"net/url"
)

// authConfig is one source of credentials: a bearer token, or basic auth.
type authConfig struct {
	token    string
	username string
	password string
	basic    bool // username and password are used, even when empty
}

// authorization returns the Authorization header the credentials make, as
// MLflow's Python client builds it: "Basic " and the standard base64 of
// "username:password" (UTF-8; the password may hold ':'), or "Bearer " and
// the token; "" for none.
func (a authConfig) authorization() string {
	switch {
	case a.basic:
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.username+":"+a.password))
	case a.token != "":
		return "Bearer " + a.token
	}
	return ""
}

// secrets returns what the credentials must never show in a message: the
// token, the password, and the header built from them (the base64 form of a
// basic password is in the header only). A username is not secret.
func (a authConfig) secrets() []string {
	var out []string
	for _, s := range []string{a.token, a.password, a.authorization()} {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	if a.basic {
		// The base64 alone, as it appears in a header echoed without its scheme.
		out = append(out, a.authorization()[len("Basic "):])
	}
	return out
}

// minSecretLen is the shortest secret that is scrubbed from messages: a
// one- or two-character password would otherwise blank out every matching
// letter of a message, and is no secret worth the name.
const minSecretLen = 3

// userInfoAuth returns the basic-auth credentials in a URL's user info as
// MLflow's Python client (through requests) uses them: when the URL has a
// password part (http://user:pass@host, http://user:@host, http://:pass@host)
// and not both are empty. http://user@host, with no password part, sends no
// credentials.
func userInfoAuth(u *url.Userinfo) (authConfig, bool) {
	if u == nil {
		return authConfig{}, false
	}
	pass, hasPass := u.Password()
	if !hasPass || u.Username() == "" && pass == "" {
		return authConfig{}, false
	}
	return authConfig{username: u.Username(), password: pass, basic: true}, true
}

// envAuth returns the credentials of the environment as MLflow's Python
// client reads them: basic auth when both the username and the password are
// non-empty, else the token when it is non-empty, else none. A username
// without a password (or the reverse) is ignored, as there.
func envAuth(user, pass, token string) (authConfig, bool) {
	switch {
	case user != "" && pass != "":
		return authConfig{username: user, password: pass, basic: true}, true
	case token != "":
		return authConfig{token: token}, true
	}
	return authConfig{}, false
}
