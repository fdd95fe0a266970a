// Tests of notifications and log uploads. Webhooks and SNS Publish go to a real HTTP server on
// loopback (tests/servers/http_fixture.py, which records every POST and checks SigV4 itself), log
// uploads to s3rver (npm). A missing server skips its tests.

#include "kiln/notify/notify.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <map>
#include <regex>

#include "kiln/base/file.hpp"
#include "kiln/net/http_transfer.hpp"
#include "kiln/net/s3_client.hpp"
#include "kiln/net/test_servers.hpp"

namespace kiln::notify {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using net::testing::Server;

// HMAC-SHA256 through OpenSSL's EVP_MAC interface: a second implementation to check signature().
std::string reference_hmac_hex(std::string_view key, std::string_view data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  unsigned char out[64];
  size_t length = 0;
  bool ok =
      EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) ==
          1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out, &length, sizeof out) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  std::string hex;
  for (size_t i = 0; ok && i < length; ++i) {
    hex += fmt::format("{:02x}", out[i]);
  }
  return hex;
}

Subscription http_subscription(std::string url, std::string secret = "") {
  Subscription subscription;
  subscription.protocol = "http";
  subscription.endpoint = std::move(url);
  subscription.secret = std::move(secret);
  return subscription;
}

Json sample_image(std::string_view status = "AVAILABLE") {
  return Json::parse(fmt::format(R"({{
    "arn": "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-nginx/1.2.0/3",
    "name": "golden-nginx",
    "type": "AMI",
    "version": "1.2.0",
    "platform": "Linux",
    "state": {{"status": "{}"}},
    "imageRecipe": {{"arn": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/r/1.0.0",
                     "name": "r", "version": "1.0.0", "components": []}},
    "infrastructureConfiguration": {{"name": "infra",
                                     "snsTopicArn": "arn:aws:sns:us-east-1:123456789012:builds"}},
    "dateCreated": "2024-05-01T10:00:00.000Z",
    "outputResources": {{"amis": [{{"region": "us-east-1", "image": "golden-nginx:1.2.0-3"}}]}},
    "kiln": {{"logLocation": "/var/lib/kiln/logs/golden-nginx/1.2.0/3",
              "instances": [{{"role": "build", "instanceId": "i-0123"}}],
              "stages": [], "seconds": 12.5}}
  }})",
                                 status));
}

// ---- pure pieces ---------------------------------------------------------------------------

TEST(ImageMessage, IsTheImageAsAwsPublishesItWithoutKilnInternals) {
  Json message = image_message(sample_image());
  std::vector<std::string> keys;
  for (const auto& [name, value] : message.items()) {
    keys.push_back(name);
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"versionlessArn",
                                      "arn",
                                      "name",
                                      "type",
                                      "buildVersion",
                                      "version",
                                      "platform",
                                      "state",
                                      "imageRecipe",
                                      "infrastructureConfiguration",
                                      "dateCreated",
                                      "outputResources",
                                      "kiln"}));
  EXPECT_EQ(message["versionlessArn"],
            "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-nginx");
  EXPECT_EQ(message["buildVersion"], 3);
  EXPECT_EQ(message["state"], (Json{{"status", "AVAILABLE"}}));
  EXPECT_EQ(message["outputResources"], sample_image()["outputResources"]);
  EXPECT_EQ(message["kiln"], (Json{{"logLocation", "/var/lib/kiln/logs/golden-nginx/1.2.0/3"}}));

  Json bare = sample_image();
  bare.erase("kiln");
  EXPECT_FALSE(image_message(bare).contains("kiln"));
}

