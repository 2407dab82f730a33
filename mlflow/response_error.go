package mlflow

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/mlerr/mlerr"
)

// responseError decodes a non-2xx response into the taxonomy.
// TEMPORARY: replaced by mlerr.FromResponse when branch wire lands.
func responseError(resp *http.Response) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var w struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	code := mlerr.CodeForHTTPStatus(resp.StatusCode)
	msg := string(b)
	if json.Unmarshal(b, &w) == nil && w.Code != "" {
		if c, err := mlerr.ParseCode(w.Code); err == nil {
			code = c
		}
		msg = w.Message
	}
	e := mlerr.New(code, msg).WithKind(mlerr.ErrRest).WithHTTPStatus(resp.StatusCode)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e = e.WithRetryAfter(time.Duration(s) * time.Second)
	}
	return e
}
