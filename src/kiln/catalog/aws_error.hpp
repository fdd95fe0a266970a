#pragma once

// The AWS exception names Image Builder uses for kiln's error codes: what the `kiln` resource
// verbs print and what the API server sends (x-amzn-ErrorType).

#include <string_view>

#include "kiln/base/error.hpp"

namespace kiln::catalog {

// ResourceNotFoundException for kNotFound, InvalidParameterValueException for kInvalidArgument,
// ResourceAlreadyExistsException for kAlreadyExists, ResourceInUseException for kConflict,
// ServiceUnavailableException for kUnavailable, ForbiddenException for kPermissionDenied; ""
// for the others (kiln's own failures, ServiceException to an API client).
std::string_view aws_exception_name(ErrorCode code);

// The other way, for a client of the API: the error code an exception name stands for (the
// names above, and the API's other client errors: InvalidRequestException,
// SerializationException, ... kInvalidArgument; ResourceDependencyException kConflict; the
// signature errors kPermissionDenied); kInternal for any other name.
ErrorCode error_code_of_exception(std::string_view name);

}  // namespace kiln::catalog