TEST(Signature, IsHmacSha256OfTheBody) {
  // RFC 4231, test case 2.
  EXPECT_EQ(signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string body = image_message(sample_image()).dump();
  EXPECT_EQ(signature("s3cr3t", body), "sha256=" + reference_hmac_hex("s3cr3t", body));
  EXPECT_NE(signature("other", body), signature("s3cr3t", body));
}

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(TopicsFromJson, ReadsWebhooksAndSns) {
  Json config = Json::parse(R"({"topics": [
    {"arn": "arn:aws:sns:us-east-1:123456789012:builds", "subscriptions": [
      {"protocol": "https", "endpoint": "https://hooks.example.com/kiln", "secret": "s3cr3t"},
      {"protocol": "http", "endpoint": "http://127.0.0.1:8080/hook"},
      {"protocol": "sns", "endpoint": "http://127.0.0.1:4575", "region": "eu-west-1",
       "topicArn": "arn:aws:sns:eu-west-1:000000000000:mirror",
       "accessKeyId": "AKID", "secretAccessKey": "SECRET"}]},
    {"arn": "arn:aws:sns:us-east-1:123456789012:quiet", "subscriptions": []}]})");
  Result<std::vector<Topic>> topics = topics_from_json(config, env_of({}));
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  ASSERT_EQ(topics->size(), 2u);
  const Topic& builds = (*topics)[0];
  EXPECT_EQ(builds.arn, "arn:aws:sns:us-east-1:123456789012:builds");
  ASSERT_EQ(builds.subscriptions.size(), 3u);
  EXPECT_EQ(builds.subscriptions[0].secret, "s3cr3t");
  EXPECT_EQ(builds.subscriptions[1].protocol, "http");
  EXPECT_EQ(builds.subscriptions[2].region, "eu-west-1");
  EXPECT_EQ(builds.subscriptions[2].topic_arn, "arn:aws:sns:eu-west-1:000000000000:mirror");
  EXPECT_EQ(builds.subscriptions[2].secret_access_key, "SECRET");
  EXPECT_TRUE((*topics)[1].subscriptions.empty());
}

