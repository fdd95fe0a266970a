#include "kiln/notify/notify.hpp"

#include <fmt/ranges.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "kiln/base/log.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/time.hpp"
#include "kiln/catalog/arn.hpp"
#include "kiln/net/http_transfer.hpp"
#include "kiln/net/s3_client.hpp"

namespace kiln::notify {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- the message ---------------------------------------------------------------------------

Json image_message(const Json& image) {
  if (!image.is_object()) {
    return image;
  }
  std::optional<uint32_t> build;
  Json message = Json::object();
  if (image.contains("arn") && image["arn"].is_string()) {
    Result<catalog::ImageBuilderArn> arn =
        catalog::ImageBuilderArn::parse(image["arn"].get<std::string>());
    if (arn.ok() && arn->type == catalog::ResourceType::kImage && arn->version) {
      build = arn->build;
      catalog::ImageBuilderArn versionless = *arn;
      versionless.version.reset();
      versionless.build.reset();
      message["versionlessArn"] = versionless.str();
    }
  }
  for (const auto& [name, value] : image.items()) {
    if (name == "kiln" || name == "versionlessArn" || name == "buildVersion") {
      continue;
    }
    message[name] = value;
    if (name == "type" && build) {
      message["buildVersion"] = *build;
    }
  }
  if (build && !message.contains("buildVersion")) {
    message["buildVersion"] = *build;
  }
  const Json* kiln = image.contains("kiln") ? &image["kiln"] : nullptr;
  if (kiln != nullptr && kiln->is_object() && kiln->contains("logLocation")) {
    message["kiln"] = Json{{"logLocation", (*kiln)["logLocation"]}};
  }
  return message;
}

std::string signature(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(),
           secret.data(),
           static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()),
           body.size(),
           digest,
           &length) == nullptr) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

// ---- one delivery --------------------------------------------------------------------------

namespace {

// What stops deliveries early: the Notifier's shutdown. Sleeps wake when it is set.
struct Stop {
  std::atomic<bool> flag{false};
  std::mutex mutex;
  std::condition_variable wake;

  // Sleeps `duration`; false when stopped before or during the sleep.
  bool sleep_for(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex);
    return !wake.wait_for(lock, duration, [this] { return flag.load(); });
  }
  void set() {
    {
      std::lock_guard lock(mutex);
      flag = true;
    }
    wake.notify_all();
  }
};

struct Attempt {
  bool delivered = false;
  bool permanent = false;  // trying again cannot help
  std::string error;
};

// 2xx delivered; 408, 429 and 5xx worth another attempt; anything else permanent.
Attempt classify(const net::HttpResponse& response) {
  long status = response.status;
  if (status >= 200 && status < 300) {
    return {true, false, ""};
  }
  std::string body(trim(std::string_view(response.error_body).substr(0, 200)));
  std::replace_if(
      body.begin(), body.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  bool retry = status == 408 || status == 429 || status >= 500;
  return {false,
          !retry,
          body.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {}: {}", status, body)};
}

Attempt attempt_request(const net::HttpRequest& request,
                        const DeliveryOptions& options,
                        const std::atomic<bool>* cancel) {
  net::TransferControl control{Clock::now() + options.timeout, cancel};
  static const net::BodySink kDiscard = [](std::string_view) { return ok_status(); };
  Result<net::HttpResponse> response = net::http_perform(request, kDiscard, control);
  if (!response.ok()) {
    ErrorCode code = response.error().code;
    bool permanent = code == ErrorCode::kInvalidArgument || code == ErrorCode::kPermissionDenied ||
                     code == ErrorCode::kCancelled;
    return {false, permanent, response.error().message};
  }
  return classify(*response);
}

std::string event_of(const Json& message) {
  if (message.is_object() && message.contains("state") && message["state"].is_object()) {
    const Json& state = message["state"];
    if (state.contains("status") && state["status"].is_string()) {
      return state["status"].get<std::string>();
    }
  }
  return "unknown";
}

net::HttpRequest webhook_request(const Subscription& subscription,
                                 const std::string& body,
                                 const std::string& event,
                                 const std::string& delivery) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = subscription.endpoint;
  request.user_agent = "kiln";
  request.body = body;
  request.headers = {
      "Content-Type: application/json",
      "Expect:",  // no 100-continue round trip for large messages
      fmt::format("{}: {}", kEventHeader, event),
      fmt::format("{}: {}", kDeliveryHeader, delivery),
  };
  if (!subscription.secret.empty()) {
    request.headers.push_back(
        fmt::format("{}: {}", kSignatureHeader, signature(subscription.secret, body)));
  }
  return request;
}

std::string form_field(std::string_view name, std::string_view value) {
  return fmt::format("{}={}", name, net::uri_encode(value, false));
}

net::HttpRequest sns_request(const Subscription& subscription,
                             const std::string& topic_arn,
                             const std::string& body) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = subscription.endpoint;
  request.user_agent = "kiln";
  request.body = join(std::vector<std::string>{form_field("Action", "Publish"),
                                               form_field("Message", body),
                                               form_field("TopicArn", topic_arn),
                                               form_field("Version", "2010-03-31")},
                      "&");
  request.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8", "Expect:"};
  request.signing = net::AwsSigning{
      subscription.region, "sns", subscription.access_key_id, subscription.secret_access_key};
  return request;
}

