// Tests of WebDownload, S3Download, S3Upload and the S3 client against real servers on loopback:
// tests/servers/http_fixture.py (python3) and s3rver (npm). A missing server skips its tests.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "kiln/base/file.hpp"
#include "kiln/base/hash.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/net/test_servers.hpp"
#include "kiln/toe/actions.hpp"
#include "kiln/toe/aws_config.hpp"
#include "kiln/toe/http_transfer.hpp"
#include "kiln/toe/s3_client.hpp"

namespace kiln::toe {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class FakeOutput : public StepOutput {
 public:
  void process_output(os::OutputStream, std::string_view) override {}
  void info(std::string_view line) override { lines.emplace_back(line); }
  void debug(std::string_view line) override { lines.emplace_back(line); }
  std::string all() const { return join(lines, "\n"); }
  std::vector<std::string> lines;
};

using net::testing::free_port;
using net::testing::Server;
using net::testing::servers_dir;
using net::testing::start_server;

std::string upper(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return text;
}

std::string read_text(const fs::path& path) {
  return read_file(path).value_or("<missing>");
}

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs a module the way the runner does.
struct ModuleRun {
  FakeOutput output;
  ActionOutcome outcome;
};

ModuleRun run_module(ActionFn module,
                     const Json& inputs,
                     const EnvLookup& env,
                     os::Deadline deadline = std::nullopt,
                     const std::atomic<bool>* cancel = nullptr) {
  document::Step step;
  step.name = "NetworkStep";
  ModuleRun run;
  ActionContext context{inputs, step, deadline, cancel, run.output, env, nullptr, {}, {}, nullptr};
  run.outcome = module(context);
  return run;
}

// ---- pure pieces ---------------------------------------------------------------------------

TEST(ParseS3Uri, SplitsBucketAndKey) {
  Result<S3Uri> uri = parse_s3_uri("s3://bucket/dir/file.txt");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->bucket, "bucket");
  EXPECT_EQ(uri->key, "dir/file.txt");
  EXPECT_EQ(parse_s3_uri("s3://bucket")->key, "");
  EXPECT_FALSE(parse_s3_uri("https://bucket/key").ok());
  EXPECT_FALSE(parse_s3_uri("s3:///key").ok());
  EXPECT_FALSE(parse_s3_uri("s3://bad?bucket/key").ok());
}

// ---- the HTTP fixture: WebDownload and S3 signing ------------------------------------------

class HttpFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>(TempDir::create("kiln-http-test-").value());
    fs::create_directories(root());
    server_ = std::make_unique<Server>(
        net::testing::start_http_fixture(root(), {"--aws-token", "SESSIONTOKEN"}));
    start_failure_ = server_->failure;
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override {
    if (!start_failure_.empty()) {
      FAIL() << "the test server did not start: " << start_failure_;
    }
    Result<TempDir> work = TempDir::create("kiln-http-work-");
    ASSERT_TRUE(work.ok());
    work_ = std::make_unique<TempDir>(std::move(*work));
  }

  static fs::path root() { return dir_->path() / "root"; }
  static std::string url(std::string_view path) {
    return fmt::format("http://127.0.0.1:{}{}", server_->port, path);
  }
  fs::path work(std::string_view name) const { return work_->path() / name; }

  // A file the server serves at /files/<name>.
  static std::string serve(const std::string& name, const std::string& content) {
    EXPECT_TRUE(write_file(root() / name, content).ok());
    return content;
  }

  // How many requests the server saw for `path`.
  static int requests(const std::string& path) {
    std::string body;
    HttpRequest request;
    request.url = url("/count?path=" + uri_encode(path, true));
    auto sink = [&body](std::string_view chunk) {
      body.append(chunk);
      return ok_status();
    };
    Result<HttpResponse> response = http_perform(request, sink, {});
    return response.ok() && response->status == 200 ? std::stoi(body) : -1;
  }

  ModuleRun download(const Json& inputs,
                     os::Deadline deadline = std::nullopt,
                     const std::atomic<bool>* cancel = nullptr) {
    return run_module(&actions::web_download, inputs, fixed_env({}), deadline, cancel);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<Server> server_;
  static inline std::string start_failure_;
  std::unique_ptr<TempDir> work_;
};

