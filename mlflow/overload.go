package mlflow

import (
	"strings"

	"github.com/mlerr/mlerr"
)

// MLflow's SQL store turns every SQLAlchemy error into BAD_REQUEST (HTTP
// 400), including the ones that say the database is overloaded, not that the
// request is wrong: the connection pool running dry under many clients
// ("QueuePool limit of size 5 overflow 10 reached, connection timed out"),
// PostgreSQL refusing connections ("too many clients already"), a dropped
// connection or a locked SQLite file (all OperationalError). Such a request
// was not applied (its transaction rolled back) and succeeds when sent again,
// so overloaded gives those answers the code TEMPORARILY_UNAVAILABLE, which
// is retried; the server's error, status 400 and all, is the cause.
var overloadSigns = []string{"QueuePool limit of size", "OperationalError)"}

// overloaded returns e, or, when e is MLflow's BAD_REQUEST for an overloaded
// database, a TEMPORARILY_UNAVAILABLE error with e as its cause.
func overloaded(e *mlerr.Error) *mlerr.Error {
	if e.Code() != mlerr.CodeBadRequest {
		return e
	}
	for _, sign := range overloadSigns {
		if strings.Contains(e.Message(), sign) {
			return mlerr.New(mlerr.CodeTemporarilyUnavailable,
				"mlflow: the tracking server's database is overloaded (it answered BAD_REQUEST: "+excerptMessage(e.Message())+")").
				WithHTTPStatus(e.HTTPStatus()).WithRetryAfter(e.RetryAfter()).WithCause(e)
		}
	}
	return e
}

// excerptMessage is the start of a server's message, for another message.
func excerptMessage(m string) string {
	const max = 160
	if len(m) > max {
		return strings.ToValidUTF8(m[:max], "") + "..."
	}
	return m
}