DeliveryResult deliver_one(const Topic& topic,
                           const Subscription& subscription,
                           const std::string& body,
                           const std::string& event,
                           const DeliveryOptions& options,
                           Stop* stop) {
  DeliveryResult result;
  result.endpoint = net::redact_url(subscription.endpoint);
  net::HttpRequest request;
  if (subscription.protocol == "sns") {
    if (subscription.access_key_id.empty() || subscription.secret_access_key.empty()) {
      result.error = "the sns subscription has no access key";
      return result;
    }
    request = sns_request(
        subscription, subscription.topic_arn.empty() ? topic.arn : subscription.topic_arn, body);
  } else {
    request = webhook_request(subscription, body, event, make_uuid_v4());
  }
  std::chrono::milliseconds backoff = options.first_backoff;
  const std::atomic<bool>* cancel = stop != nullptr ? &stop->flag : nullptr;
  for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
    if (attempt > 1) {
      bool slept = true;
      if (stop != nullptr) {
        slept = stop->sleep_for(backoff);
      } else {
        std::this_thread::sleep_for(backoff);
      }
      if (!slept) {
        result.error += " (stopped at shutdown)";
        break;
      }
      backoff *= 2;
    }
    result.attempts = attempt;
    Attempt outcome = attempt_request(request, options, cancel);
    if (outcome.delivered) {
      result.delivered = true;
      result.error.clear();
      break;
    }
    result.error = std::move(outcome.error);
    if (outcome.permanent) {
      break;
    }
  }
  if (result.delivered) {
    KILN_LOG(kDebug,
             "notify: {} delivered to {} ({} attempts)",
             topic.arn,
             result.endpoint,
             result.attempts);
  } else {
    KILN_LOG(kWarning,
             "notify: {} not delivered to {} after {} attempts: {}",
             topic.arn,
             result.endpoint,
             result.attempts,
             result.error);
  }
  return result;
}

std::vector<DeliveryResult> deliver_all(const Topic& topic,
                                        const Json& message,
                                        const DeliveryOptions& options,
                                        Stop* stop) {
  std::string body = message.dump();
  std::string event = event_of(message);
  std::vector<DeliveryResult> results;
  for (const Subscription& subscription : topic.subscriptions) {
    results.push_back(deliver_one(topic, subscription, body, event, options, stop));
  }
  return results;
}

}  // namespace

std::vector<DeliveryResult> deliver(const Topic& topic,
                                    const Json& message,
                                    const DeliveryOptions& options) {
  return deliver_all(topic, message, options, nullptr);
}

// ---- Notifier ------------------------------------------------------------------------------

struct Notifier::State {
  std::vector<Topic> topics;
  DeliveryOptions options;
  Stop stop;

