package mlerr

import "fmt"

// Kind is a class of error, such as "run not found" or "trace data
// corrupted". Kinds form a tree: errors.Is(err, k) is true when err's kind is
// k or a descendant of k, so errors.Is(err, ErrTracing) holds for an error of
// kind ErrTraceDataNotFound. A kind is itself an error (a sentinel) and has a
// default code, used by the errors it builds.
//
// The package's kinds are the MLflow exception family (ErrRest ... ErrTracing)
// and the events of a Run (ErrRunExists ... ErrClosed). SDK authors may add
// their own with NewKind.
type Kind struct {
	name   string
	parent *Kind
	code   Code
	x      errorExt // {kind: this kind}: shared by the errors of the kind without a cause
}

// NewKind returns a new kind. parent may be nil; code is the default code of
// errors built from the kind (0 means "inherit the parent's").
func NewKind(name string, parent *Kind, code Code) *Kind {
	if code == 0 && parent != nil {
		code = parent.code
	}
	k := &Kind{name: name, parent: parent, code: code}
	k.x.kind = k
	return k
}

// ext returns the errorExt of an error of kind k without a cause: k's own,
// shared (a Kind made other than by NewKind has none and gets a new one).
func (k *Kind) ext() *errorExt {
	if k.x.kind == k {
		return &k.x
	}
	return &errorExt{kind: k}
}

// Name returns the kind's name, such as "RunNotFound".
func (k *Kind) Name() string { return k.name }

// Parent returns the kind's parent, or nil for a root kind.
func (k *Kind) Parent() *Kind { return k.parent }

// Code returns the default code of errors of this kind.
func (k *Kind) Code() Code { return k.code }

// Error returns the kind's name, so a kind can be used as a sentinel error.
func (k *Kind) Error() string { return k.name }

// Is reports whether target is one of k's ancestors, so that
// errors.Is(ErrTraceDataNotFound, ErrTracing) is true.
func (k *Kind) Is(target error) bool {
	t, ok := target.(*Kind)
	return ok && k != nil && k.parent.isA(t)
}

// isA reports whether k is t or a descendant of t. A nil k is nothing.
func (k *Kind) isA(t *Kind) bool {
	for ; k != nil; k = k.parent {
		if k == t {
			return true
		}
	}
	return false
}

// New returns an error of this kind with the kind's code and a message.
func (k *Kind) New(message string) *Error {
	return newError(k.code, k, message, nil)
}

// Errorf returns an error of this kind with the kind's code and a formatted
// message; %w makes its operand the cause.
func (k *Kind) Errorf(format string, args ...any) *Error {
	return errorf(k.code, k, format, args)
}

// Wrap returns err as the cause of an error of this kind, or nil for a nil err.
func (k *Kind) Wrap(err error, message string) error {
	if err == nil {
		return nil
	}
	return newError(k.code, k, message, err)
}

// The MLflow exception family (mlflow.exceptions), as kinds.
var (
	// ErrRest is an error answered by a REST server (MLflow's RestException);
	// errors decoded from HTTP responses have this kind.
	ErrRest = NewKind("RestError", nil, CodeInternalError)
	// ErrExecution is a failure to execute a project (ExecutionException).
	ErrExecution = NewKind("ExecutionError", nil, CodeInternalError)
	// ErrMissingConfig is a missing configuration file or directory
	// (MissingConfigException).
	ErrMissingConfig = NewKind("MissingConfig", nil, CodeInternalError)
	// ErrInvalidURL is a URL that cannot be used for a request
	// (InvalidUrlException). It is never retried.
	ErrInvalidURL = NewKind("InvalidURL", nil, CodeInvalidParameterValue)
	// ErrUnsupportedMultipartUpload is an artifact store that cannot take a
	// multipart upload.
	ErrUnsupportedMultipartUpload = NewKind("UnsupportedMultipartUpload", nil, CodeNotImplemented)
	// ErrNotImplemented is a feature that is not implemented.
	ErrNotImplemented = NewKind("NotImplemented", nil, CodeNotImplemented)
	// ErrTracing is the root of tracing errors, which should never stop the
	// traced program.
	ErrTracing = NewKind("TracingError", nil, CodeInternalError)
	// ErrTraceData is an error about the data of one trace.
	ErrTraceData = NewKind("TraceDataError", ErrTracing, CodeInternalError)
	// ErrTraceDataNotFound is trace data that does not exist.
	ErrTraceDataNotFound = NewKind("TraceDataNotFound", ErrTraceData, CodeNotFound)
	// ErrTraceDataCorrupted is trace data that cannot be read back.
	ErrTraceDataCorrupted = NewKind("TraceDataCorrupted", ErrTraceData, CodeDataLoss)
)