TEST(TopicsFromJson, SnsKeysFallBackToTheEnvironment) {
  Json config = Json::parse(R"({"topics": [{"arn": "arn:aws:sns:us-east-1:1:t", "subscriptions": [
      {"protocol": "sns", "endpoint": "https://sns.us-east-1.amazonaws.com"}]}]})");
  Result<std::vector<Topic>> topics = topics_from_json(
      config, env_of({{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"}}));
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  EXPECT_EQ((*topics)[0].subscriptions[0].access_key_id, "ENVKEY");
  EXPECT_EQ((*topics)[0].subscriptions[0].secret_access_key, "ENVSECRET");
  EXPECT_EQ((*topics)[0].subscriptions[0].region, "us-east-1");

  Result<std::vector<Topic>> none = topics_from_json(config, env_of({}));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(TopicsFromJson, NamesWhatIsWrongWithoutSecrets) {
  auto error_of = [](std::string_view subscription) {
    Json config = Json::parse(fmt::format(
        R"({{"topics": [{{"arn": "arn:aws:sns:us-east-1:1:t", "subscriptions": [{}]}}]}})",
        subscription));
    Result<std::vector<Topic>> topics = topics_from_json(config, env_of({}));
    return topics.ok() ? std::string("<accepted>") : topics.error().message;
  };
  EXPECT_EQ(error_of(R"({"protocol": "email", "endpoint": "http://x"})"),
            "topics[0].subscriptions[0].protocol: must be \"http\", \"https\" or \"sns\"");
  EXPECT_EQ(error_of(R"({"protocol": "https", "endpoint": "http://x/hook"})"),
            "topics[0].subscriptions[0].endpoint: must be a https:// URL with a host");
  EXPECT_EQ(error_of(R"({"protocol": "http", "endpoint": "http:///nohost"})"),
            "topics[0].subscriptions[0].endpoint: must be a http:// URL with a host");
  EXPECT_NE(error_of(R"({"protocol": "http", "endpoint": "http://x", "secrt": "TOPSECRET"})")
                .find("unknown member \"secrt\""),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"protocol": "http", "endpoint": "http://x", "secret": 7})"),
            "topics[0].subscriptions[0].secret: must be a string");
  std::string half =
      error_of(R"({"protocol": "sns", "endpoint": "http://x", "secretAccessKey": "TOPSECRET"})");
  EXPECT_NE(half.find("both accessKeyId and secretAccessKey"), std::string::npos);
  EXPECT_EQ(half.find("TOPSECRET"), std::string::npos);
  EXPECT_FALSE(topics_from_json(Json::parse(R"({"topics": {}})"), env_of({})).ok());
  EXPECT_FALSE(topics_from_json(Json::parse(R"({"topics": [{"arn": "builds",
      "subscriptions": []}]})"),
                                env_of({}))
                   .ok());
  Result<std::vector<Topic>> twice = topics_from_json(
      Json::parse(R"({"topics": [{"arn": "arn:aws:sns:us-east-1:1:t", "subscriptions": []},
                                 {"arn": "arn:aws:sns:us-east-1:1:t", "subscriptions": []}]})"),
      env_of({}));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message, "topics[1].arn: arn:aws:sns:us-east-1:1:t is configured twice");
}

// ---- webhooks and SNS against the HTTP fixture ---------------------------------------------

constexpr std::string_view kTopicArn = "arn:aws:sns:us-east-1:123456789012:builds";
constexpr std::string_view kAwsKey = "AKIDNOTIFY";
constexpr std::string_view kAwsSecret = "notify/Secret+Key";

class DeliveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>(TempDir::create("kiln-notify-test-").value());
    server_ = std::make_unique<Server>(net::testing::start_http_fixture(
        dir_->path(),
        {"--aws-key", std::string(kAwsKey), "--aws-secret", std::string(kAwsSecret)}));
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override {
    if (!server_->failure.empty()) {
      FAIL() << "the test server did not start: " << server_->failure;
    }
  }

  // A path no other test uses.
  static std::string unique_path(std::string_view route) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return fmt::format("{}/{}", route, info->name());
  }
  static Topic webhook(const std::string& path, const std::string& secret = "") {
    return Topic{std::string(kTopicArn), {http_subscription(server_->url(path), secret)}};
  }
  static DeliveryOptions fast(int attempts = 5) {
    DeliveryOptions options;
    options.attempts = attempts;
    options.first_backoff = 50ms;
    options.timeout = 5s;
    return options;
  }

  // The POSTs the fixture recorded for `path`.
  static Json recorded(const std::string& path) {
    std::string body;
    net::HttpRequest request;
    request.url = server_->url("/requests?path=" + net::uri_encode(path, false));
    auto sink = [&body](std::string_view chunk) {
      body.append(chunk);
      return ok_status();
    };
    Result<net::HttpResponse> response = net::http_perform(request, sink, {});
    EXPECT_TRUE(response.ok() && response->status == 200);
    return Json::parse(body.empty() ? "[]" : body);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<Server> server_;
};

TEST_F(DeliveryTest, PostsTheImageJsonSigned) {
  std::string path = unique_path("/hook");
  Json message = image_message(sample_image());
  std::vector<DeliveryResult> results = deliver(webhook(path, "hook-secret"), message, fast());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].delivered) << results[0].error;
  EXPECT_EQ(results[0].attempts, 1);
  EXPECT_EQ(results[0].endpoint, server_->url(path));

  Json requests = recorded(path);
  ASSERT_EQ(requests.size(), 1u);
  const Json& request = requests[0];
  std::string body = request["body"];
  EXPECT_EQ(Json::parse(body), message);
  const Json& headers = request["headers"];
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers["user-agent"], "kiln");
  EXPECT_EQ(headers["x-kiln-event"], "AVAILABLE");
  EXPECT_TRUE(std::regex_match(
      headers["x-kiln-delivery"].get<std::string>(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  // What a receiver does: HMAC the raw body with the shared secret, compare.
  EXPECT_EQ(headers["x-kiln-signature"], "sha256=" + reference_hmac_hex("hook-secret", body));
  EXPECT_NE(headers["x-kiln-signature"], "sha256=" + reference_hmac_hex("wrong-secret", body));
}

TEST_F(DeliveryTest, WithoutASecretThereIsNoSignature) {
  std::string path = unique_path("/hook");
  ASSERT_TRUE(deliver(webhook(path), image_message(sample_image("FAILED")), fast())[0].delivered);
  Json requests = recorded(path);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0]["headers"].contains("x-kiln-signature"));
  EXPECT_EQ(requests[0]["headers"]["x-kiln-event"], "FAILED");
}

