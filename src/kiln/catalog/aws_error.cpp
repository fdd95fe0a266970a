#include "kiln/catalog/aws_error.hpp"

namespace kiln::catalog {

std::string_view aws_exception_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "ResourceNotFoundException";
    case ErrorCode::kInvalidArgument:
      return "InvalidParameterValueException";
    case ErrorCode::kAlreadyExists:
      return "ResourceAlreadyExistsException";
    case ErrorCode::kConflict:
      return "ResourceInUseException";
    case ErrorCode::kUnavailable:
      return "ServiceUnavailableException";
    case ErrorCode::kPermissionDenied:
      return "ForbiddenException";
    default:
      return "";
  }
}

ErrorCode error_code_of_exception(std::string_view name) {
  for (ErrorCode code : {ErrorCode::kNotFound,
                         ErrorCode::kInvalidArgument,
                         ErrorCode::kAlreadyExists,
                         ErrorCode::kConflict,
                         ErrorCode::kUnavailable,
                         ErrorCode::kPermissionDenied}) {
    if (aws_exception_name(code) == name) {
      return code;
    }
  }
  for (std::string_view invalid : {"InvalidRequestException",
                                   "SerializationException",
                                   "InvalidPaginationTokenException",
                                   "IdempotentParameterMismatchException",
                                   "InvalidVersionNumberException",
                                   "UnknownOperationException",
                                   "RequestEntityTooLargeException"}) {
    if (invalid == name) {
      return ErrorCode::kInvalidArgument;
    }
  }
  if (name == "ResourceDependencyException") {
    return ErrorCode::kConflict;
  }
  if (name == "CallRateLimitExceededException" || name == "TooManyRequestsException") {
    return ErrorCode::kUnavailable;
  }
  if (name.ends_with("SignatureException") || name == "UnrecognizedClientException" ||
      name == "MissingAuthenticationTokenException" || name == "AccessDeniedException") {
    return ErrorCode::kPermissionDenied;
  }
  return ErrorCode::kInternal;
}

}  // namespace kiln::catalog
