#pragma once

// HTTP transfers over libcurl, and a small S3 client built on them (path-style requests against a
// custom endpoint, virtual-hosted ones against AWS, signed with libcurl's AWS SigV4).
//
// Used by the WebDownload, S3Download and S3Upload modules. Nothing here throws. No function
// writes the secret key, the session token or a request signature to an error or a log; URLs in
// messages lose their user info and query (see redact_url).
//
// Thread safety: every call uses its own curl handle, so calls may run on several threads at once.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/os/process.hpp"
#include "kiln/toe/action.hpp"

namespace kiln::toe {

// ---- HTTP transfers ------------------------------------------------------------------------

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
  std::string method = "GET";        // GET, HEAD or PUT
  std::string url;                   // may hold secrets in its query: never logged as is
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = false;
  bool verify_tls = true;
  // PUT: the file streamed as the body; empty path: an empty body.
  std::filesystem::path upload_file;
  std::optional<AwsSigning> signing;
};

struct HttpResponse {
  long status = 0;              // the final status (after redirects when they are followed)
  uint64_t body_bytes = 0;      // bytes of a 200 response given to the sink
  int64_t content_length = -1;  // the Content-Length header, -1 when absent
  std::string error_body;       // the start of the body of any other status, for error messages
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

// ---- S3 ------------------------------------------------------------------------------------

struct S3Config {
  std::string endpoint;  // "http://127.0.0.1:4568" (path-style requests); empty: AWS itself
  std::string region = "us-east-1";
  std::string access_key_id;  // empty: requests go unsigned (public buckets, local servers)
  std::string secret_access_key;
  std::string session_token;
  int list_page_size = 1000;  // max-keys of each ListObjectsV2 request
};

// The configuration the AWS CLI would use, read through `env`:
//   endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then the profile's `services` section
//     (`s3 =` / `endpoint_url =`), then the profile's `endpoint_url`; none of them when
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true;
//   region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1;
//   keys: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the profile in the
//     credentials file, else the profile in the config file.
// The profile is AWS_PROFILE (or AWS_DEFAULT_PROFILE, else "default"); the files are
// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE, by default ~/.aws/credentials and ~/.aws/config
// with ~ from HOME. Missing files are fine; a profile named explicitly but found in neither file
// is an error, and so is a profile that gets credentials in a way kiln does not implement
// (role_arn, credential_process, SSO, web identity) without also holding static keys.
Result<S3Config> load_s3_config(const EnvLookup& env);

struct S3Uri {
  std::string bucket;
  std::string key;  // may be empty (the bucket itself)

  std::string to_string() const { return "s3://" + bucket + (key.empty() ? "" : "/" + key); }
};

// Parses "s3://bucket[/key]".
Result<S3Uri> parse_s3_uri(std::string_view text);

struct S3Object {
  std::string key;
  uint64_t size = 0;
};

struct S3Listing {
  std::vector<S3Object> objects;
  bool truncated = false;  // more objects matched than the limit allowed
};

struct S3RequestOptions {
  std::string expected_bucket_owner;  // sent as x-amz-expected-bucket-owner when not empty
  TransferControl control;
};

// Errors name the operation, the s3:// URI, the HTTP status and S3's <Code> and <Message>
// ("GetObject s3://b/k: HTTP 404 NoSuchKey: The specified key does not exist.").
class S3Client {
 public:
  explicit S3Client(S3Config config) : config_(std::move(config)) {}

  // Streams the object into a temporary file beside `destination`, then renames it over
  // `destination`. Returns the number of bytes. The parent folder must exist.
  Result<uint64_t> get_object(const S3Uri& object,
                              const std::filesystem::path& destination,
                              const S3RequestOptions& options) const;
  // Streams `source` as the object's content (a single PUT: at most 5 GiB). Returns the bytes.
  Result<uint64_t> put_object(const S3Uri& object,
                              const std::filesystem::path& source,
                              const S3RequestOptions& options) const;
  // The objects whose keys start with `prefix`, in key order, following continuation tokens; at
  // most `limit` of them (`truncated` says whether there were more).
  Result<S3Listing> list_objects_v2(const std::string& bucket,
                                    const std::string& prefix,
                                    size_t limit,
                                    const S3RequestOptions& options) const;
  Result<S3Object> head_object(const S3Uri& object, const S3RequestOptions& options) const;
  Status head_bucket(const std::string& bucket, const S3RequestOptions& options) const;
  // Creates a bucket without a LocationConstraint (us-east-1 on AWS; any local server).
  Status create_bucket(const std::string& bucket, const S3RequestOptions& options) const;

  const S3Config& config() const { return config_; }

 private:
  HttpRequest request(std::string method,
                      const S3Uri& target,
                      std::string_view query,
                      const S3RequestOptions& options) const;
  std::string url(const S3Uri& target, std::string_view query) const;
  // Sends `request`; a status other than 200 becomes an error naming S3's Code and Message.
  Result<HttpResponse> send(std::string_view operation,
                            const HttpRequest& request,
                            const S3Uri& target,
                            const S3RequestOptions& options,
                            const BodySink& sink) const;
  Result<std::string> fetch_body(std::string_view operation,
                                 const S3Uri& target,
                                 std::string_view query,
                                 const S3RequestOptions& options) const;

  S3Config config_;
};

}  // namespace kiln::toe
