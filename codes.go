package mlerr

import "strconv"

// Code is an MLflow ErrorCode, numbered as in MLflow's protobuf enum. The zero
// value means "no code": a nil error, or a success.
//
// Code implements error, so a bare code can be returned, and
// errors.Is(err, CodeResourceDoesNotExist) reports whether err carries that code
// anywhere in its chain.
type Code int32

// The MLflow error codes, in the order of MLflow's protobuf enum.
const (
	// CodeInternalError is MLflow's INTERNAL_ERROR (protobuf 1; HTTP 500).
	CodeInternalError Code = 1
	// CodeTemporarilyUnavailable is MLflow's TEMPORARILY_UNAVAILABLE (protobuf 2; HTTP 503).
	CodeTemporarilyUnavailable Code = 2
	// CodeIOError is MLflow's IO_ERROR (protobuf 3; no HTTP status of its own (500)).
	CodeIOError Code = 3
	// CodeBadRequest is MLflow's BAD_REQUEST (protobuf 4; HTTP 400).
	CodeBadRequest Code = 4
	// CodeServiceUnderMaintenance is MLflow's SERVICE_UNDER_MAINTENANCE (protobuf 5; no HTTP status of its own (500)).
	CodeServiceUnderMaintenance Code = 5
	// CodeWorkspaceTemporarilyUnavailable is MLflow's WORKSPACE_TEMPORARILY_UNAVAILABLE (protobuf 6; no HTTP status of its own (500)).
	CodeWorkspaceTemporarilyUnavailable Code = 6
	// CodeDeadlineExceeded is MLflow's DEADLINE_EXCEEDED (protobuf 7; HTTP 504).
	CodeDeadlineExceeded Code = 7
	// CodeCancelled is MLflow's CANCELLED (protobuf 8; HTTP 499).
	CodeCancelled Code = 8
	// CodeResourceExhausted is MLflow's RESOURCE_EXHAUSTED (protobuf 9; HTTP 429).
	CodeResourceExhausted Code = 9
	// CodeAborted is MLflow's ABORTED (protobuf 10; HTTP 409).
	CodeAborted Code = 10
	// CodeNotFound is MLflow's NOT_FOUND (protobuf 11; HTTP 404).
	CodeNotFound Code = 11
	// CodeAlreadyExists is MLflow's ALREADY_EXISTS (protobuf 12; HTTP 409).
	CodeAlreadyExists Code = 12
	// CodeUnauthenticated is MLflow's UNAUTHENTICATED (protobuf 13; HTTP 401).
	CodeUnauthenticated Code = 13
	// CodeInvalidParameterValue is MLflow's INVALID_PARAMETER_VALUE (protobuf 1000; HTTP 400).
	CodeInvalidParameterValue Code = 1000
	// CodeEndpointNotFound is MLflow's ENDPOINT_NOT_FOUND (protobuf 1001; HTTP 404).
	CodeEndpointNotFound Code = 1001
	// CodeMalformedRequest is MLflow's MALFORMED_REQUEST (protobuf 1002; no HTTP status of its own (500)).
	CodeMalformedRequest Code = 1002
	// CodeInvalidState is MLflow's INVALID_STATE (protobuf 1003; HTTP 500).
	CodeInvalidState Code = 1003
	// CodePermissionDenied is MLflow's PERMISSION_DENIED (protobuf 1004; HTTP 403).
	CodePermissionDenied Code = 1004
	// CodeFeatureDisabled is MLflow's FEATURE_DISABLED (protobuf 1005; no HTTP status of its own (500)).
	CodeFeatureDisabled Code = 1005
	// CodeCustomerUnauthorized is MLflow's CUSTOMER_UNAUTHORIZED (protobuf 1006; HTTP 401).
	CodeCustomerUnauthorized Code = 1006
	// CodeRequestLimitExceeded is MLflow's REQUEST_LIMIT_EXCEEDED (protobuf 1007; HTTP 429).
	CodeRequestLimitExceeded Code = 1007
	// CodeResourceConflict is MLflow's RESOURCE_CONFLICT (protobuf 1008; HTTP 409).
	CodeResourceConflict Code = 1008
	// CodeUnparseableHTTPError is MLflow's UNPARSEABLE_HTTP_ERROR (protobuf 1009; no HTTP status of its own (500)).
	CodeUnparseableHTTPError Code = 1009
	// CodeNotImplemented is MLflow's NOT_IMPLEMENTED (protobuf 1010; HTTP 501).
	CodeNotImplemented Code = 1010
	// CodeDataLoss is MLflow's DATA_LOSS (protobuf 1011; HTTP 500).
	CodeDataLoss Code = 1011
	// CodeInvalidStateTransition is MLflow's INVALID_STATE_TRANSITION (protobuf 2001; no HTTP status of its own (500)).
	CodeInvalidStateTransition Code = 2001
	// CodeCouldNotAcquireLock is MLflow's COULD_NOT_ACQUIRE_LOCK (protobuf 2002; no HTTP status of its own (500)).
	CodeCouldNotAcquireLock Code = 2002
	// CodeResourceAlreadyExists is MLflow's RESOURCE_ALREADY_EXISTS (protobuf 3001; HTTP 400).
	CodeResourceAlreadyExists Code = 3001
	// CodeResourceDoesNotExist is MLflow's RESOURCE_DOES_NOT_EXIST (protobuf 3002; HTTP 404).
	CodeResourceDoesNotExist Code = 3002
	// CodeQuotaExceeded is MLflow's QUOTA_EXCEEDED (protobuf 4001; no HTTP status of its own (500)).
	CodeQuotaExceeded Code = 4001
	// CodeMaxBlockSizeExceeded is MLflow's MAX_BLOCK_SIZE_EXCEEDED (protobuf 4002; no HTTP status of its own (500)).
	CodeMaxBlockSizeExceeded Code = 4002
	// CodeMaxReadSizeExceeded is MLflow's MAX_READ_SIZE_EXCEEDED (protobuf 4003; no HTTP status of its own (500)).
	CodeMaxReadSizeExceeded Code = 4003
	// CodePartialDelete is MLflow's PARTIAL_DELETE (protobuf 4004; no HTTP status of its own (500)).
	CodePartialDelete Code = 4004
	// CodeMaxListSizeExceeded is MLflow's MAX_LIST_SIZE_EXCEEDED (protobuf 4005; no HTTP status of its own (500)).
	CodeMaxListSizeExceeded Code = 4005
	// CodeDryRunFailed is MLflow's DRY_RUN_FAILED (protobuf 5001; no HTTP status of its own (500)).
	CodeDryRunFailed Code = 5001
	// CodeResourceLimitExceeded is MLflow's RESOURCE_LIMIT_EXCEEDED (protobuf 5002; no HTTP status of its own (500)).
	CodeResourceLimitExceeded Code = 5002
	// CodeDirectoryNotEmpty is MLflow's DIRECTORY_NOT_EMPTY (protobuf 6001; no HTTP status of its own (500)).
	CodeDirectoryNotEmpty Code = 6001
	// CodeDirectoryProtected is MLflow's DIRECTORY_PROTECTED (protobuf 6002; no HTTP status of its own (500)).
	CodeDirectoryProtected Code = 6002
	// CodeMaxNotebookSizeExceeded is MLflow's MAX_NOTEBOOK_SIZE_EXCEEDED (protobuf 6003; no HTTP status of its own (500)).
	CodeMaxNotebookSizeExceeded Code = 6003
	// CodeMaxChildNodeSizeExceeded is MLflow's MAX_CHILD_NODE_SIZE_EXCEEDED (protobuf 6004; no HTTP status of its own (500)).
	CodeMaxChildNodeSizeExceeded Code = 6004
	// CodeSearchQueryTooLong is MLflow's SEARCH_QUERY_TOO_LONG (protobuf 6100; no HTTP status of its own (500)).
	CodeSearchQueryTooLong Code = 6100
	// CodeSearchQueryTooShort is MLflow's SEARCH_QUERY_TOO_SHORT (protobuf 6101; no HTTP status of its own (500)).
	CodeSearchQueryTooShort Code = 6101
	// CodeManagedResourceGroupDoesNotExist is MLflow's MANAGED_RESOURCE_GROUP_DOES_NOT_EXIST (protobuf 7001; no HTTP status of its own (500)).
	CodeManagedResourceGroupDoesNotExist Code = 7001
	// CodePermissionNotPropagated is MLflow's PERMISSION_NOT_PROPAGATED (protobuf 7002; no HTTP status of its own (500)).
	CodePermissionNotPropagated Code = 7002
	// CodeDeploymentTimeout is MLflow's DEPLOYMENT_TIMEOUT (protobuf 7003; no HTTP status of its own (500)).
	CodeDeploymentTimeout Code = 7003
	// CodeGitConflict is MLflow's GIT_CONFLICT (protobuf 8001; no HTTP status of its own (500)).
	CodeGitConflict Code = 8001
	// CodeGitUnknownRef is MLflow's GIT_UNKNOWN_REF (protobuf 8002; no HTTP status of its own (500)).
	CodeGitUnknownRef Code = 8002
	// CodeGitSensitiveTokenDetected is MLflow's GIT_SENSITIVE_TOKEN_DETECTED (protobuf 8003; no HTTP status of its own (500)).
	CodeGitSensitiveTokenDetected Code = 8003
	// CodeGitURLNotOnAllowList is MLflow's GIT_URL_NOT_ON_ALLOW_LIST (protobuf 8004; no HTTP status of its own (500)).
	CodeGitURLNotOnAllowList Code = 8004
	// CodeGitRemoteError is MLflow's GIT_REMOTE_ERROR (protobuf 8005; no HTTP status of its own (500)).
	CodeGitRemoteError Code = 8005
	// CodeProjectsOperationTimeout is MLflow's PROJECTS_OPERATION_TIMEOUT (protobuf 8006; no HTTP status of its own (500)).
	CodeProjectsOperationTimeout Code = 8006
	// CodeIPYNBFileInRepo is MLflow's IPYNB_FILE_IN_REPO (protobuf 8007; no HTTP status of its own (500)).
	CodeIPYNBFileInRepo Code = 8007
	// CodeInsecurePartnerResponse is MLflow's INSECURE_PARTNER_RESPONSE (protobuf 8100; no HTTP status of its own (500)).
	CodeInsecurePartnerResponse Code = 8100
	// CodeMalformedPartnerResponse is MLflow's MALFORMED_PARTNER_RESPONSE (protobuf 8101; no HTTP status of its own (500)).
	CodeMalformedPartnerResponse Code = 8101
	// CodeMetastoreDoesNotExist is MLflow's METASTORE_DOES_NOT_EXIST (protobuf 9000; no HTTP status of its own (500)).
	CodeMetastoreDoesNotExist Code = 9000
	// CodeDACDoesNotExist is MLflow's DAC_DOES_NOT_EXIST (protobuf 9001; no HTTP status of its own (500)).
	CodeDACDoesNotExist Code = 9001
	// CodeCatalogDoesNotExist is MLflow's CATALOG_DOES_NOT_EXIST (protobuf 9002; no HTTP status of its own (500)).
	CodeCatalogDoesNotExist Code = 9002
	// CodeSchemaDoesNotExist is MLflow's SCHEMA_DOES_NOT_EXIST (protobuf 9003; no HTTP status of its own (500)).
	CodeSchemaDoesNotExist Code = 9003
	// CodeTableDoesNotExist is MLflow's TABLE_DOES_NOT_EXIST (protobuf 9004; no HTTP status of its own (500)).
	CodeTableDoesNotExist Code = 9004
	// CodeShareDoesNotExist is MLflow's SHARE_DOES_NOT_EXIST (protobuf 9005; no HTTP status of its own (500)).
	CodeShareDoesNotExist Code = 9005
	// CodeRecipientDoesNotExist is MLflow's RECIPIENT_DOES_NOT_EXIST (protobuf 9006; no HTTP status of its own (500)).
	CodeRecipientDoesNotExist Code = 9006
	// CodeStorageCredentialDoesNotExist is MLflow's STORAGE_CREDENTIAL_DOES_NOT_EXIST (protobuf 9007; no HTTP status of its own (500)).
	CodeStorageCredentialDoesNotExist Code = 9007
	// CodeExternalLocationDoesNotExist is MLflow's EXTERNAL_LOCATION_DOES_NOT_EXIST (protobuf 9008; no HTTP status of its own (500)).
	CodeExternalLocationDoesNotExist Code = 9008
	// CodePrincipalDoesNotExist is MLflow's PRINCIPAL_DOES_NOT_EXIST (protobuf 9009; no HTTP status of its own (500)).
	CodePrincipalDoesNotExist Code = 9009
	// CodeProviderDoesNotExist is MLflow's PROVIDER_DOES_NOT_EXIST (protobuf 9010; no HTTP status of its own (500)).
	CodeProviderDoesNotExist Code = 9010
	// CodeMetastoreAlreadyExists is MLflow's METASTORE_ALREADY_EXISTS (protobuf 9020; no HTTP status of its own (500)).
	CodeMetastoreAlreadyExists Code = 9020
	// CodeDACAlreadyExists is MLflow's DAC_ALREADY_EXISTS (protobuf 9021; no HTTP status of its own (500)).
	CodeDACAlreadyExists Code = 9021
	// CodeCatalogAlreadyExists is MLflow's CATALOG_ALREADY_EXISTS (protobuf 9022; no HTTP status of its own (500)).
	CodeCatalogAlreadyExists Code = 9022
	// CodeSchemaAlreadyExists is MLflow's SCHEMA_ALREADY_EXISTS (protobuf 9023; no HTTP status of its own (500)).
	CodeSchemaAlreadyExists Code = 9023
	// CodeTableAlreadyExists is MLflow's TABLE_ALREADY_EXISTS (protobuf 9024; no HTTP status of its own (500)).
	CodeTableAlreadyExists Code = 9024
	// CodeShareAlreadyExists is MLflow's SHARE_ALREADY_EXISTS (protobuf 9025; no HTTP status of its own (500)).
	CodeShareAlreadyExists Code = 9025
	// CodeRecipientAlreadyExists is MLflow's RECIPIENT_ALREADY_EXISTS (protobuf 9026; no HTTP status of its own (500)).
	CodeRecipientAlreadyExists Code = 9026
	// CodeStorageCredentialAlreadyExists is MLflow's STORAGE_CREDENTIAL_ALREADY_EXISTS (protobuf 9027; no HTTP status of its own (500)).
	CodeStorageCredentialAlreadyExists Code = 9027
	// CodeExternalLocationAlreadyExists is MLflow's EXTERNAL_LOCATION_ALREADY_EXISTS (protobuf 9028; no HTTP status of its own (500)).
	CodeExternalLocationAlreadyExists Code = 9028
	// CodeProviderAlreadyExists is MLflow's PROVIDER_ALREADY_EXISTS (protobuf 9029; no HTTP status of its own (500)).
	CodeProviderAlreadyExists Code = 9029
	// CodeCatalogNotEmpty is MLflow's CATALOG_NOT_EMPTY (protobuf 9040; no HTTP status of its own (500)).
	CodeCatalogNotEmpty Code = 9040
	// CodeSchemaNotEmpty is MLflow's SCHEMA_NOT_EMPTY (protobuf 9041; no HTTP status of its own (500)).
	CodeSchemaNotEmpty Code = 9041
	// CodeMetastoreNotEmpty is MLflow's METASTORE_NOT_EMPTY (protobuf 9042; no HTTP status of its own (500)).
	CodeMetastoreNotEmpty Code = 9042
	// CodeProviderShareNotAccessible is MLflow's PROVIDER_SHARE_NOT_ACCESSIBLE (protobuf 9060; no HTTP status of its own (500)).
	CodeProviderShareNotAccessible Code = 9060
)

