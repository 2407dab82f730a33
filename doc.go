// Package mlerr gives ML training code and the SDKs around it one structured
// error taxonomy and a run object that never lets a network hiccup crash a
// training job or lose data silently.
//
// The taxonomy is MLflow's: every ErrorCode as a Code, mapped to and from HTTP
// statuses exactly as MLflow maps them, MLflow's exception family and a Run's
// events as kinds (see Kind), and *Error carrying code, message, details and
// cause. errors.Is and errors.As understand all of it:
//
//	err := mlerr.New(mlerr.CodeResourceDoesNotExist, "run 42 not found")
//	errors.Is(err, mlerr.CodeResourceDoesNotExist) // true
//	mlerr.CodeOf(fmt.Errorf("loading: %w", err))   // RESOURCE_DOES_NOT_EXIST
//
// On the wire, errors travel as MLflow JSON or RFC 9457 problem+json
// (FromResponse, WriteError). Calls are retried with Retry and Do; partial
// failures are a BatchError; a Run queues metrics, params and tags and sends
// them in the background, reporting every event to its Callbacks.
package mlerr
