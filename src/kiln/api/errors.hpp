#pragma once

// The errors of the API as REST-JSON services send them: an HTTP status, the exception's name in
// the x-amzn-ErrorType header and {"message": "..."} as the body, which botocore turns into the
// exception of that name (ResourceNotFoundException, ...).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kiln/api/operations.hpp"
#include "kiln/base/error.hpp"

namespace kiln::api {

struct ApiError {
  std::string type;  // "ResourceNotFoundException"
  std::string message;
};

// The HTTP status of an error type: the model's httpStatusCode for its exceptions (404
// ResourceNotFoundException, 500 ServiceException, 503 ServiceUnavailableException, 429
// CallRateLimitExceededException, 403 ForbiddenException, 400 for the other client errors), 403
// for the signature errors, 404 UnknownOperationException, 413 RequestEntityTooLargeException.
int error_status(std::string_view type);

// A kiln error as the API error of `op`: catalog::aws_exception_name's mapping, except that a
// kConflict of a Delete call is ResourceDependencyException (the model's error for "still used")
// and codes without an AWS name are ServiceException.
ApiError to_api_error(const Error& error, const Operation& op);

}  // namespace kiln::api