  mutable std::mutex mutex;
  std::condition_variable work;  // something queued, or stopping
  std::condition_variable idle;  // the queue went empty and nothing is being delivered
  std::deque<std::pair<size_t, Json>> queue;
  bool busy = false;
  bool stopping = false;
  std::vector<DeliveryResult> results;
  std::thread worker;

  void run() {
    for (;;) {
      std::unique_lock lock(mutex);
      work.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) {
        return;  // stopping
      }
      auto [index, message] = std::move(queue.front());
      queue.pop_front();
      busy = true;
      lock.unlock();
      std::vector<DeliveryResult> done = deliver_all(topics[index], message, options, &stop);
      lock.lock();
      results.insert(results.end(), done.begin(), done.end());
      busy = false;
      if (queue.empty()) {
        idle.notify_all();
      }
    }
  }
};

Notifier::Notifier(std::vector<Topic> topics, DeliveryOptions options)
    : state_(std::make_unique<State>()) {
  state_->topics = std::move(topics);
  state_->options = options;
  state_->worker = std::thread([state = state_.get()] { state->run(); });
}

Notifier::~Notifier() {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  s.stopping = true;
  s.work.notify_all();
  bool drained =
      s.idle.wait_for(lock, s.options.drain, [&s] { return s.queue.empty() && !s.busy; });
  if (!drained) {
    KILN_LOG(kWarning,
             "notify: dropping {} queued notification(s) and stopping the one being delivered "
             "after waiting {} ms",
             s.queue.size(),
             s.options.drain.count());
    s.queue.clear();
  }
  lock.unlock();
  s.stop.set();  // wakes a backoff and aborts a transfer within about a second
  s.worker.join();
}

void Notifier::publish(const std::string& topic_arn, Json message) {
  State& s = *state_;
  auto it = std::find_if(
      s.topics.begin(), s.topics.end(), [&](const Topic& t) { return t.arn == topic_arn; });
  if (it == s.topics.end()) {
    KILN_LOG(kDebug, "notify: no topic {} is configured; nothing to deliver", topic_arn);
    return;
  }
  {
    std::lock_guard lock(s.mutex);
    if (s.stopping) {
      return;
    }
    s.queue.emplace_back(static_cast<size_t>(it - s.topics.begin()), std::move(message));
  }
  s.work.notify_one();
}

bool Notifier::flush(std::chrono::milliseconds timeout) {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  return s.idle.wait_for(lock, timeout, [&s] { return s.queue.empty() && !s.busy; });
}

std::vector<DeliveryResult> Notifier::results() const {
  std::lock_guard lock(state_->mutex);
  return state_->results;
}

// ---- the configuration file ----------------------------------------------------------------

namespace {

Error invalid(const std::string& where, std::string_view what) {
  return Error{ErrorCode::kInvalidArgument, fmt::format("{}: {}", where, what)};
}

// The string member `name` of `object` into `out` ("" when absent).
Status read_string(const Json& object,
                   const std::string& where,
                   std::string_view name,
                   std::string& out) {
  auto it = object.find(std::string(name));
  if (it == object.end()) {
    return ok_status();
  }
  if (!it->is_string()) {
    return invalid(fmt::format("{}.{}", where, name), "must be a string");
  }
  out = it->get<std::string>();
  return ok_status();
}

Status check_members(const Json& object,
                     const std::string& where,
                     const std::vector<std::string_view>& known) {
  for (const auto& [name, value] : object.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return invalid(
          where, fmt::format("unknown member \"{}\" (known: {})", name, fmt::join(known, ", ")));
    }
  }
  return ok_status();
}

