#pragma once

// A small S3 client over http_transfer.hpp: path-style requests against a custom endpoint,
// virtual-hosted ones against AWS, signed with SigV4 when the configuration has keys.
//
// Used by kiln-toe's S3Download and S3Upload modules and s3:// documents, and by notify's log
// uploads. Nothing here throws. No function writes the secret key, the session token or a request
// signature to an error or a log.
//
// Thread safety: an S3Client is immutable after construction; every call uses its own curl
// handle, so calls may run on several threads at once.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/net/http_transfer.hpp"

namespace kiln::net {

// Where S3 is and which keys sign requests to it (kiln-toe fills one from the environment and the
// AWS files: toe/aws_config.hpp).
struct S3Config {
  std::string endpoint;  // "http://127.0.0.1:4568" (path-style requests); empty: AWS itself
  std::string region = "us-east-1";
  std::string access_key_id;  // empty: requests go unsigned (public buckets, local servers)
  std::string secret_access_key;
  std::string session_token;
  int list_page_size = 1000;  // max-keys of each ListObjectsV2 request
};

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

}  // namespace kiln::net
