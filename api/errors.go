package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// ErrorBody is the JSON of every error answer, in Microsoft Graph's shape:
//
//	{"error": {"code": "BadRequest", "message": "…", "innerError": {"date": "…", "request-id": "…"}}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"` // the error
}

// ErrorDetail is the error of an [ErrorBody].
type ErrorDetail struct {
	// Code is a stable code, e.g. "BadRequest", "Unauthorized",
	// "Forbidden", "FourEyes", "ResourceNotFound", "Conflict",
	// "NeedsConfirmation", "RequestEntityTooLarge", "NotImplemented".
	Code string `json:"code"`
	// Message explains the error to a person.
	Message string `json:"message"`
	// InnerError carries the time and the request's id (as the
	// response's request-id header gives it).
	InnerError InnerError `json:"innerError"`
}

// InnerError is the innerError of an [ErrorDetail].
type InnerError struct {
	Date      string `json:"date"`       // when, RFC 3339 in UTC
	RequestID string `json:"request-id"` // the call's id, as in the server log
	// ClientRequestID is the client-request-id header the client sent,
	// as Graph echoes it; omitted when none (or an unusable one) was sent.
	ClientRequestID string `json:"client-request-id,omitempty"`
}

// apiError is an error with its HTTP status and code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, code, msg string) error { return &apiError{status, code, msg} }

func badRequest(msg string) error { return errorf(http.StatusBadRequest, "BadRequest", msg) }

// classify maps an error of the engine (or of this package) to a status, a
// code and a message fit for the caller. Errors it does not know are
// internal: their text is logged, not sent.
func classify(err error) (status int, code, msg string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.code, ae.msg
	case errors.Is(err, remediation.ErrNotFound), errors.Is(err, rules.ErrNotFound):
		return http.StatusNotFound, "ResourceNotFound", err.Error()
	case errors.Is(err, remediation.ErrFourEyes):
		return http.StatusForbidden, "FourEyes", err.Error()
	case errors.Is(err, remediation.ErrNeedsConfirmation):
		return http.StatusBadRequest, "NeedsConfirmation", err.Error()
	case errors.Is(err, remediation.ErrInvalidRequest), errors.Is(err, remediation.ErrEmptySelection),
		errors.Is(err, mailbox.ErrEmptyCriteria), errors.Is(err, mailbox.ErrMatchesEverything),
		errors.Is(err, remediation.ErrNotRecipient), errors.Is(err, remediation.ErrAmbiguous),
		errors.Is(err, mailbox.ErrNoMailbox), errors.Is(err, rules.ErrInvalid):
		return http.StatusBadRequest, "BadRequest", err.Error()
	case errors.Is(err, remediation.ErrNotPending), errors.Is(err, remediation.ErrExpired),
		errors.Is(err, remediation.ErrUndoUndo), errors.Is(err, remediation.ErrIrreversible),
		errors.Is(err, remediation.ErrAlreadyUndone), errors.Is(err, remediation.ErrNotFinished),
		errors.Is(err, remediation.ErrAlreadyReleased), errors.Is(err, rules.ErrExists):
		return http.StatusConflict, "Conflict", err.Error()
	case errors.Is(err, remediation.ErrClosed):
		return http.StatusServiceUnavailable, "ServiceUnavailable", "the action center is closed"
	case errors.Is(err, remediation.ErrEngineClosed):
		return http.StatusServiceUnavailable, "ServiceUnavailable", "the server is shutting down"
	}
	return http.StatusInternalServerError, "InternalServerError", "internal error; the server log has the details (request-id)"
}

func writeError(w http.ResponseWriter, reqID, clientID string, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{
		Code: code, Message: msg,
		InnerError: InnerError{Date: time.Now().UTC().Format(time.RFC3339), RequestID: reqID, ClientRequestID: clientID},
	}})
}