// "scheme://host[:port][/...]" with a host.
bool is_url(std::string_view url, std::string_view scheme) {
  if (!starts_with(url, scheme) || url.substr(scheme.size(), 3) != "://") {
    return false;
  }
  std::string_view rest = url.substr(scheme.size() + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  authority = authority.substr(
      authority.rfind('@') == std::string_view::npos ? 0 : authority.rfind('@') + 1);
  return !authority.empty() && authority[0] != ':' &&
         std::none_of(authority.begin(), authority.end(), [](char c) {
           return std::isspace(static_cast<unsigned char>(c)) != 0;
         });
}

Result<Subscription> parse_subscription(const Json& json,
                                        const std::string& where,
                                        const EnvLookup& env) {
  if (!json.is_object()) {
    return invalid(where, "must be an object");
  }
  KILN_TRY(check_members(
      json,
      where,
      {"protocol", "endpoint", "secret", "topicArn", "region", "accessKeyId", "secretAccessKey"}));
  Subscription s;
  KILN_TRY(read_string(json, where, "protocol", s.protocol));
  KILN_TRY(read_string(json, where, "endpoint", s.endpoint));
  KILN_TRY(read_string(json, where, "secret", s.secret));
  KILN_TRY(read_string(json, where, "topicArn", s.topic_arn));
  KILN_TRY(read_string(json, where, "region", s.region));
  KILN_TRY(read_string(json, where, "accessKeyId", s.access_key_id));
  KILN_TRY(read_string(json, where, "secretAccessKey", s.secret_access_key));
  if (s.protocol != "http" && s.protocol != "https" && s.protocol != "sns") {
    return invalid(where + ".protocol", "must be \"http\", \"https\" or \"sns\"");
  }
  bool url_ok = s.protocol == "sns" ? is_url(s.endpoint, "http") || is_url(s.endpoint, "https")
                                    : is_url(s.endpoint, s.protocol);
  if (!url_ok) {
    return invalid(where + ".endpoint",
                   s.protocol == "sns"
                       ? "must be an http:// or https:// URL with a host"
                       : fmt::format("must be a {}:// URL with a host", s.protocol));
  }
  if (s.protocol != "sns") {
    for (std::string_view sns_only : {"topicArn", "region", "accessKeyId", "secretAccessKey"}) {
      if (json.contains(std::string(sns_only))) {
        return invalid(fmt::format("{}.{}", where, sns_only), "applies to sns subscriptions only");
      }
    }
    return s;
  }
  if (json.contains("secret")) {
    return invalid(where + ".secret", "applies to http and https subscriptions only");
  }
  if (s.region.empty()) {
    return invalid(where + ".region", "must not be empty");
  }
  if (!s.topic_arn.empty() && !starts_with(s.topic_arn, "arn:")) {
    return invalid(where + ".topicArn", "must be an ARN");
  }
  if (s.access_key_id.empty() != s.secret_access_key.empty()) {
    return invalid(where, "give both accessKeyId and secretAccessKey, or neither");
  }
  if (s.access_key_id.empty()) {
    std::optional<std::string> id = env("AWS_ACCESS_KEY_ID");
    std::optional<std::string> secret = env("AWS_SECRET_ACCESS_KEY");
    if (!id || id->empty() || !secret || secret->empty()) {
      return invalid(where,
                     "an sns subscription needs accessKeyId and secretAccessKey, or "
                     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    }
    s.access_key_id = *id;
    s.secret_access_key = *secret;
  }
  return s;
}

Result<Topic> parse_topic(const Json& json, const std::string& where, const EnvLookup& env) {
  if (!json.is_object()) {
    return invalid(where, "must be an object");
  }
  KILN_TRY(check_members(json, where, {"arn", "subscriptions"}));
  Topic topic;
  KILN_TRY(read_string(json, where, "arn", topic.arn));
  if (!starts_with(topic.arn, "arn:")) {
    return invalid(where + ".arn", "must be an ARN (arn:aws:sns:<region>:<account>:<name>)");
  }
  auto subscriptions = json.find("subscriptions");
  if (subscriptions == json.end() || !subscriptions->is_array()) {
    return invalid(where + ".subscriptions", "must be an array");
  }
  for (size_t i = 0; i < subscriptions->size(); ++i) {
    topic.subscriptions.push_back(KILN_TRY(parse_subscription(
        (*subscriptions)[i], fmt::format("{}.subscriptions[{}]", where, i), env)));
  }
  return topic;
}

}  // namespace

Result<std::vector<Topic>> topics_from_json(const Json& config, const EnvLookup& env) {
  if (!config.is_object()) {
    return invalid("notifications", "must be a JSON object with \"topics\"");
  }
  KILN_TRY(check_members(config, "notifications", {"topics"}));
  auto topics = config.find("topics");
  if (topics == config.end() || !topics->is_array()) {
    return invalid("topics", "must be an array");
  }
  std::vector<Topic> out;
  for (size_t i = 0; i < topics->size(); ++i) {
    Topic topic = KILN_TRY(parse_topic((*topics)[i], fmt::format("topics[{}]", i), env));
    bool duplicate =
        std::any_of(out.begin(), out.end(), [&](const Topic& t) { return t.arn == topic.arn; });
    if (duplicate) {
      return invalid(fmt::format("topics[{}].arn", i),
                     fmt::format("{} is configured twice", topic.arn));
    }
    out.push_back(std::move(topic));
  }
  return out;
}

Result<std::vector<Topic>> topics_from_json(const Json& config) {
  return topics_from_json(config, [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
  });
}

// ---- logs to S3 ----------------------------------------------------------------------------

namespace {

std::string join_key(std::initializer_list<std::string_view> parts) {
  std::string key;
  for (std::string_view part : parts) {
    while (starts_with(part, "/")) {
      part.remove_prefix(1);
    }
    while (ends_with(part, "/")) {
      part.remove_suffix(1);
    }
    if (!part.empty()) {
      key += key.empty() ? "" : "/";
      key += part;
    }
  }
  return key;
}

// ErrorCodes of put_object worth another attempt.
bool retryable(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout || code == ErrorCode::kIo;
}

}  // namespace

Result<UploadReport> upload_folder(const fs::path& folder,
                                   const S3Location& location,
                                   const std::string& key_prefix,
                                   const DeliveryOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(folder, ec))) {
    return make_error(ErrorCode::kNotFound, "the log folder {} is not a folder", folder.string());
  }
  if (location.bucket.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no S3 bucket to upload {} to", folder.string());
  }
  net::S3Config config;
  config.endpoint = location.endpoint;
  config.region = location.region;
  config.access_key_id = location.access_key_id;
  config.secret_access_key = location.secret_access_key;
  net::S3Client client(config);

  // The walk comes first, so a folder that cannot be read fails before anything is uploaded.
  std::vector<std::pair<fs::path, std::string>> files;
  fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code status_ec;
    if (!it->is_regular_file(status_ec) || it->is_symlink(status_ec)) {
      continue;
    }
    std::string relative = it->path().lexically_relative(folder).generic_string();
    files.emplace_back(it->path(), join_key({location.prefix, key_prefix, relative}));
  }
  if (ec) {
    return make_error(
        ErrorCode::kIo, "reading the log folder {}: {}", folder.string(), ec.message());
  }
  std::sort(
      files.begin(), files.end(), [](const auto& a, const auto& b) { return a.second < b.second; });

  UploadReport report;
  for (const auto& [path, key] : files) {
    std::chrono::milliseconds backoff = options.first_backoff;
    std::optional<Error> last;
    for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
      if (attempt > 1) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
      }
      std::error_code size_ec;
      uint64_t size = fs::file_size(path, size_ec);
      net::S3RequestOptions request;
      request.control.deadline =
          Clock::now() + options.timeout + std::chrono::seconds(size_ec ? 0 : size >> 20);
      Result<uint64_t> put = client.put_object({location.bucket, key}, path, request);
      if (put.ok()) {
        report.files += 1;
        report.bytes += *put;
        last.reset();
        break;
      }
      last = put.error();
      if (!retryable(last->code)) {
        break;
      }
    }
    if (last) {
      KILN_LOG(kWarning, "notify: log upload: {}", last->message);
      report.failed.push_back(key);
    }
  }
  return report;
}

}  // namespace kiln::notify