// The events of a Run, as kinds. The Run sends warnings to OnWarning, data
// errors to OnError, outages to OnNetworkError and a full queue to
// OnQueueFull (see Callbacks).
var (
	// ErrRunExists warns that the run id given already exists: the run is
	// resumed.
	ErrRunExists = NewKind("RunExists", nil, CodeResourceAlreadyExists)
	// ErrRunConflicting warns that the run exists with other settings than
	// those asked for (another name or experiment); the existing ones are kept.
	ErrRunConflicting = NewKind("RunConflicting", nil, CodeResourceConflict)
	// ErrForkParentNotFound warns that the run to fork from does not exist; the
	// run starts without a parent.
	ErrForkParentNotFound = NewKind("ForkParentNotFound", nil, CodeResourceDoesNotExist)
	// ErrDuplicatePoint warns that a point equal to its metric's latest point
	// (same step and value) was logged again; it is not sent twice.
	ErrDuplicatePoint = NewKind("DuplicatePoint", nil, CodeAlreadyExists)
	// ErrValueTruncated warns that a value longer than the backend accepts was
	// shortened.
	ErrValueTruncated = NewKind("ValueTruncated", nil, CodeInvalidParameterValue)
	// ErrRecovered reports that the backend answers again after an outage.
	ErrRecovered = NewKind("ConnectionRecovered", nil, CodeTemporarilyUnavailable)

	// ErrNetwork is a failure to reach the backend (refused, reset, timed out,
	// 5xx, 429) that outlived the retries.
	ErrNetwork = NewKind("NetworkError", nil, CodeTemporarilyUnavailable)
	// ErrRunNotFound is a run that does not exist (or no longer does).
	ErrRunNotFound = NewKind("RunNotFound", nil, CodeResourceDoesNotExist)
	// ErrInvalidRunParameters is a run that cannot be created or resumed with
	// the options given.
	ErrInvalidRunParameters = NewKind("InvalidRunParameters", nil, CodeInvalidParameterValue)
	// ErrUnauthorized is a backend refusing the credentials (401, 403).
	ErrUnauthorized = NewKind("Unauthorized", nil, CodePermissionDenied)
	// ErrSynchronizationStopped reports that the goroutine sending data to the
	// backend stopped (a panic in it or in the backend); it is restarted.
	ErrSynchronizationStopped = NewKind("SynchronizationStopped", nil, CodeInternalError)

	// ErrInvalidValue is the root of the kinds for logged entries that are
	// rejected before they are queued. Such entries are lost.
	ErrInvalidValue = NewKind("InvalidValue", nil, CodeInvalidParameterValue)
	// ErrStepNotIncreasing is a metric point whose step is lower than the
	// metric's latest step.
	ErrStepNotIncreasing = NewKind("StepNotIncreasing", ErrInvalidValue, 0)
	// ErrTimestampDecreasing is a metric point older than the metric's latest
	// point at the same step.
	ErrTimestampDecreasing = NewKind("TimestampDecreasing", ErrInvalidValue, 0)
	// ErrNonFiniteValue is a NaN or infinite metric value when they are not
	// allowed.
	ErrNonFiniteValue = NewKind("NonFiniteValue", ErrInvalidValue, 0)
	// ErrInvalidName is an empty, too long or ill-formed key.
	ErrInvalidName = NewKind("InvalidName", ErrInvalidValue, 0)
	// ErrValueTooLarge is a value longer than the backend accepts.
	ErrValueTooLarge = NewKind("ValueTooLarge", ErrInvalidValue, 0)
	// ErrTypeMismatch is a key logged with another type than before (a
	// metric as a param, say).
	ErrTypeMismatch = NewKind("TypeMismatch", ErrInvalidValue, 0)
	// ErrParamChanged is a param logged again with a different value; params
	// are write-once.
	ErrParamChanged = NewKind("ParamChanged", ErrInvalidValue, 0)

	// ErrQueueFull reports that the run's queue was full: points were dropped
	// or the caller waited.
	ErrQueueFull = NewKind("QueueFull", nil, CodeResourceExhausted)
	// ErrClosed is an operation on a run that is closed or terminated.
	ErrClosed = NewKind("Closed", nil, CodeInvalidState)
)

// String returns the kind's name with its ancestors, "TracingError/TraceDataError/TraceDataNotFound".
func (k *Kind) String() string {
	if k.parent == nil {
		return k.name
	}
	return fmt.Sprintf("%s/%s", k.parent.String(), k.name)
}
