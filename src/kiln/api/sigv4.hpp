#pragma once

// AWS Signature Version 4 (AWS4-HMAC-SHA256) in the Authorization header, as botocore's
// SigV4Auth makes it for a non-S3 service: the canonical request (the path normalized and then
// URI-encoded once more, the query string sorted and encoded, the signed headers lower-cased and
// trimmed, the SHA-256 of the body), the string to sign and the HMAC-SHA256 signing key chain.
// verify() checks a request the way AWS does and answers with AWS's error type and message.
// Pure: no I/O, the time is a parameter. Nothing here logs; secrets never leave it.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/time.hpp"

namespace kiln::api::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

struct Header {
  std::string name;  // as received; compared case-insensitively
  std::string value;
};

// One HTTP request as it came: `target` is the request line's target, still percent-encoded
// ("/GetComponent?componentBuildVersionArn=arn%3A...").
struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<Header> headers;
  std::string body;

  // The first value of a header (case-insensitive name); nullopt when absent.
  std::optional<std::string> header(std::string_view name) const;
  // Every value of a header, in order.
  std::vector<std::string> header_values(std::string_view name) const;
};

// --- The pieces of the algorithm (exposed for tests) --------------------------------------

// RFC 3986 percent-encoding: A-Z a-z 0-9 - _ . ~ stay, everything else %XX (upper-case hex);
// '/' stays when keep_slash.
std::string uri_encode(std::string_view text, bool keep_slash);
// %XX sequences decoded ('+' stays '+'); a malformed escape stays as it is.
std::string percent_decode(std::string_view text);
// Dot segments and empty segments removed, a trailing slash kept ("" -> "/").
std::string normalize_path(std::string_view path);
// The canonical URI of a raw (still encoded) path: normalize_path, then uri_encode keeping '/'
// (so "%20" becomes "%2520": AWS's double encoding for services other than S3).
std::string canonical_uri(std::string_view raw_path);
// The canonical query string of a raw query: each name and value decoded and re-encoded,
// pairs sorted by name then value, joined with '&'.
std::string canonical_query(std::string_view raw_query);
// "name:value\n" for each signed header (values of repeated headers joined with ',', each
// trimmed with inner runs of spaces collapsed); nullopt names the first signed header missing.
struct CanonicalHeaders {
  std::string text;
  std::optional<std::string> missing;
};
CanonicalHeaders canonical_headers(const HttpRequest& request,
                                   const std::vector<std::string>& signed_headers);
std::string canonical_request(const HttpRequest& request,
                              const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash);
std::string string_to_sign(std::string_view amz_date,
                           std::string_view scope,
                           std::string_view canonical_request);
// The signing key: HMAC chain over "AWS4" + secret, the date (YYYYMMDD), region, service and
// "aws4_request" (raw bytes).
std::string signing_key(std::string_view secret,
                        std::string_view date,
                        std::string_view region,
                        std::string_view service);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string sha256_hex(std::string_view data);

// "20240309T123456Z" <-> a time (UTC, whole seconds).
std::string format_amz_date(SystemTime time);
std::optional<SystemTime> parse_amz_date(std::string_view text);

// The Authorization header's parts.
struct Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // as given (lower-case, sorted by the signer)
  std::string signature;                    // lower-case hex
  std::string scope() const;                // date/region/service/aws4_request
};
// Parses "AWS4-HMAC-SHA256 Credential=AKID/20240309/local/imagebuilder/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=abc..."; on failure the message AWS's
// IncompleteSignatureException carries.
struct ParsedAuthorization {
  std::optional<Authorization> authorization;
  std::string error;
};
ParsedAuthorization parse_authorization(std::string_view header);

// --- Signing (the client side: tests, and any kiln client) ----------------------------------

// Adds X-Amz-Date and Authorization to `request`, signing every header it has (and `Host`,
// which must be present). The body's hash goes into the canonical request.
void sign(HttpRequest& request,
          std::string_view access_key_id,
          std::string_view secret,
          std::string_view region,
          std::string_view service,
          SystemTime now);

// --- Verification (the server side) -------------------------------------------------------

struct VerifyOptions {
  std::string region;  // the region requests must be signed for; "" accepts any
  std::string service = "imagebuilder";
  std::chrono::seconds max_skew{15 * 60};
};

struct Verification {
  bool ok = false;
  std::string access_key_id;  // the caller's key when ok
  // When not ok: AWS's error type (MissingAuthenticationTokenException,
  // IncompleteSignatureException, UnrecognizedClientException, InvalidSignatureException) and
  // its message.
  std::string error_type;
  std::string message;
};

// Checks a request's signature against `credentials` (access key id -> secret):
//   no Authorization header                  MissingAuthenticationTokenException
//   garbled header, no X-Amz-Date, host or x-amz-date not signed, a signed header missing
//                                            IncompleteSignatureException
//   X-Amz-Security-Token present (kiln issues no temporary credentials), unknown access key
//                                            UnrecognizedClientException
//   scope's date, region or service wrong, X-Amz-Date more than max_skew from `now`,
//   X-Amz-Content-Sha256 not the body's hash, wrong signature
//                                            InvalidSignatureException
Verification verify(const HttpRequest& request,
                    const std::map<std::string, std::string>& credentials,
                    const VerifyOptions& options,
                    SystemTime now);

}  // namespace kiln::api::sigv4
