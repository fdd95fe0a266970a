#pragma once

// HTTP transfers over libcurl: one request at a time, the body streamed to a sink or from a file,
// stopped by a deadline or a cancel flag, optionally signed with AWS SigV4 (libcurl computes the
// signature).
//
// Nothing here throws. No function writes a password, secret key or request signature to an
// error or a log; URLs in messages lose their user info and query (see redact_url).
//
// Thread safety: every call uses its own curl handle, so calls may run on several threads at once.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/os/process.hpp"

namespace kiln::net {

// What stops a transfer early: a deadline and a cancel flag (both optional; the flag must outlive
// the call). A stopped transfer fails with kTimeout or kCancelled.
struct TransferControl {
  os::Deadline deadline;
  const std::atomic<bool>* cancel = nullptr;
};

// AWS Signature Version 4 for a request; libcurl computes the signature.
struct AwsSigning {
  std::string region;
  std::string service = "s3";
  std::string access_key_id;
  std::string secret_access_key;
};

struct HttpRequest {
  std::string method = "GET";        // GET, HEAD, PUT, POST or DELETE
  std::string url;                   // may hold secrets in its query: never logged as is
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = false;
  bool verify_tls = true;
  // PUT: the file streamed as the body; empty path: `body` (often empty).
  std::filesystem::path upload_file;
  // POST, and PUT without an upload_file: the body, sent from memory (SigV4 signs its SHA-256).
  // Its Content-Type goes in `headers` (libcurl's default is application/x-www-form-urlencoded).
  std::string body;
  std::string user_agent = "kiln-toe";
  std::optional<AwsSigning> signing;
};

struct HttpResponse {
  long status = 0;              // the final status (after redirects when they are followed)
  uint64_t body_bytes = 0;      // bytes of a 200 response given to the sink
  int64_t content_length = -1;  // the Content-Length header, -1 when absent
  std::string error_body;       // the start of the body of any other status, for error messages
  // The final response's headers: names lower-cased, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  // The value of header `name` (lower-case); "" when absent.
  std::string header(std::string_view name) const;
};

// Receives the body of a 200 response in chunks. An error stops the transfer and is returned.
using BodySink = std::function<Status(std::string_view chunk)>;

// Performs one request. Only a 200 response's body reaches `sink`. Failing to get a response is an
// error: kUnavailable when trying again may help (connection refused, reset, DNS, stalled),
// kTimeout or kCancelled when `control` stopped it, the sink's own error when the sink failed. Any
// HTTP status is a response, not an error.
Result<HttpResponse> http_perform(const HttpRequest& request,
                                  const BodySink& sink,
                                  const TransferControl& control);

// The error code an HTTP status stands for: 404/410 kNotFound, 401/403 kPermissionDenied, 409/412
// kConflict, 408/429/5xx kUnavailable (worth trying again), anything else kInvalidArgument.
ErrorCode error_code_for_http_status(long status);

// `url` without user info, query and fragment: what may appear in logs and error messages.
std::string redact_url(std::string_view url);

// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash), as SigV4 wants.
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace kiln::net