// retryClass says whether an operation that failed with a code may be tried
// again.
type retryClass uint8

const (
	// retryNever marks caller faults and final answers: repeating the same
	// request gives the same error.
	retryNever retryClass = iota
	// retryTransient marks server states that pass (unavailable, deadline,
	// internal error, aborted, lock contention): retry with backoff.
	retryTransient
	// retryThrottled marks rate limiting and exhausted quotas: retry, but honour
	// the server's Retry-After and back off harder.
	retryThrottled
)

// String returns "never", "transient" or "throttled".
func (r retryClass) String() string {
	if int(r) < len(retryClassNames) {
		return retryClassNames[r]
	}
	return "never"
}

var retryClassNames = [...]string{retryNever: "never", retryTransient: "transient", retryThrottled: "throttled"}

// The canonical gRPC status codes (google.rpc.Code), as the code table's
// gRPC column holds them; Code.GRPC returns them as plain numbers, which the
// grpcerr module turns into grpc's codes.Code.
const (
	grpcOK                 uint32 = 0
	grpcCanceled           uint32 = 1
	grpcUnknown            uint32 = 2
	grpcInvalidArgument    uint32 = 3
	grpcDeadlineExceeded   uint32 = 4
	grpcNotFound           uint32 = 5
	grpcAlreadyExists      uint32 = 6
	grpcPermissionDenied   uint32 = 7
	grpcResourceExhausted  uint32 = 8
	grpcFailedPrecondition uint32 = 9
	grpcAborted            uint32 = 10
	grpcOutOfRange         uint32 = 11
	grpcUnimplemented      uint32 = 12
	grpcInternal           uint32 = 13
	grpcUnavailable        uint32 = 14
	grpcDataLoss           uint32 = 15
	grpcUnauthenticated    uint32 = 16
)

