#include "kiln/api/errors.hpp"

#include <array>
#include <utility>

#include "kiln/catalog/aws_error.hpp"

namespace kiln::api {

int error_status(std::string_view type) {
  static constexpr std::array<std::pair<std::string_view, int>, 14> kStatuses = {{
      {"ResourceNotFoundException", 404},
      {"ServiceException", 500},
      {"ServiceUnavailableException", 503},
      {"CallRateLimitExceededException", 429},
      {"TooManyRequestsException", 429},
      {"ForbiddenException", 403},
      {"AccessDeniedException", 403},
      {"ServiceQuotaExceededException", 402},
      {"DryRunOperationException", 412},
      {"MissingAuthenticationTokenException", 403},
      {"IncompleteSignatureException", 403},
      {"UnrecognizedClientException", 403},
      {"InvalidSignatureException", 403},
      {"UnknownOperationException", 404},
  }};
  for (const auto& [name, status] : kStatuses) {
    if (name == type) {
      return status;
    }
  }
  if (type == "RequestEntityTooLargeException") {
    return 413;
  }
  return 400;
}

ApiError to_api_error(const Error& error, const Operation& op) {
  if (error.code == ErrorCode::kConflict && op.kind == OperationKind::kDelete) {
    return {"ResourceDependencyException", error.message};
  }
  std::string_view name = catalog::aws_exception_name(error.code);
  if (name.empty()) {
    return {"ServiceException", error.message};
  }
  return {std::string(name), error.message};
}

}  // namespace kiln::api
