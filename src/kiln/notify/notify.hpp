#pragma once

// Telling people about builds, and keeping their logs: what `kiln serve` does when an image
// ends (reference: aws-imagebuilder.md 3.12, 3.13).
//
// Notifications: an infrastructure configuration's snsTopicArn names a topic; the daemon's
// configuration gives each topic its subscriptions, as SNS does: `http`/`https` endpoints
// (webhooks: the message POSTed as JSON with an HMAC-SHA256 signature header), and `sns`
// endpoints (an SNS-compatible service: the message published to the topic there with a SigV4
// signed Publish call). Deliveries run on a background thread, retried with exponential backoff;
// a failed delivery is logged and never affects the image.
//
// Logs: a build's log folder uploaded to s3://bucket/prefix/<image name>/<version>/<build>/...,
// each file a PUT signed with libcurl's SigV4, retried; the local folder stays.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"

namespace kiln::notify {

using Json = nlohmann::ordered_json;

struct Subscription {
  std::string protocol;  // "http", "https" (webhooks) or "sns"
  std::string endpoint;  // the URL to POST to; for sns the service's endpoint URL
  std::string secret;    // webhooks: the HMAC key of the signature header ("" = unsigned)
  // sns: the topic ARN there (default: the topic's own) and credentials for SigV4.
  std::string topic_arn;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
};

struct Topic {
  std::string arn;  // what infrastructure configurations name in snsTopicArn
  std::vector<Subscription> subscriptions;
};

struct DeliveryOptions {
  int attempts = 5;
  std::chrono::milliseconds first_backoff{500};  // doubled after each failed attempt
  std::chrono::seconds timeout{10};              // per attempt
  // Notifier's destructor: how long it goes on delivering what is queued before dropping it.
  std::chrono::milliseconds drain{30'000};
};

// AWS's SNS message for an image (the image JSON as GetImage returns it, as AWS publishes it):
// every member of the image in its order, plus AWS's "versionlessArn" (first) and "buildVersion"
// (after "type") taken from the ARN. kiln's own "kiln" member is dropped except its
// "logLocation", kept as {"kiln": {"logLocation": ...}} when the image has one. AWS's "semver"
// (a 96-bit integer) is not written: JSON numbers past 2^53 do not survive most parsers.
Json image_message(const Json& image);

// The webhook signature header: "X-Kiln-Signature: sha256=<hex HMAC-SHA256 of the body>".
// signature() returns the header's value, "sha256=<64 lower-case hex digits>".
inline constexpr std::string_view kSignatureHeader = "X-Kiln-Signature";
inline constexpr std::string_view kEventHeader = "X-Kiln-Event";        // the image's status
inline constexpr std::string_view kDeliveryHeader = "X-Kiln-Delivery";  // a UUID, same in retries
std::string signature(std::string_view secret, std::string_view body);

struct DeliveryResult {
  std::string endpoint;
  bool delivered = false;
  int attempts = 0;
  std::string error;  // the last attempt's, when not delivered
};

// Delivers `message` to every subscription of `topic` now, in this thread, with retries.
std::vector<DeliveryResult> deliver(const Topic& topic,
                                    const Json& message,
                                    const DeliveryOptions& options = {});

// A queue of deliveries worked by one background thread; the destructor finishes what is queued
// within `drain` and drops the rest (logged).
class Notifier {
 public:
  Notifier(std::vector<Topic> topics, DeliveryOptions options = {});
  ~Notifier();
  // Queues `message` for the topic named `topic_arn` (nothing when no such topic is configured).
  void publish(const std::string& topic_arn, Json message);
  // Blocks until the queue is empty or `timeout` passes; true when empty.
  bool flush(std::chrono::milliseconds timeout);
  // What was delivered so far (for tests and metrics).
  std::vector<DeliveryResult> results() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Topics from the daemon's notification file: {"topics": [{"arn", "subscriptions": [{protocol,
// endpoint, secret, topicArn, region, accessKeyId, secretAccessKey}]}]}; kInvalidArgument naming
// what is wrong (never a secret's value). Unknown members are errors. An sns subscription without
// accessKeyId/secretAccessKey takes $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY (read through
// `env`), and is an error without either (docs/notifications.md).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
Result<std::vector<Topic>> topics_from_json(const Json& config);  // the process's environment
Result<std::vector<Topic>> topics_from_json(const Json& config, const EnvLookup& env);

// --- Logs to S3 ------------------------------------------------------------------------------

struct S3Location {
  std::string bucket;
  std::string prefix;    // "logs/" or ""
  std::string endpoint;  // e.g. http://127.0.0.1:4569 (path-style); "" = AWS's
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
};

struct UploadReport {
  size_t files = 0;                 // files uploaded
  uint64_t bytes = 0;               // their bytes
  std::vector<std::string> failed;  // keys not uploaded after every retry
};

// Uploads every file under `folder` to <prefix>/<key_prefix>/<relative path>, retrying each file
// `options.attempts` times. Never throws away the folder. Symbolic links are neither followed nor
// uploaded. Files that fail are listed in `failed` (and logged); an error is returned only when
// the folder cannot be read. Each attempt's deadline is options.timeout plus a second per MiB.
Result<UploadReport> upload_folder(const std::filesystem::path& folder,
                                   const S3Location& location,
                                   const std::string& key_prefix,
                                   const DeliveryOptions& options = {});

}  // namespace kiln::notify
