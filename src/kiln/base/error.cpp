#include "kiln/base/error.hpp"

#include <cerrno>
#include <cstring>

namespace kiln {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kIo:
      return "Io";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

Error Error::with_context(std::string_view context) const {
  return Error{code, fmt::format("{}: {}", context, message)};
}

Error errno_error(int errnum, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  switch (errnum) {
    case ENOENT:
    case ENOTDIR:
      code = ErrorCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = ErrorCode::kPermissionDenied;
      break;
    case EEXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    case ENOTEMPTY:
      code = ErrorCode::kConflict;
      break;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
      code = ErrorCode::kInvalidArgument;
      break;
    case ETIMEDOUT:
      code = ErrorCode::kTimeout;
      break;
    default:
      break;
  }
  return Error{code, fmt::format("{}: {}", what, std::strerror(errnum))};
}

}  // namespace kiln