// canonical marks the reverse maps that answer with a row's code.
type canonical uint8

const (
	// canonHTTP: the code is MLflow's HTTP_STATUS_TO_ERROR_CODE answer for
	// the row's HTTP status (CodeForHTTPStatus).
	canonHTTP canonical = 1 << iota
	// canonGRPC: the code is CodeForGRPC's answer for the row's gRPC code.
	canonGRPC
)

// codeRow is one row of the code table: everything known about a code.
type codeRow struct {
	code  Code
	name  string
	http  int       // MLflow's ERROR_CODE_TO_HTTP_STATUS; 0 when MLflow maps none
	canon canonical // the reverse maps (HTTP status, gRPC code) that answer with this code
	grpc  uint32
	retry retryClass
}

// codeTable is the single source of truth: String, ParseCode, HTTPStatus,
// CodeForHTTPStatus, GRPC and Retry are all derived from it. Rows follow
// testdata/mlflow_error_codes.tsv, which a test checks row by row.
var codeTable = [...]codeRow{
	{CodeInternalError, "INTERNAL_ERROR", 500, canonHTTP | canonGRPC, grpcInternal, retryTransient},
	{CodeTemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", 503, canonHTTP | canonGRPC, grpcUnavailable, retryTransient},
	{CodeIOError, "IO_ERROR", 0, 0, grpcInternal, retryTransient},
	{CodeBadRequest, "BAD_REQUEST", 400, canonHTTP, grpcInvalidArgument, retryNever},
	{CodeServiceUnderMaintenance, "SERVICE_UNDER_MAINTENANCE", 0, 0, grpcUnavailable, retryTransient},
	{CodeWorkspaceTemporarilyUnavailable, "WORKSPACE_TEMPORARILY_UNAVAILABLE", 0, 0, grpcUnavailable, retryTransient},
	{CodeDeadlineExceeded, "DEADLINE_EXCEEDED", 504, canonHTTP | canonGRPC, grpcDeadlineExceeded, retryTransient},
	{CodeCancelled, "CANCELLED", 499, canonHTTP | canonGRPC, grpcCanceled, retryNever},
	{CodeResourceExhausted, "RESOURCE_EXHAUSTED", 429, canonHTTP | canonGRPC, grpcResourceExhausted, retryThrottled},
	{CodeAborted, "ABORTED", 409, canonGRPC, grpcAborted, retryTransient},
	{CodeNotFound, "NOT_FOUND", 404, canonGRPC, grpcNotFound, retryNever},
	{CodeAlreadyExists, "ALREADY_EXISTS", 409, canonHTTP | canonGRPC, grpcAlreadyExists, retryNever},
	{CodeUnauthenticated, "UNAUTHENTICATED", 401, canonHTTP | canonGRPC, grpcUnauthenticated, retryNever},
	{CodeInvalidParameterValue, "INVALID_PARAMETER_VALUE", 400, canonGRPC, grpcInvalidArgument, retryNever},
	{CodeEndpointNotFound, "ENDPOINT_NOT_FOUND", 404, canonHTTP, grpcNotFound, retryNever},
	{CodeMalformedRequest, "MALFORMED_REQUEST", 0, 0, grpcInvalidArgument, retryNever},
	{CodeInvalidState, "INVALID_STATE", 500, canonGRPC, grpcFailedPrecondition, retryNever},
	{CodePermissionDenied, "PERMISSION_DENIED", 403, canonHTTP | canonGRPC, grpcPermissionDenied, retryNever},
	{CodeFeatureDisabled, "FEATURE_DISABLED", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeCustomerUnauthorized, "CUSTOMER_UNAUTHORIZED", 401, 0, grpcUnauthenticated, retryNever},
	{CodeRequestLimitExceeded, "REQUEST_LIMIT_EXCEEDED", 429, 0, grpcResourceExhausted, retryThrottled},
	{CodeResourceConflict, "RESOURCE_CONFLICT", 409, 0, grpcAborted, retryNever},
	{CodeUnparseableHTTPError, "UNPARSEABLE_HTTP_ERROR", 0, canonGRPC, grpcUnknown, retryNever},
	{CodeNotImplemented, "NOT_IMPLEMENTED", 501, canonHTTP | canonGRPC, grpcUnimplemented, retryNever},
	{CodeDataLoss, "DATA_LOSS", 500, canonGRPC, grpcDataLoss, retryNever},
	{CodeInvalidStateTransition, "INVALID_STATE_TRANSITION", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeCouldNotAcquireLock, "COULD_NOT_ACQUIRE_LOCK", 0, 0, grpcAborted, retryTransient},
	{CodeResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS", 400, 0, grpcAlreadyExists, retryNever},
	{CodeResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", 404, 0, grpcNotFound, retryNever},
	{CodeQuotaExceeded, "QUOTA_EXCEEDED", 0, 0, grpcResourceExhausted, retryNever},
	{CodeMaxBlockSizeExceeded, "MAX_BLOCK_SIZE_EXCEEDED", 0, 0, grpcInvalidArgument, retryNever},
	{CodeMaxReadSizeExceeded, "MAX_READ_SIZE_EXCEEDED", 0, 0, grpcInvalidArgument, retryNever},
	{CodePartialDelete, "PARTIAL_DELETE", 0, 0, grpcInternal, retryNever},
	{CodeMaxListSizeExceeded, "MAX_LIST_SIZE_EXCEEDED", 0, 0, grpcInvalidArgument, retryNever},
	{CodeDryRunFailed, "DRY_RUN_FAILED", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeResourceLimitExceeded, "RESOURCE_LIMIT_EXCEEDED", 0, 0, grpcResourceExhausted, retryNever},
	{CodeDirectoryNotEmpty, "DIRECTORY_NOT_EMPTY", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeDirectoryProtected, "DIRECTORY_PROTECTED", 0, 0, grpcPermissionDenied, retryNever},
	{CodeMaxNotebookSizeExceeded, "MAX_NOTEBOOK_SIZE_EXCEEDED", 0, 0, grpcInvalidArgument, retryNever},
	{CodeMaxChildNodeSizeExceeded, "MAX_CHILD_NODE_SIZE_EXCEEDED", 0, 0, grpcInvalidArgument, retryNever},
	{CodeSearchQueryTooLong, "SEARCH_QUERY_TOO_LONG", 0, 0, grpcInvalidArgument, retryNever},
	{CodeSearchQueryTooShort, "SEARCH_QUERY_TOO_SHORT", 0, 0, grpcInvalidArgument, retryNever},
	{CodeManagedResourceGroupDoesNotExist, "MANAGED_RESOURCE_GROUP_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodePermissionNotPropagated, "PERMISSION_NOT_PROPAGATED", 0, 0, grpcUnavailable, retryTransient},
	{CodeDeploymentTimeout, "DEPLOYMENT_TIMEOUT", 0, 0, grpcDeadlineExceeded, retryNever},
	{CodeGitConflict, "GIT_CONFLICT", 0, 0, grpcAborted, retryNever},
	{CodeGitUnknownRef, "GIT_UNKNOWN_REF", 0, 0, grpcNotFound, retryNever},
	{CodeGitSensitiveTokenDetected, "GIT_SENSITIVE_TOKEN_DETECTED", 0, 0, grpcInvalidArgument, retryNever},
	{CodeGitURLNotOnAllowList, "GIT_URL_NOT_ON_ALLOW_LIST", 0, 0, grpcPermissionDenied, retryNever},
	{CodeGitRemoteError, "GIT_REMOTE_ERROR", 0, 0, grpcUnknown, retryNever},
	{CodeProjectsOperationTimeout, "PROJECTS_OPERATION_TIMEOUT", 0, 0, grpcDeadlineExceeded, retryNever},
	{CodeIPYNBFileInRepo, "IPYNB_FILE_IN_REPO", 0, 0, grpcInvalidArgument, retryNever},
	{CodeInsecurePartnerResponse, "INSECURE_PARTNER_RESPONSE", 0, 0, grpcUnknown, retryNever},
	{CodeMalformedPartnerResponse, "MALFORMED_PARTNER_RESPONSE", 0, 0, grpcUnknown, retryNever},
	{CodeMetastoreDoesNotExist, "METASTORE_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeDACDoesNotExist, "DAC_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeCatalogDoesNotExist, "CATALOG_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeSchemaDoesNotExist, "SCHEMA_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeTableDoesNotExist, "TABLE_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeShareDoesNotExist, "SHARE_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeRecipientDoesNotExist, "RECIPIENT_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeStorageCredentialDoesNotExist, "STORAGE_CREDENTIAL_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeExternalLocationDoesNotExist, "EXTERNAL_LOCATION_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodePrincipalDoesNotExist, "PRINCIPAL_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeProviderDoesNotExist, "PROVIDER_DOES_NOT_EXIST", 0, 0, grpcNotFound, retryNever},
	{CodeMetastoreAlreadyExists, "METASTORE_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeDACAlreadyExists, "DAC_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeCatalogAlreadyExists, "CATALOG_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeSchemaAlreadyExists, "SCHEMA_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeTableAlreadyExists, "TABLE_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeShareAlreadyExists, "SHARE_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeRecipientAlreadyExists, "RECIPIENT_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeStorageCredentialAlreadyExists, "STORAGE_CREDENTIAL_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeExternalLocationAlreadyExists, "EXTERNAL_LOCATION_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeProviderAlreadyExists, "PROVIDER_ALREADY_EXISTS", 0, 0, grpcAlreadyExists, retryNever},
	{CodeCatalogNotEmpty, "CATALOG_NOT_EMPTY", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeSchemaNotEmpty, "SCHEMA_NOT_EMPTY", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeMetastoreNotEmpty, "METASTORE_NOT_EMPTY", 0, 0, grpcFailedPrecondition, retryNever},
	{CodeProviderShareNotAccessible, "PROVIDER_SHARE_NOT_ACCESSIBLE", 0, 0, grpcPermissionDenied, retryNever},
}

const (
	maxCodeNumber = 9060 // the largest protobuf number in codeTable
	maxHTTPStatus = 599
)

var (
	// codeIndex maps a code number to 1 + its row in codeTable (0: unknown).
	codeIndex [maxCodeNumber + 1]uint8
	// statusCode maps an HTTP status to MLflow's canonical code for it.
	statusCode [maxHTTPStatus + 1]Code
	// grpcCode maps a gRPC code number to the canonical code for it.
	grpcCode [grpcUnauthenticated + 1]Code
	// codeByName maps an MLflow name to its code.
	codeByName = make(map[string]Code, len(codeTable))
	// allCodes is codeTable's codes in table order, for Codes.
	allCodes = make([]Code, 0, len(codeTable))
)

func init() {
	for i := range codeTable {
		r := &codeTable[i]
		codeIndex[r.code] = uint8(i + 1)
		codeByName[r.name] = r.code
		allCodes = append(allCodes, r.code)
		indexCanonical(r)
	}
}

// indexCanonical makes r's code the one its HTTP status and its gRPC code
// map back to, where the table marks it canonical.
func indexCanonical(r *codeRow) {
	if r.canon&canonHTTP != 0 {
		statusCode[r.http] = r.code
	}
	if r.canon&canonGRPC != 0 {
		grpcCode[r.grpc] = r.code
	}
}

func (c Code) row() *codeRow {
	if c > 0 && c <= maxCodeNumber {
		if i := codeIndex[c]; i != 0 {
			return &codeTable[i-1]
		}
	}
	return nil
}

// Codes returns every known code in the order of MLflow's enum. The caller
// may modify the returned slice.
func Codes() []Code {
	return append([]Code(nil), allCodes...)
}

// String returns MLflow's name for the code ("RESOURCE_DOES_NOT_EXIST"), "OK"
// for the zero code, and "Code(N)" for a number MLflow does not define.
func (c Code) String() string {
	if r := c.row(); r != nil {
		return r.name
	}
	if c == 0 {
		return "OK"
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Error makes Code an error; it returns the same text as String.
func (c Code) Error() string { return c.String() }

// Known reports whether c is one of MLflow's codes.
func (c Code) Known() bool { return c.row() != nil }

// HTTPStatus returns the HTTP status MLflow answers with for the code: its
// ERROR_CODE_TO_HTTP_STATUS entry, or 500 for codes that have none. The zero
// code gives 200.
func (c Code) HTTPStatus() int {
	if r := c.row(); r != nil && r.http != 0 {
		return r.http
	}
	if c == 0 {
		return 200
	}
	return 500
}

// GRPC returns the number of the canonical gRPC status code (google.rpc.Code,
// the values of grpc's codes.Code) closest in meaning to c: 2 (UNKNOWN) for
// numbers MLflow does not define, 0 (OK) for the zero code. The grpcerr
// module converts with it.
func (c Code) GRPC() uint32 {
	if r := c.row(); r != nil {
		return r.grpc
	}
	if c == 0 {
		return grpcOK
	}
	return grpcUnknown
}

// Retry returns the code's retry class. Unknown codes are never retried.
func (c Code) retry() retryClass {
	if r := c.row(); r != nil {
		return r.retry
	}
	return retryNever
}

// Retryable reports whether an operation that failed with c may succeed if
// tried again (the class is retryTransient or retryThrottled).
func (c Code) Retryable() bool { return c.retry() != retryNever }

// MarshalText encodes the code as its MLflow name.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes an MLflow name; see ParseCode.
func (c *Code) UnmarshalText(b []byte) error {
	v, err := ParseCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseCode returns the code with the given MLflow name ("INTERNAL_ERROR").
// "OK" gives the zero code. Any other name gives an *Error with code
// INVALID_PARAMETER_VALUE.
func ParseCode(name string) (Code, error) {
	if c, ok := codeByName[name]; ok {
		return c, nil
	}
	if name == "OK" {
		return 0, nil
	}
	return 0, InvalidParameterValue("unknown MLflow error code %q", name)
}

// CodeForHTTPStatus returns MLflow's canonical code for an HTTP status, as
// MLflow's HTTP_STATUS_TO_ERROR_CODE does: 400 gives BAD_REQUEST, 404
// ENDPOINT_NOT_FOUND, 409 ALREADY_EXISTS, and any status MLflow does not map
// gives INTERNAL_ERROR (2xx included, as in MLflow).
func CodeForHTTPStatus(status int) Code {
	if status >= 0 && status <= maxHTTPStatus {
		if c := statusCode[status]; c != 0 {
			return c
		}
	}
	return CodeInternalError
}

// CodeForGRPC returns the canonical code for a gRPC status code number, the
// reverse of Code.GRPC: the code of the same name where MLflow has one
// (NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, ...), INVALID_PARAMETER_VALUE
// for INVALID_ARGUMENT and OUT_OF_RANGE, INVALID_STATE for
// FAILED_PRECONDITION, TEMPORARILY_UNAVAILABLE for UNAVAILABLE,
// NOT_IMPLEMENTED for UNIMPLEMENTED, UNPARSEABLE_HTTP_ERROR for UNKNOWN (an
// error of no known kind, never retried), the zero code for OK, and
// INTERNAL_ERROR for INTERNAL and numbers gRPC does not define.
// CodeForGRPC(c.GRPC()) == c for the codes that are alone in their gRPC
// class and for those marked canonical in the table.
func CodeForGRPC(code uint32) Code {
	switch {
	case code == grpcOK:
		return 0
	case code == grpcOutOfRange:
		return CodeInvalidParameterValue
	case code < uint32(len(grpcCode)) && grpcCode[code] != 0:
		return grpcCode[code]
	}
	return CodeInternalError
}