TEST_F(DeliveryTest, ServerErrorsAreRetriedWithBackoffAndTheSameDeliveryId) {
  std::string path = unique_path("/flaky/2");
  auto start = std::chrono::steady_clock::now();
  std::vector<DeliveryResult> results =
      deliver(webhook(path, "k"), image_message(sample_image()), fast());
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].delivered) << results[0].error;
  EXPECT_EQ(results[0].attempts, 3);
  EXPECT_GE(took, 150ms);  // 50 ms, then 100 ms

  Json requests = recorded(path);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["status"], 500);
  EXPECT_EQ(requests[1]["status"], 500);
  EXPECT_EQ(requests[2]["status"], 200);
  std::string id = requests[0]["headers"]["x-kiln-delivery"];
  for (const Json& request : requests) {
    EXPECT_EQ(request["headers"]["x-kiln-delivery"], id);
    EXPECT_EQ(request["body"], requests[0]["body"]);
  }
  // A new delivery of the same message has a new id.
  std::string again = unique_path("/hook");
  ASSERT_TRUE(deliver(webhook(again), image_message(sample_image()), fast())[0].delivered);
  EXPECT_NE(recorded(again)[0]["headers"]["x-kiln-delivery"], id);
}

TEST_F(DeliveryTest, ClientErrorsAreNotRetried) {
  std::string path = unique_path("/status/400");
  std::vector<DeliveryResult> results =
      deliver(webhook(path), image_message(sample_image()), fast());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].delivered);
  EXPECT_EQ(results[0].attempts, 1);
  EXPECT_NE(results[0].error.find("HTTP 400"), std::string::npos) << results[0].error;
  EXPECT_EQ(recorded(path).size(), 1u);
}

TEST_F(DeliveryTest, TooManyRequestsIsRetriedUpToTheLimit) {
  std::string path = unique_path("/status/429");
  std::vector<DeliveryResult> results =
      deliver(webhook(path), image_message(sample_image()), fast(3));
  EXPECT_FALSE(results[0].delivered);
  EXPECT_EQ(results[0].attempts, 3);
  EXPECT_EQ(recorded(path).size(), 3u);
}

TEST_F(DeliveryTest, ConnectionErrorsAreRetried) {
  Topic topic{
      std::string(kTopicArn),
      {http_subscription(fmt::format("http://127.0.0.1:{}/hook", net::testing::free_port()))}};
  std::vector<DeliveryResult> results = deliver(topic, image_message(sample_image()), fast(3));
  EXPECT_FALSE(results[0].delivered);
  EXPECT_EQ(results[0].attempts, 3);
  EXPECT_FALSE(results[0].error.empty());
}

