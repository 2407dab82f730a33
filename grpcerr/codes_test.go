package grpcerr_test

import (
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// codeTable is every MLflow code with the gRPC code Status sends for it and
// the code a bare status of that gRPC code (one without an ErrorInfo of
// ours, as another server sends) decodes to. The last column is the code
// itself (the identity) for the codes that are canonical for their gRPC
// class (mlerr.CodeForGRPC), and the class's canonical code for the others.
var codeTable = []struct {
	code mlerr.Code
	grpc codes.Code
	bare mlerr.Code
}{
	{mlerr.CodeInternalError, codes.Internal, mlerr.CodeInternalError},
	{mlerr.CodeTemporarilyUnavailable, codes.Unavailable, mlerr.CodeTemporarilyUnavailable},
	{mlerr.CodeIOError, codes.Internal, mlerr.CodeInternalError},
	{mlerr.CodeBadRequest, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeServiceUnderMaintenance, codes.Unavailable, mlerr.CodeTemporarilyUnavailable},
	{mlerr.CodeWorkspaceTemporarilyUnavailable, codes.Unavailable, mlerr.CodeTemporarilyUnavailable},
	{mlerr.CodeDeadlineExceeded, codes.DeadlineExceeded, mlerr.CodeDeadlineExceeded},
	{mlerr.CodeCancelled, codes.Canceled, mlerr.CodeCancelled},
	{mlerr.CodeResourceExhausted, codes.ResourceExhausted, mlerr.CodeResourceExhausted},
	{mlerr.CodeAborted, codes.Aborted, mlerr.CodeAborted},
	{mlerr.CodeNotFound, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeUnauthenticated, codes.Unauthenticated, mlerr.CodeUnauthenticated},
	{mlerr.CodeInvalidParameterValue, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeEndpointNotFound, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeMalformedRequest, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeInvalidState, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodePermissionDenied, codes.PermissionDenied, mlerr.CodePermissionDenied},
	{mlerr.CodeFeatureDisabled, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeCustomerUnauthorized, codes.Unauthenticated, mlerr.CodeUnauthenticated},
	{mlerr.CodeRequestLimitExceeded, codes.ResourceExhausted, mlerr.CodeResourceExhausted},
	{mlerr.CodeResourceConflict, codes.Aborted, mlerr.CodeAborted},
	{mlerr.CodeUnparseableHTTPError, codes.Unknown, mlerr.CodeUnparseableHTTPError},
	{mlerr.CodeNotImplemented, codes.Unimplemented, mlerr.CodeNotImplemented},
	{mlerr.CodeDataLoss, codes.DataLoss, mlerr.CodeDataLoss},
	{mlerr.CodeInvalidStateTransition, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeCouldNotAcquireLock, codes.Aborted, mlerr.CodeAborted},
	{mlerr.CodeResourceAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeResourceDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeQuotaExceeded, codes.ResourceExhausted, mlerr.CodeResourceExhausted},
	{mlerr.CodeMaxBlockSizeExceeded, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeMaxReadSizeExceeded, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodePartialDelete, codes.Internal, mlerr.CodeInternalError},
	{mlerr.CodeMaxListSizeExceeded, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeDryRunFailed, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeResourceLimitExceeded, codes.ResourceExhausted, mlerr.CodeResourceExhausted},
	{mlerr.CodeDirectoryNotEmpty, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeDirectoryProtected, codes.PermissionDenied, mlerr.CodePermissionDenied},
	{mlerr.CodeMaxNotebookSizeExceeded, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeMaxChildNodeSizeExceeded, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeSearchQueryTooLong, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeSearchQueryTooShort, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeManagedResourceGroupDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodePermissionNotPropagated, codes.Unavailable, mlerr.CodeTemporarilyUnavailable},
	{mlerr.CodeDeploymentTimeout, codes.DeadlineExceeded, mlerr.CodeDeadlineExceeded},
	{mlerr.CodeGitConflict, codes.Aborted, mlerr.CodeAborted},
	{mlerr.CodeGitUnknownRef, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeGitSensitiveTokenDetected, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeGitURLNotOnAllowList, codes.PermissionDenied, mlerr.CodePermissionDenied},
	{mlerr.CodeGitRemoteError, codes.Unknown, mlerr.CodeUnparseableHTTPError},
	{mlerr.CodeProjectsOperationTimeout, codes.DeadlineExceeded, mlerr.CodeDeadlineExceeded},
	{mlerr.CodeIPYNBFileInRepo, codes.InvalidArgument, mlerr.CodeInvalidParameterValue},
	{mlerr.CodeInsecurePartnerResponse, codes.Unknown, mlerr.CodeUnparseableHTTPError},
	{mlerr.CodeMalformedPartnerResponse, codes.Unknown, mlerr.CodeUnparseableHTTPError},
	{mlerr.CodeMetastoreDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeDACDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeCatalogDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeSchemaDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeTableDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeShareDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeRecipientDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeStorageCredentialDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeExternalLocationDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodePrincipalDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeProviderDoesNotExist, codes.NotFound, mlerr.CodeNotFound},
	{mlerr.CodeMetastoreAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeDACAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeCatalogAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeSchemaAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeTableAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeShareAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeRecipientAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeStorageCredentialAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeExternalLocationAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeProviderAlreadyExists, codes.AlreadyExists, mlerr.CodeAlreadyExists},
	{mlerr.CodeCatalogNotEmpty, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeSchemaNotEmpty, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeMetastoreNotEmpty, codes.FailedPrecondition, mlerr.CodeInvalidState},
	{mlerr.CodeProviderShareNotAccessible, codes.PermissionDenied, mlerr.CodePermissionDenied},
}

func TestEveryCodeRoundTrips(t *testing.T) {
	require.Len(t, codeTable, len(mlerr.Codes()), "the table lists every code")
	for i, c := range mlerr.Codes() {
		row := codeTable[i]
		require.Equal(t, c, row.code, "row %d: the table follows mlerr.Codes()", i)
		t.Run(c.String(), func(t *testing.T) {
			s := grpcerr.Status(mlerr.New(c, "boom"))
			assert.Equal(t, row.grpc, s.Code(), "Status sends the table's gRPC column")
			assert.Equal(t, codes.Code(c.GRPC()), s.Code())

			back := grpcerr.FromStatus(s)
			require.NotNil(t, back)
			assert.Equal(t, c, mlerr.CodeOf(back), "with its ErrorInfo, every code comes back as itself")
			assert.Equal(t, c.String(), back.Name())

			bare := grpcerr.FromStatus(status.New(s.Code(), "boom"))
			assert.Equal(t, row.bare, mlerr.CodeOf(bare), "a bare status gives the canonical code")
			assert.Equal(t, mlerr.CodeForGRPC(c.GRPC()), row.bare, "the canonical code is the root table's")
		})
	}
}

func TestCodesCanonicalForTheirClass(t *testing.T) {
	// The codes a bare status gives back as themselves: one per gRPC class
	// (OUT_OF_RANGE and INVALID_ARGUMENT share INVALID_PARAMETER_VALUE;
	// OK has none).
	var identity []mlerr.Code
	for _, row := range codeTable {
		if row.bare == row.code {
			identity = append(identity, row.code)
		}
	}
	assert.Equal(t, []mlerr.Code{
		mlerr.CodeInternalError, mlerr.CodeTemporarilyUnavailable, mlerr.CodeDeadlineExceeded,
		mlerr.CodeCancelled, mlerr.CodeResourceExhausted, mlerr.CodeAborted, mlerr.CodeNotFound,
		mlerr.CodeAlreadyExists, mlerr.CodeUnauthenticated, mlerr.CodeInvalidParameterValue,
		mlerr.CodeInvalidState, mlerr.CodePermissionDenied, mlerr.CodeUnparseableHTTPError,
		mlerr.CodeNotImplemented, mlerr.CodeDataLoss,
	}, identity)
}
