#pragma once

// kiln's one error convention: a closed list of codes plus a message that gains context as it
// rises ("loading recipe web: reading recipe.yaml: No such file or directory").

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace kiln {

enum class ErrorCode {
  kNotFound,
  kInvalidArgument,
  kAlreadyExists,
  kConflict,
  kCorruption,
  kIo,
  kUnavailable,
  kCancelled,
  kPermissionDenied,
  kTimeout,
  kInternal,
};

std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Returns this error with "context: " put before its message.
  Error with_context(std::string_view context) const;
};

template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

// An error from a failed system call: "<what>: <strerror(errnum)>", with a code derived from
// errnum (ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied, EEXIST -> kAlreadyExists...).
Error errno_error(int errnum, std::string_view what);

}  // namespace kiln