TEST_F(DeliveryTest, SnsPublishIsSignedForSns) {
  Subscription sns;
  sns.protocol = "sns";
  sns.endpoint = server_->url("/sns");
  sns.region = "us-west-2";
  sns.access_key_id = kAwsKey;
  sns.secret_access_key = kAwsSecret;
  Json message = image_message(sample_image());
  size_t before = recorded("/sns").size();
  std::vector<DeliveryResult> results =
      deliver(Topic{std::string(kTopicArn), {sns}}, message, fast());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].delivered) << results[0].error;

  Json requests = recorded("/sns");
  ASSERT_EQ(requests.size(), before + 1);
  const Json& request = requests.back();
  EXPECT_EQ(request["status"], 200);
  std::string auth = request["headers"]["authorization"];
  EXPECT_TRUE(std::regex_search(
      auth,
      std::regex("^AWS4-HMAC-SHA256 Credential=AKIDNOTIFY/[0-9]{8}/us-west-2/sns/aws4_request, "
                 "SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$")))
      << auth;
  std::string body = request["body"];
  EXPECT_NE(body.find("Action=Publish"), std::string::npos);
  EXPECT_NE(body.find("Version=2010-03-31"), std::string::npos);
  EXPECT_NE(body.find("TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Abuilds"),
            std::string::npos);
  EXPECT_EQ(body.find(std::string(kAwsSecret)), std::string::npos);

  // The fixture recomputes the signature: a wrong secret is refused (403), not retried.
  sns.secret_access_key = "not-the-secret";
  sns.topic_arn = "arn:aws:sns:us-west-2:000000000000:elsewhere";
  std::vector<DeliveryResult> refused =
      deliver(Topic{std::string(kTopicArn), {sns}}, message, fast());
  EXPECT_FALSE(refused[0].delivered);
  EXPECT_EQ(refused[0].attempts, 1);
  EXPECT_NE(refused[0].error.find("SignatureDoesNotMatch"), std::string::npos) << refused[0].error;
  EXPECT_EQ(refused[0].error.find("not-the-secret"), std::string::npos);
}

TEST_F(DeliveryTest, NotifierDeliversInTheBackground) {
  std::string hook = unique_path("/hook");
  std::string flaky = unique_path("/flaky/1");
  std::vector<Topic> topics = {
      Topic{std::string(kTopicArn),
            {http_subscription(server_->url(hook), "s"), http_subscription(server_->url(flaky))}},
      Topic{"arn:aws:sns:us-east-1:123456789012:other", {}}};
  Notifier notifier(topics, fast());
  notifier.publish(std::string(kTopicArn), image_message(sample_image()));
  notifier.publish(std::string(kTopicArn), image_message(sample_image("FAILED")));
  notifier.publish("arn:aws:sns:us-east-1:123456789012:unconfigured", sample_image());
  ASSERT_TRUE(notifier.flush(20s));
  std::vector<DeliveryResult> results = notifier.results();
  ASSERT_EQ(results.size(), 4u);
  for (const DeliveryResult& result : results) {
    EXPECT_TRUE(result.delivered) << result.endpoint << ": " << result.error;
  }
  EXPECT_EQ(results[1].attempts, 2);
  Json requests = recorded(hook);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["headers"]["x-kiln-event"], "AVAILABLE");
  EXPECT_EQ(requests[1]["headers"]["x-kiln-event"], "FAILED");
}

TEST_F(DeliveryTest, NotifierDestructorDrainsForABoundedTime) {
  std::string path = unique_path("/status/503");
  DeliveryOptions options = fast(100);
  options.first_backoff = 1s;
  options.drain = 300ms;
  auto start = std::chrono::steady_clock::now();
  {
    Notifier notifier({webhook(path)}, options);
    for (int i = 0; i < 3; ++i) {
      notifier.publish(std::string(kTopicArn), image_message(sample_image()));
    }
    EXPECT_FALSE(notifier.flush(100ms));
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 3s);
  size_t seen = recorded(path).size();
  EXPECT_GE(seen, 1u);
  EXPECT_LE(seen, 2u);  // the first message's first attempts; the other two were dropped
}

