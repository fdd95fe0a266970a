// clientToken idempotency (docs/formats/state.md, "client_tokens"): the response of a request
// made with a client token, returned again when the same request comes with the same token.

#include <chrono>

#include "kiln/base/hash.hpp"
#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {
namespace {

// How long a token is remembered: kiln's choice (Image Builder does not document how long AWS
// keeps them; an SDK retries within seconds or minutes).
constexpr auto kTokenLifetime = std::chrono::hours(8);

// The request without its clientToken, with members in sorted order so that the same request
// written in another order hashes the same.
std::string request_hash(const Json& request) {
  nlohmann::json canonical = nlohmann::json::parse(request.dump());
  if (canonical.is_object()) {
    canonical.erase("clientToken");
  }
  return hash_hex(HashAlgorithm::kSha256, canonical.dump());
}

Status check_token(std::string_view operation, std::string_view token) {
  if (operation.empty()) {
    return request::invalid("operation", "empty");
  }
  if (token.empty() || token.size() > 64) {
    return request::invalid("clientToken", fmt::format("1 to 64 characters, not {}", token.size()));
  }
  return ok_status();
}

}  // namespace

Result<std::optional<Json>> Catalog::idempotent_response(std::string_view operation,
                                                         std::string_view token,
                                                         const Json& request) const {
  KILN_TRY(check_token(operation, token));
  std::string cutoff = format_aws_time(impl_->clock->now() - kTokenLifetime);
  Statement stmt = KILN_TRY(impl_->db.prepare(
      "SELECT request_sha256, response FROM client_tokens WHERE operation = ? AND token = ? AND "
      "date_created >= ?"));
  stmt.bind_all(operation, token, cutoff);
  if (!KILN_TRY(stmt.step())) {
    return std::optional<Json>();
  }
  if (stmt.column_text(0) != request_hash(request)) {
    return make_error(ErrorCode::kConflict,
                      "IdempotentParameterMismatchException: clientToken \"{}\" was used for "
                      "another {} request; use a new token for a different request",
                      token,
                      operation);
  }
  Json response = Json::parse(stmt.column_text(1), nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) {
    return make_error(ErrorCode::kCorruption,
                      "the stored response of {} token \"{}\" is not JSON",
                      operation,
                      token);
  }
  return std::optional<Json>(std::move(response));
}

Status Catalog::record_idempotent_response(std::string_view operation,
                                           std::string_view token,
                                           const Json& request,
                                           const Json& response) {
  KILN_TRY(check_token(operation, token));
  SystemTime now = impl_->clock->now();
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Statement purge = KILN_TRY(impl_->db.prepare("DELETE FROM client_tokens WHERE date_created < ?"));
  purge.bind_all(format_aws_time(now - kTokenLifetime));
  KILN_TRY(purge.run());
  std::string hash = request_hash(request);
  Statement existing = KILN_TRY(impl_->db.prepare(
      "SELECT request_sha256 FROM client_tokens WHERE operation = ? AND token = ?"));
  existing.bind_all(operation, token);
  if (KILN_TRY(existing.step())) {
    if (existing.column_text(0) != hash) {
      return make_error(ErrorCode::kConflict,
                        "IdempotentParameterMismatchException: clientToken \"{}\" was used for "
                        "another {} request; use a new token for a different request",
                        token,
                        operation);
    }
    return ok_status();  // a concurrent same request recorded first; its response stands
  }
  Statement insert = KILN_TRY(impl_->db.prepare(
      "INSERT INTO client_tokens (operation, token, request_sha256, response, date_created) "
      "VALUES (?, ?, ?, ?, ?)"));
  insert.bind_all(operation, token, hash, response.dump(), format_aws_time(now));
  KILN_TRY(insert.run());
  return txn.commit();
}

}  // namespace kiln::state
