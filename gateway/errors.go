package gateway

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
	"berth.dev/berth/kvnode"
	"berth.dev/berth/p2p"
	"berth.dev/berth/policies"
	"berth.dev/berth/registry"
)

// apiError is one OCI error code with its HTTP status.
type apiError struct {
	Code   string
	Status int
}

// errorTable maps every domain error to its OCI error code and HTTP status. It is the
// only place where that mapping lives.
var errorTable = []struct {
	err error
	api apiError
}{
	{registry.ErrNameInvalid, apiError{"NAME_INVALID", fiber.StatusBadRequest}},
	{registry.ErrNameUnknown, apiError{"NAME_UNKNOWN", fiber.StatusNotFound}},
	{registry.ErrTagInvalid, apiError{"TAG_INVALID", fiber.StatusBadRequest}},
	{registry.ErrDigestInvalid, apiError{"DIGEST_INVALID", fiber.StatusBadRequest}},
	{registry.ErrBlobUnknown, apiError{"BLOB_UNKNOWN", fiber.StatusNotFound}},
	{registry.ErrBlobUploadUnknown, apiError{"BLOB_UPLOAD_UNKNOWN", fiber.StatusNotFound}},
	{registry.ErrBlobUploadInvalid, apiError{"BLOB_UPLOAD_INVALID", fiber.StatusBadRequest}},
	{registry.ErrManifestUnknown, apiError{"MANIFEST_UNKNOWN", fiber.StatusNotFound}},
	{registry.ErrManifestInvalid, apiError{"MANIFEST_INVALID", fiber.StatusBadRequest}},
	{registry.ErrManifestBlobUnknown, apiError{"MANIFEST_BLOB_UNKNOWN", fiber.StatusBadRequest}},
	{registry.ErrManifestTooLarge, apiError{"SIZE_INVALID", fiber.StatusRequestEntityTooLarge}},
	{registry.ErrSizeInvalid, apiError{"SIZE_INVALID", fiber.StatusBadRequest}},
	{registry.ErrUnsupported, apiError{"UNSUPPORTED", fiber.StatusMethodNotAllowed}},
	{registry.ErrUnavailable, apiError{"UNAVAILABLE", fiber.StatusServiceUnavailable}},
	{registry.ErrStorageUnavailable, apiError{"UNAVAILABLE", fiber.StatusServiceUnavailable}},
	{kvnode.ErrUnavailable, apiError{"UNAVAILABLE", fiber.StatusServiceUnavailable}},
	{registry.ErrDenied, apiError{"DENIED", fiber.StatusForbidden}},
	{registry.ErrQuotaExceeded, apiError{"DENIED", fiber.StatusForbidden}},
	{errUnauthorized, apiError{"UNAUTHORIZED", fiber.StatusUnauthorized}},
	{errInsufficientScope, apiError{"UNAUTHORIZED", fiber.StatusUnauthorized}},
	{errMalformedAuth, apiError{"UNAUTHORIZED", fiber.StatusUnauthorized}},
	{auth.ErrInvalidToken, apiError{"UNAUTHORIZED", fiber.StatusUnauthorized}},
	{auth.ErrBadCredentials, apiError{"UNAUTHORIZED", fiber.StatusUnauthorized}},
	{auth.ErrThrottled, apiError{"TOOMANYREQUESTS", fiber.StatusTooManyRequests}},
	{errAccessDenied, apiError{"DENIED", fiber.StatusForbidden}},
	{errNoProject, apiError{"DENIED", fiber.StatusForbidden}},
	{errProjectUnknown, apiError{"NAME_UNKNOWN", fiber.StatusNotFound}},
	{errForbidden, apiError{"DENIED", fiber.StatusForbidden}},
	{errAPIBadJSON, apiError{"INVALID", fiber.StatusBadRequest}},
	{errBadParam, apiError{"INVALID", fiber.StatusBadRequest}},
	{errBadQuota, apiError{"INVALID", fiber.StatusBadRequest}},
	{errBadExpiry, apiError{"INVALID", fiber.StatusBadRequest}},
	{errProjectNotEmpty, apiError{"CONFLICT", fiber.StatusConflict}},
	{auth.ErrProjectNotFound, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{auth.ErrUserNotFound, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{auth.ErrRobotNotFound, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{auth.ErrMemberNotFound, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{auth.ErrExists, apiError{"CONFLICT", fiber.StatusConflict}},
	{auth.ErrProtected, apiError{"CONFLICT", fiber.StatusConflict}},
	{auth.ErrInvalidName, apiError{"INVALID", fiber.StatusBadRequest}},
	{auth.ErrNoProject, apiError{"INVALID", fiber.StatusBadRequest}},
	{auth.ErrInvalidRole, apiError{"INVALID", fiber.StatusBadRequest}},
	{auth.ErrInvalidAction, apiError{"INVALID", fiber.StatusBadRequest}},
	{auth.ErrInvalidPermission, apiError{"INVALID", fiber.StatusBadRequest}},
	{auth.ErrWeakPassword, apiError{"INVALID", fiber.StatusBadRequest}},
	{errRangeInvalid, apiError{"BLOB_UPLOAD_INVALID", fiber.StatusRequestedRangeNotSatisfiable}},
	{policies.ErrInvalid, apiError{"INVALID", fiber.StatusBadRequest}},
	{policies.ErrBadModule, apiError{"INVALID", fiber.StatusBadRequest}},
	{policies.ErrNoPlugin, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{policies.ErrNoBinding, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{policies.ErrInUse, apiError{"CONFLICT", fiber.StatusConflict}},
	{policies.ErrBuiltin, apiError{"CONFLICT", fiber.StatusConflict}},
	{errModuleTooBig, apiError{"SIZE_INVALID", fiber.StatusRequestEntityTooLarge}},
	{errNoCatalog, apiError{"UNSUPPORTED", fiber.StatusNotImplemented}},
	{p2p.ErrAgentAuth, apiError{"UNAUTHORIZED", fiber.StatusUnauthorized}},
	{p2p.ErrPreheatNotFound, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{p2p.ErrPreheatInvalid, apiError{"INVALID", fiber.StatusBadRequest}},
	{errP2POff, apiError{"CONFLICT", fiber.StatusConflict}},
	{errBadImage, apiError{"INVALID", fiber.StatusBadRequest}},
	{errNotFound, apiError{"NOT_FOUND", fiber.StatusNotFound}},
	{errMethod, apiError{"UNSUPPORTED", fiber.StatusMethodNotAllowed}},
}

// Errors of the HTTP edge itself.
var (
	errRangeInvalid = errors.New("requested range not satisfiable")
	errNotFound     = errors.New("no such route")
	errMethod       = errors.New("method not allowed on this route")
)

// errorBody is the OCI error response body.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// lookup returns the API error for err; unknown errors are internal.
func lookup(err error) (apiError, bool) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.api, true
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return apiError{Code: "UNSUPPORTED", Status: fe.Code}, true
	}
	return apiError{Code: "UNKNOWN", Status: fiber.StatusInternalServerError}, false
}

// writeError answers a request with the OCI error body for err.
func writeError(c *fiber.Ctx, log *slog.Logger, err error) error {
	api, known := lookup(err)
	msg := err.Error()
	var re *registry.RangeError
	if errors.As(err, &re) {
		api, known = apiError{"BLOB_UPLOAD_INVALID", fiber.StatusRequestedRangeNotSatisfiable}, true
		c.Set("Range", rangeHeader(re.Offset))
	}
	if !known {
		log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		msg = "internal error"
	}
	c.Status(api.Status)
	if c.Method() == fiber.MethodHead {
		return nil
	}
	return c.JSON(errorBody{Errors: []errorEntry{{Code: api.Code, Message: msg}}})
}

// rangeHeader is the Range header of an upload holding offset bytes.
func rangeHeader(offset int64) string {
	return "0-" + strconv.FormatInt(max(offset-1, 0), 10)
}