// ---- log uploads to s3rver -----------------------------------------------------------------

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-notify-s3-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    fs::create_directories(dir_->path() / "data");
    server_ = net::testing::start_s3rver(dir_->path() / "data");
    if (!server_.failure.empty()) {
      FAIL() << "the test server did not start: " << server_.failure;
    }
    ASSERT_TRUE(client().create_bucket("kiln-logs", {}).ok());
    // A build's log folder: nested files, an empty file, a link that must not be followed.
    fs::path logs = folder();
    files_ = {{"build.log", "building\n"},
              {"documents/update.yaml", "name: update\n"},
              {"TOE_2024-05-01_10-00-00_UTC-0_abc/detailedoutput.json", "{\"executionId\":1}"},
              {"TOE_2024-05-01_10-00-00_UTC-0_abc/console.log", std::string(300'000, 'x')},
              {"empty.txt", ""}};
    for (const auto& [name, content] : files_) {
      fs::create_directories((logs / name).parent_path());
      ASSERT_TRUE(write_file(logs / name, content).ok());
    }
    ASSERT_TRUE(write_file(dir_->path() / "outside.txt", "not a log").ok());
    fs::create_symlink(dir_->path() / "outside.txt", logs / "link.txt");
    fs::create_directory_symlink(dir_->path() / "data", logs / "linked-folder");
  }

  fs::path folder() const { return dir_->path() / "logs"; }
  S3Location location() const {
    return S3Location{"kiln-logs", "logs/", server_.url(), "us-east-1", "S3RVER", "S3RVER"};
  }
  net::S3Client client() const {
    net::S3Config config;
    config.endpoint = server_.url();
    config.access_key_id = "S3RVER";
    config.secret_access_key = "S3RVER";
    return net::S3Client(config);
  }
  void expect_folder_intact() const {
    for (const auto& [name, content] : files_) {
      EXPECT_EQ(read_file(folder() / name).value_or("<missing>"), content) << name;
    }
    EXPECT_TRUE(fs::is_symlink(folder() / "link.txt"));
  }

  std::unique_ptr<TempDir> dir_;
  Server server_;
  std::map<std::string, std::string> files_;
};

TEST_F(UploadTest, PutsEveryFileUnderThePrefix) {
  Result<UploadReport> report =
      upload_folder(folder(), location(), "golden-nginx/1.2.0/3", DeliveryOptions{});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->files, files_.size());
  uint64_t bytes = 0;
  for (const auto& [name, content] : files_) {
    bytes += content.size();
  }
  EXPECT_EQ(report->bytes, bytes);
  EXPECT_TRUE(report->failed.empty());

  Result<net::S3Listing> listing = client().list_objects_v2("kiln-logs", "", 1000, {});
  ASSERT_TRUE(listing.ok()) << listing.error().message;
  std::vector<std::string> keys;
  for (const net::S3Object& object : listing->objects) {
    keys.push_back(object.key);
  }
  std::vector<std::string> expected;
  for (const auto& [name, content] : files_) {
    expected.push_back("logs/golden-nginx/1.2.0/3/" + name);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  for (const auto& [name, content] : files_) {
    fs::path back = dir_->path() / "back";
    Result<uint64_t> got =
        client().get_object({"kiln-logs", "logs/golden-nginx/1.2.0/3/" + name}, back, {});
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(read_file(back).value_or("<missing>"), content) << name;
  }
  expect_folder_intact();
}

TEST_F(UploadTest, AStoppedServerIsReportedAndTheFolderStays) {
  server_.stop();
  DeliveryOptions options;
  options.attempts = 2;
  options.first_backoff = 10ms;
  options.timeout = 5s;
  Result<UploadReport> report = upload_folder(folder(), location(), "img/1.0.0/1", options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->files, 0u);
  EXPECT_EQ(report->bytes, 0u);
  EXPECT_EQ(report->failed.size(), files_.size());
  EXPECT_NE(std::find(report->failed.begin(), report->failed.end(), "logs/img/1.0.0/1/build.log"),
            report->failed.end());
  expect_folder_intact();
}

TEST(Upload, AMissingFolderIsAnError) {
  S3Location location;
  location.bucket = "b";
  location.endpoint = "http://127.0.0.1:1";
  Result<UploadReport> report = upload_folder("/nonexistent/kiln/logs", location, "x");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace kiln::notify