using WebDownloadTest = HttpFixtureTest;

TEST_F(WebDownloadTest, DownloadsAFileAndReportsItsDestination) {
  std::string content = serve("hello.txt", "hello, kiln\n");
  fs::path target = work("out.txt");
  ModuleRun run = download(Json::array(
      {{{"source", url("/files/hello.txt?token=SECRET123")}, {"destination", target.string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(read_text(target), content);
  EXPECT_EQ(run.outcome.outputs["destination"], target.string());
  EXPECT_NE(run.output.all().find("(12 bytes)"), std::string::npos) << run.output.all();
  EXPECT_EQ(run.output.all().find("SECRET123"), std::string::npos) << run.output.all();
  EXPECT_EQ(names_in(work_->path()), std::vector<std::string>{"out.txt"});
}

TEST_F(WebDownloadTest, JoinsTheDestinationsOfSeveralItemsWithNewlines) {
  serve("one.txt", "1");
  serve("two.txt", "2");
  ModuleRun run = download(
      Json::array({{{"source", url("/files/one.txt")}, {"destination", work("a/").string()}},
                   {{"source", url("/files/two.txt")}, {"destination", work("b.txt").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(run.outcome.outputs["destination"],
            work("a/one.txt").string() + "\n" + work("b.txt").string());
}

TEST_F(WebDownloadTest, VerifiesAMatchingChecksum) {
  std::string content = serve("sum.txt", "checked content");
  for (auto [algorithm, name] : {std::pair{HashAlgorithm::kMd5, "MD5"},
                                 std::pair{HashAlgorithm::kSha1, "sha1"},
                                 std::pair{HashAlgorithm::kSha256, "SHA256"},
                                 std::pair{HashAlgorithm::kSha512, "SHA512"}}) {
    fs::path target = work(std::string("sum-") + name);
    ModuleRun run = download(Json::array({{{"source", url("/files/sum.txt")},
                                           {"destination", target.string()},
                                           {"checksum", upper(hash_hex(algorithm, content))},
                                           {"algorithm", name}}}));
    EXPECT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
    EXPECT_EQ(read_text(target), content);
  }
}

TEST_F(WebDownloadTest, AChecksumMismatchFailsAndLeavesNothingBehind) {
  serve("bad.txt", "actual content");
  fs::path target = work("bad.txt");
  ModuleRun run = download(Json::array({{{"source", url("/files/bad.txt")},
                                         {"destination", target.string()},
                                         {"checksum", hash_hex(HashAlgorithm::kSha256, "other")},
                                         {"algorithm", "SHA256"}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("checksum mismatch"), std::string::npos)
      << run.outcome.failure_message;
  EXPECT_TRUE(names_in(work_->path()).empty());
  EXPECT_EQ(requests("/files/bad.txt"), 1);  // a mismatch is not retried
}

TEST_F(WebDownloadTest, AChecksumNeedsItsAlgorithm) {
  ModuleRun run = download(Json::array(
      {{{"source", url("/files/x")}, {"destination", work("x").string()}, {"checksum", "abc"}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("together"), std::string::npos);
}

TEST_F(WebDownloadTest, NotFoundIsAnErrorAndIsNotRetried) {
  ModuleRun run = download(Json::array({{{"source", url("/files/missing.txt?sig=SECRET456")},
                                         {"destination", work("m").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("HTTP 404"), std::string::npos)
      << run.outcome.failure_message;
  EXPECT_EQ(run.outcome.failure_message.find("SECRET456"), std::string::npos);
  EXPECT_EQ(requests("/files/missing.txt"), 1);
  EXPECT_FALSE(fs::exists(work("m")));
}

TEST_F(WebDownloadTest, AnyStatusOtherThan200IsAnError) {
  ModuleRun run = download(
      Json::array({{{"source", url("/status/204")}, {"destination", work("n").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("HTTP 204"), std::string::npos);
}

TEST_F(WebDownloadTest, RetriesTransientServerErrors) {
  std::string content = serve("flaky.txt", "finally");
  ModuleRun run = download(Json::array(
      {{{"source", url("/flaky/2/flaky.txt")}, {"destination", work("flaky.txt").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(read_text(work("flaky.txt")), content);
  EXPECT_EQ(requests("/flaky/2/flaky.txt"), 3);
  EXPECT_NE(run.output.all().find("Attempt 2 of 5 failed"), std::string::npos) << run.output.all();
}

TEST_F(WebDownloadTest, GivesUpAfterFiveAttempts) {
  ModuleRun run = download(
      Json::array({{{"source", url("/status/503")}, {"destination", work("never").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("gave up after 5 attempts"), std::string::npos)
      << run.outcome.failure_message;
  EXPECT_EQ(requests("/status/503"), 5);
}

TEST_F(WebDownloadTest, FollowsRedirects) {
  std::string content = serve("target.txt", "redirected");
  ModuleRun run = download(Json::array(
      {{{"source", url("/redirect/files/target.txt")}, {"destination", work("r.txt").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(read_text(work("r.txt")), content);
}

TEST_F(WebDownloadTest, AFolderDestinationKeepsTheUrlsFileNameAndCreatesFolders) {
  std::string content = serve("named file.txt", "in a folder");
  fs::path folder = work("deep/er/");
  ModuleRun run = download(Json::array(
      {{{"source", url("/files/named%20file.txt?x=1")}, {"destination", folder.string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(read_text(work("deep/er/named file.txt")), content);
  EXPECT_EQ(run.outcome.outputs["destination"], (folder / "named file.txt").string());
}

TEST_F(WebDownloadTest, OverwriteFalseKeepsAnExistingFile) {
  serve("new.txt", "new");
  ASSERT_TRUE(write_file(work("keep.txt"), "old").ok());
  ModuleRun run = download(Json::array({{{"source", url("/files/new.txt")},
                                         {"destination", work("keep.txt").string()},
                                         {"overwrite", false}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("File already exists"), std::string::npos);
  EXPECT_EQ(read_text(work("keep.txt")), "old");
}

TEST_F(WebDownloadTest, OverwriteTrueReplacesAnExistingFile) {
  serve("fresh.txt", "fresh");
  ASSERT_TRUE(write_file(work("stale.txt"), "stale").ok());
  ModuleRun run = download(Json::array(
      {{{"source", url("/files/fresh.txt")}, {"destination", work("stale.txt").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(read_text(work("stale.txt")), "fresh");
}

TEST_F(WebDownloadTest, AnExistingFileWithTheRightChecksumIsNotDownloadedAgain) {
  ASSERT_TRUE(write_file(work("cached.bin"), "cached").ok());
  ModuleRun run = download(Json::array({{{"source", url("/files/cached.bin")},
                                         {"destination", work("cached.bin").string()},
                                         {"checksum", hash_hex(HashAlgorithm::kSha1, "cached")},
                                         {"algorithm", "SHA1"}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kSuccess) << run.outcome.failure_message;
  EXPECT_EQ(requests("/files/cached.bin"), 0);
  EXPECT_EQ(run.outcome.outputs["destination"], work("cached.bin").string());
}

TEST_F(WebDownloadTest, OnlyHttpSourcesAreAccepted) {
  ModuleRun run = download(
      Json::array({{{"source", "file:///etc/passwd"}, {"destination", work("p").string()}}}));
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_FALSE(fs::exists(work("p")));
}

TEST_F(WebDownloadTest, TheDeadlineStopsAStalledTransfer) {
  auto started = std::chrono::steady_clock::now();
  ModuleRun run =
      download(Json::array({{{"source", url("/slow/x")}, {"destination", work("slow").string()}}}),
               started + 1s);
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("timed out"), std::string::npos)
      << run.outcome.failure_message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_TRUE(names_in(work_->path()).empty());
}

TEST_F(WebDownloadTest, CancellationStopsTheStep) {
  std::atomic<bool> cancel{true};
  serve("c.txt", "c");
  ModuleRun run = download(
      Json::array({{{"source", url("/files/c.txt")}, {"destination", work("c").string()}}}),
      std::nullopt,
      &cancel);
  ASSERT_EQ(run.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(run.outcome.failure_message.find("cancelled"), std::string::npos);
  EXPECT_EQ(requests("/files/c.txt"), 0);
}

TEST_F(WebDownloadTest, CertificatesAreVerifiedUnlessIgnored) {
  std::optional<fs::path> openssl = os::find_program("openssl");
  if (!openssl) {
    GTEST_SKIP() << "openssl is not installed";
  }
  fs::path cert = work("cert.pem");
  fs::path key = work("key.pem");
  Result<os::ProcessResult> made = os::run_process({{openssl->string(),
                                                     "req",
                                                     "-x509",
                                                     "-newkey",
                                                     "rsa:2048",
                                                     "-nodes",
                                                     "-days",
                                                     "1",
                                                     "-subj",
                                                     "/CN=127.0.0.1",
                                                     "-keyout",
                                                     key.string(),
                                                     "-out",
                                                     cert.string()},
                                                    {},
                                                    {}});
  ASSERT_TRUE(made.ok() && made->exit_code == 0);
  serve("tls.txt", "over tls");
  int port = free_port();
  Server tls = start_server({"python3",
                             (servers_dir() / "http_fixture.py").string(),
                             "--port",
                             std::to_string(port),
                             "--root",
                             root().string(),
                             "--tls-cert",
                             cert.string(),
                             "--tls-key",
                             key.string()},
                            port);
  ASSERT_EQ(tls.failure, "");
  std::string source = fmt::format("https://127.0.0.1:{}/files/tls.txt", port);
  ModuleRun strict =
      download(Json::array({{{"source", source}, {"destination", work("strict").string()}}}));
  ASSERT_EQ(strict.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_EQ(strict.output.all().find("Attempt"), std::string::npos);  // not worth retrying
  ModuleRun relaxed = download(Json::array({{{"source", source},
                                             {"destination", work("relaxed").string()},
                                             {"ignoreCertificateErrors", true}}}));
  ASSERT_EQ(relaxed.outcome.kind, ActionOutcome::Kind::kSuccess) << relaxed.outcome.failure_message;
  EXPECT_EQ(read_text(work("relaxed")), "over tls");
}

// The fixture recomputes SigV4 with its own implementation: this proves the signature, which
// s3rver does not check.
using S3SigningTest = HttpFixtureTest;

S3Client signing_client(const std::string& endpoint, const std::string& secret) {
  S3Config config;
  config.endpoint = endpoint;
  config.access_key_id = "AKIDEXAMPLE";
  config.secret_access_key = secret;
  config.session_token = "SESSIONTOKEN";
  return S3Client(config);
}

TEST_F(S3SigningTest, RequestsCarryAValidSignature) {
  S3Client client = signing_client(url("/sigv4"), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  S3RequestOptions options;
  options.expected_bucket_owner = "123456789012";
  Result<uint64_t> got = client.get_object({"b", "dir/a b+c=d.txt"}, work("got"), options);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(read_text(work("got")), "signed-ok");
  ASSERT_TRUE(write_file(work("up"), "upload body").ok());
  Result<uint64_t> put = client.put_object({"b", "up/load.txt"}, work("up"), options);
  ASSERT_TRUE(put.ok()) << put.error().message;
  Result<S3Listing> listed = client.list_objects_v2("b", "dir/with space&amp", 10, options);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->objects.size(), 1u);
  EXPECT_EQ(listed->objects[0].key, "signed & listed.txt");
}

TEST_F(S3SigningTest, AWrongSecretIsRejectedAndNotRevealed) {
  S3Client client = signing_client(url("/sigv4"), "not-the-secret");
  Result<uint64_t> got = client.get_object({"b", "k"}, work("k"), {});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(got.error().message.find("HTTP 403 SignatureDoesNotMatch"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(got.error().message.find("not-the-secret"), std::string::npos);
  EXPECT_FALSE(fs::exists(work("k")));
}

// ---- s3rver: S3Download, S3Upload and the client -------------------------------------------

class S3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>(TempDir::create("kiln-s3-test-").value());
    fs::create_directories(dir_->path() / "data");
    server_ = std::make_unique<Server>(net::testing::start_s3rver(dir_->path() / "data"));
    start_failure_ = server_->failure;
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override {
    if (!start_failure_.empty()) {
      FAIL() << "the test server did not start: " << start_failure_;
    }
    Result<TempDir> work = TempDir::create("kiln-s3-work-");
    ASSERT_TRUE(work.ok());
    work_ = std::make_unique<TempDir>(std::move(*work));
    fs::create_directories(work_->path() / "home");
    // A bucket per test: tests share one server.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    bucket_ = "kiln-" + to_lower(info->name()).substr(0, 40);
    ASSERT_TRUE(client().create_bucket(bucket_, {}).ok());
  }

  std::map<std::string, std::string> env_vars() const {
    return {{"AWS_ENDPOINT_URL_S3", fmt::format("http://127.0.0.1:{}", server_->port)},
            {"AWS_ACCESS_KEY_ID", "S3RVER"},
            {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
            {"HOME", work("home").string()}};
  }
  S3Client client(int page_size = 1000) const {
    Result<S3Config> config = load_s3_config(fixed_env(env_vars()));
    EXPECT_TRUE(config.ok());
    config->list_page_size = page_size;
    return S3Client(*config);
  }
  fs::path work(std::string_view name) const { return work_->path() / name; }
  std::string uri(std::string_view key) const { return fmt::format("s3://{}/{}", bucket_, key); }

  void put(const std::string& key, const std::string& content) {
    fs::path source = work("put-source");
    ASSERT_TRUE(write_file(source, content).ok());
    Result<uint64_t> put = client().put_object({bucket_, key}, source, {});
    ASSERT_TRUE(put.ok()) << put.error().message;
  }
  std::vector<std::string> keys(const std::string& prefix = "") const {
    Result<S3Listing> listing = client().list_objects_v2(bucket_, prefix, 5000, {});
    EXPECT_TRUE(listing.ok()) << listing.error().message;
    std::vector<std::string> out;
    for (const S3Object& object : listing.ok() ? listing->objects : std::vector<S3Object>{}) {
      out.push_back(object.key);
    }
    return out;
  }
  ModuleRun run(ActionFn module, const Json& inputs) const {
    return run_module(module, inputs, fixed_env(env_vars()));
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<Server> server_;
  static inline std::string start_failure_;
  std::unique_ptr<TempDir> work_;
  std::string bucket_;
};

TEST_F(S3Test, ClientPutsAndGetsAnObject) {
  std::string content(3'000'000, 'k');  // over 1 MiB: curl sends Expect: 100-continue
  put("dir/big file+1.bin", content);
  Result<uint64_t> got = client().get_object({bucket_, "dir/big file+1.bin"}, work("got"), {});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, content.size());
  EXPECT_EQ(read_text(work("got")), content);
  Result<S3Object> head = client().head_object({bucket_, "dir/big file+1.bin"}, {});
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->size, content.size());
  EXPECT_TRUE(client().head_bucket(bucket_, {}).ok());
}

TEST_F(S3Test, ListingFollowsContinuationTokens) {
  for (const char* key : {"p/1", "p/2", "p/odd & key+plus.txt", "p/sub/3", "q/4"}) {
    put(key, key);
  }
  Result<S3Listing> listing = client(2).list_objects_v2(bucket_, "p/", 100, {});
  ASSERT_TRUE(listing.ok()) << listing.error().message;
  std::vector<std::string> found;
  for (const S3Object& object : listing->objects) {
    found.push_back(object.key);
  }
  EXPECT_EQ(found, (std::vector<std::string>{"p/1", "p/2", "p/odd & key+plus.txt", "p/sub/3"}));
  EXPECT_FALSE(listing->truncated);
  Result<S3Listing> limited = client(2).list_objects_v2(bucket_, "p/", 3, {});
  ASSERT_TRUE(limited.ok()) << limited.error().message;
  EXPECT_EQ(limited->objects.size(), 3u);
  EXPECT_TRUE(limited->truncated);
}

TEST_F(S3Test, DownloadsOneObjectToAFileOrIntoAFolder) {
  put("docs/readme.txt", "read me");
  fs::create_directories(work("folder"));
  ModuleRun done =
      run(&actions::s3_download,
          Json::array(
              {{{"source", uri("docs/readme.txt")}, {"destination", work("r.txt").string()}},
               {{"source", uri("docs/readme.txt")}, {"destination", work("folder/").string()}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kSuccess) << done.outcome.failure_message;
  EXPECT_EQ(read_text(work("r.txt")), "read me");
  EXPECT_EQ(read_text(work("folder/readme.txt")), "read me");
  EXPECT_NE(done.output.all().find("(7 bytes)"), std::string::npos) << done.output.all();
}

TEST_F(S3Test, DownloadsEveryObjectUnderAPrefix) {
  put("logs/a.txt", "a");
  put("logs/sub/b.txt", "b");
  put("logs/folder/", "");
  put("other/c.txt", "c");
  ModuleRun done =
      run(&actions::s3_download,
          Json::array({{{"source", uri("logs/*")}, {"destination", work("out").string()}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kSuccess) << done.outcome.failure_message;
  EXPECT_EQ(read_text(work("out/a.txt")), "a");
  EXPECT_EQ(read_text(work("out/sub/b.txt")), "b");
  EXPECT_EQ(names_in(work("out")), (std::vector<std::string>{"a.txt", "sub"}));
}

TEST_F(S3Test, OverwriteFalseRefusesWithAwsMessage) {
  put("x.txt", "new");
  ASSERT_TRUE(write_file(work("x.txt"), "old").ok());
  ModuleRun done = run(&actions::s3_download,
                       Json::array({{{"source", uri("x.txt")},
                                     {"destination", work("x.txt").string()},
                                     {"overwrite", false}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_EQ(done.outcome.failure_message,
            "Error: S3Download: File already exists and \"overwrite\" property for "
            "\"destination\" file is set to false. Cannot download.");
  EXPECT_EQ(read_text(work("x.txt")), "old");
}

TEST_F(S3Test, TheDestinationsParentMustExist) {
  put("y.txt", "y");
  ModuleRun done =
      run(&actions::s3_download,
          Json::array({{{"source", uri("y.txt")}, {"destination", work("no/y.txt").string()}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(done.outcome.failure_message.find("does not exist"), std::string::npos)
      << done.outcome.failure_message;
  EXPECT_FALSE(fs::exists(work("no")));
}

TEST_F(S3Test, AMissingBucketIsNamedInTheError) {
  ModuleRun done = run(&actions::s3_download,
                       Json::array({{{"source", "s3://kiln-no-such-bucket/a.txt"},
                                     {"destination", work("a.txt").string()}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kFailed);
  const std::string& message = done.outcome.failure_message;
  EXPECT_NE(message.find("s3://kiln-no-such-bucket/a.txt"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 404 NoSuchBucket"), std::string::npos) << message;
  EXPECT_EQ(message.find("S3RVER"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(work("a.txt")));
}

TEST_F(S3Test, UploadsATreeWithRecurse) {
  fs::create_directories(work("src/sub/deeper"));
  ASSERT_TRUE(write_file(work("src/a.txt"), "a").ok());
  ASSERT_TRUE(write_file(work("src/.hidden"), "h").ok());
  ASSERT_TRUE(write_file(work("src/sub/b.txt"), "b").ok());
  ASSERT_TRUE(write_file(work("src/sub/deeper/c.txt"), "c").ok());
  ModuleRun done = run(&actions::s3_upload,
                       Json::array({{{"source", work("src").string() + "/*"},
                                     {"destination", uri("up")},
                                     {"recurse", true}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kSuccess) << done.outcome.failure_message;
  EXPECT_EQ(
      keys("up/"),
      (std::vector<std::string>{"up/.hidden", "up/a.txt", "up/sub/b.txt", "up/sub/deeper/c.txt"}));
  Result<uint64_t> back = client().get_object({bucket_, "up/sub/deeper/c.txt"}, work("c"), {});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(read_text(work("c")), "c");
}

TEST_F(S3Test, UploadsOnlyTopLevelFilesWithoutRecurse) {
  fs::create_directories(work("src/sub"));
  ASSERT_TRUE(write_file(work("src/a.log"), "a").ok());
  ASSERT_TRUE(write_file(work("src/b.txt"), "b").ok());
  ASSERT_TRUE(write_file(work("src/sub/c.log"), "c").ok());
  ModuleRun done =
      run(&actions::s3_upload,
          Json::array({{{"source", work("src").string() + "/*"}, {"destination", uri("flat/")}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kSuccess) << done.outcome.failure_message;
  EXPECT_EQ(keys("flat/"), (std::vector<std::string>{"flat/a.log", "flat/b.txt"}));
}

TEST_F(S3Test, UploadsOneFileToAKeyOrUnderAPrefix) {
  ASSERT_TRUE(write_file(work("one.txt"), "1").ok());
  ModuleRun done = run(
      &actions::s3_upload,
      Json::array({{{"source", work("one.txt").string()}, {"destination", uri("exact/name.txt")}},
                   {{"source", work("one.txt").string()}, {"destination", uri("prefix/")}}}));
  ASSERT_EQ(done.outcome.kind, ActionOutcome::Kind::kSuccess) << done.outcome.failure_message;
  EXPECT_EQ(keys(), (std::vector<std::string>{"exact/name.txt", "prefix/one.txt"}));
}

TEST_F(S3Test, AFolderSourceNeedsRecurseAndNothingMatchedIsAnError) {
  fs::create_directories(work("dir"));
  ModuleRun folder =
      run(&actions::s3_upload,
          Json::array({{{"source", work("dir").string()}, {"destination", uri("d/")}}}));
  ASSERT_EQ(folder.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(folder.outcome.failure_message.find("recurse"), std::string::npos);
  ModuleRun none = run(
      &actions::s3_upload,
      Json::array({{{"source", work("dir").string() + "/*.none"}, {"destination", uri("d/")}}}));
  ASSERT_EQ(none.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(none.outcome.failure_message.find("no files match"), std::string::npos);
}

TEST_F(S3Test, ExpectedBucketOwnerMustBeAnAccountId) {
  put("o.txt", "o");
  ModuleRun bad = run(&actions::s3_download,
                      Json::array({{{"source", uri("o.txt")},
                                    {"destination", work("o.txt").string()},
                                    {"expectedBucketOwner", "me\r\nX: y"}}}));
  ASSERT_EQ(bad.outcome.kind, ActionOutcome::Kind::kFailed);
  EXPECT_NE(bad.outcome.failure_message.find("12-digit"), std::string::npos);
  ModuleRun good = run(&actions::s3_download,
                       Json::array({{{"source", uri("o.txt")},
                                     {"destination", work("o.txt").string()},
                                     {"expectedBucketOwner", "123456789012"}}}));
  EXPECT_EQ(good.outcome.kind, ActionOutcome::Kind::kSuccess) << good.outcome.failure_message;
}

}  // namespace
}  // namespace kiln::toe
