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

}  // namespace kiln::catalog
