package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Error types that cross the activity boundary. An activity returns one
// through its constructor below; the engine tells them apart with the
// matching IsX (never by the message), and lists the non-retryable ones in
// retry policies by these names.
const (
	// ErrTypeCallGone: the caller is no longer connected; do not retry.
	ErrTypeCallGone = "CallGone"
	// ErrTypeBadInput: the request itself is wrong; retrying will not help.
	ErrTypeBadInput = "BadInput"
	// ErrTypeHTTPStatus: an HTTP node got a non-2xx response.
	ErrTypeHTTPStatus = "HTTPStatus"
	// ErrTypeTransferFailed: the far end refused a transfer (a REFER
	// rejected, or a bridge that could not be set up).
	ErrTypeTransferFailed = "TransferFailed"
	// ErrTypeNoMediaWorker: no live media worker can place an outbound call.
	ErrTypeNoMediaWorker = "NoMediaWorker"
	// ErrTypeMediaTaskLost: Temporal marks a media activity started but
	// the media worker holding the call is not running it (a poll answer
	// lost as the matching service died, or a completion lost while the
	// history service was down); the workflow runs it again.
	ErrTypeMediaTaskLost = "MediaTaskLost"
	// ErrTypeAIUnavailable: no model endpoint is configured, its circuit
	// breaker is open, or it kept failing (429, 5xx, timeouts) for the
	// whole of the node's time budget.
	ErrTypeAIUnavailable = "AIUnavailable"
	// ErrTypeAIRejected: the endpoint refused the request (a 4xx other
	// than 429: bad key, unknown model, bad request).
	ErrTypeAIRejected = "AIRejected"
	// ErrTypeAIBadOutput: the model answered with something unusable
	// (malformed JSON, an intent or tool the node does not declare).
	ErrTypeAIBadOutput = "AIBadOutput"
)

// NewMediaTaskLost reports a media activity task the call's worker never
// received.
func NewMediaTaskLost(activityID string) error {
	return temporal.NewNonRetryableApplicationError("media activity "+activityID+
		" is marked started but the call's media worker is not running it", ErrTypeMediaTaskLost, nil)
}

// IsMediaTaskLost reports whether err is (or wraps) a MediaTaskLost error.
func IsMediaTaskLost(err error) bool { return isType(err, ErrTypeMediaTaskLost) }

// NewCallGone reports a call whose media session no longer exists.
func NewCallGone(callID string) error {
	return temporal.NewNonRetryableApplicationError("call "+callID+" is gone", ErrTypeCallGone, nil)
}

// IsCallGone reports whether err is (or wraps) a CallGone error.
func IsCallGone(err error) bool { return isType(err, ErrTypeCallGone) }

// NewBadInput wraps an error that retrying cannot fix.
func NewBadInput(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeBadInput, err)
}

// IsBadInput reports whether err is (or wraps) a BadInput error.
func IsBadInput(err error) bool { return isType(err, ErrTypeBadInput) }

// NewHTTPStatus reports a non-2xx response to an http node's request; the
// response travels with it as details, so on_error paths can still see it.
func NewHTTPStatus(method, redactedURL string, status int, statusText string, res HTTPResult) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("%s %s: status %d", method, redactedURL, status), ErrTypeHTTPStatus, errors.New(statusText), res)
}

// IsHTTPStatus reports whether err is (or wraps) an HTTPStatus error.
func IsHTTPStatus(err error) bool { return isType(err, ErrTypeHTTPStatus) }

// NewTransferFailed reports a transfer the far end refused or that could
// not be set up; cause may be nil.
func NewTransferFailed(msg string, cause error) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeTransferFailed, cause)
}

// IsTransferFailed reports whether err is (or wraps) a TransferFailed error.
func IsTransferFailed(err error) bool { return isType(err, ErrTypeTransferFailed) }

// NewNoMediaWorker reports that no live media worker is available.
func NewNoMediaWorker(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeNoMediaWorker, nil)
}

// IsNoMediaWorker reports whether err is (or wraps) a NoMediaWorker error.
func IsNoMediaWorker(err error) bool { return isType(err, ErrTypeNoMediaWorker) }

// NewAIUnavailable reports a model that cannot answer now. It is benign
// (workers log it at debug level): with no endpoint configured it is how
// every llm node ends, down its on_error exit.
func NewAIUnavailable(msg string, cause error) error {
	return temporal.NewApplicationErrorWithOptions(msg, ErrTypeAIUnavailable, temporal.ApplicationErrorOptions{
		NonRetryable: true, Cause: cause, Category: temporal.ApplicationErrorCategoryBenign})
}

// NewAIRejected reports a request the model endpoint refused.
func NewAIRejected(msg string, cause error) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeAIRejected, cause)
}

// NewAIBadOutput reports a model answer that cannot be used.
func NewAIBadOutput(msg string, cause error) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeAIBadOutput, cause)
}

// IsAIUnavailable reports whether err is (or wraps) an AIUnavailable error.
func IsAIUnavailable(err error) bool { return isType(err, ErrTypeAIUnavailable) }

// IsAIError reports whether err is one of the AI error types.
func IsAIError(err error) bool {
	return isType(err, ErrTypeAIUnavailable) || isType(err, ErrTypeAIRejected) || isType(err, ErrTypeAIBadOutput)
}

// isType reports whether err carries an application error of errType.
func isType(err error, errType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == errType
}
