#include "kiln/api/server.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "kiln/base/file.hpp"

namespace kiln::api {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("KILN_ACCESS_KEY_ID");
    unsetenv("KILN_SECRET_ACCESS_KEY");
    Result<TempDir> dir = TempDir::create("kiln-api-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }
  void TearDown() override {
    unsetenv("KILN_ACCESS_KEY_ID");
    unsetenv("KILN_SECRET_ACCESS_KEY");
  }
  std::filesystem::path write(const std::string& text) {
    std::filesystem::path file = dir_->path() / "credentials";
    EXPECT_TRUE(write_file(file, text).ok());
    return file;
  }
  std::optional<TempDir> dir_;
};

TEST_F(CredentialsTest, ReadsEveryProfileOfAnIniFile) {
  auto file = write(
      "# kiln's keys\n"
      "[default]\n"
      "aws_access_key_id = AKIDONE\n"
      "aws_secret_access_key = secret/one+x\n"
      "region = local\n"
      "\n"
      "[ci]\n"
      "AWS_ACCESS_KEY_ID=AKIDTWO\n"
      "aws_secret_access_key=two\n");
  Result<std::map<std::string, std::string>> keys = load_credentials(file);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(*keys,
            (std::map<std::string, std::string>{{"AKIDONE", "secret/one+x"}, {"AKIDTWO", "two"}}));
}

TEST_F(CredentialsTest, EnvironmentAddsAKey) {
  setenv("KILN_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("KILN_SECRET_ACCESS_KEY", "env-secret", 1);
  Result<std::map<std::string, std::string>> keys = load_credentials(dir_->path() / "absent");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(*keys, (std::map<std::string, std::string>{{"AKIDENV", "env-secret"}}));
  EXPECT_TRUE(load_credentials("").ok());
}

TEST_F(CredentialsTest, RefusesHalfAKey) {
  EXPECT_FALSE(load_credentials(write("[a]\naws_access_key_id = AKID\n")).ok());
  EXPECT_FALSE(load_credentials(write("[a\naws_access_key_id = AKID\n")).ok());
  EXPECT_FALSE(load_credentials(write("[a]\njust words\n")).ok());
  setenv("KILN_ACCESS_KEY_ID", "AKIDENV", 1);
  EXPECT_FALSE(load_credentials("").ok());
}

TEST(ServerTest, BindsAnyPortAndStops) {
  struct NoBackend final : Backend {
    Result<std::string> create_image(const Json&) override { return std::string(); }
    Result<std::string> start_pipeline_execution(const std::string&) override {
      return std::string();
    }
    Status cancel_image(const std::string&) override { return ok_status(); }
    void pipelines_changed() override {}
    std::string metrics() override { return ""; }
  } backend;
  SystemClock clock;
  ServerOptions options;
  options.port = 0;
  Server server(
      options,
      []() -> Result<std::unique_ptr<state::Catalog>> {
        return make_error(ErrorCode::kUnavailable, "no catalog in this test");
      },
      backend,
      clock);
  ASSERT_TRUE(server.bind().ok());
  EXPECT_GT(server.port(), 0);
  // The same port again is taken.
  ServerOptions same = options;
  same.port = server.port();
  Server second(same, {}, backend, clock);
  Status taken = second.bind();
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kUnavailable);
  // TLS needs both files.
  ServerOptions half = options;
  half.tls_certificate = "/nonexistent/cert.pem";
  EXPECT_EQ(Server(half, {}, backend, clock).bind().error().code, ErrorCode::kInvalidArgument);

  std::thread serving([&] { EXPECT_TRUE(server.serve().ok()); });
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace kiln::api
