#include "kiln/toe/aws_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "kiln/base/file.hpp"

namespace kiln::toe {
namespace {
namespace fs = std::filesystem;

class S3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-s3config-");
    ASSERT_TRUE(dir.ok());
    home_ = std::make_unique<TempDir>(std::move(*dir));
    fs::create_directories(home_->path() / ".aws");
  }
  void write_aws(const std::string& name, const std::string& text) {
    ASSERT_TRUE(write_file(home_->path() / ".aws" / name, text).ok());
  }
  std::map<std::string, std::string> env() const { return {{"HOME", home_->path().string()}}; }
  std::unique_ptr<TempDir> home_;
};

TEST_F(S3ConfigTest, ReadsTheEnvironment) {
  auto vars = env();
  vars["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9000";
  vars["AWS_ENDPOINT_URL"] = "http://ignored:1";
  vars["AWS_DEFAULT_REGION"] = "eu-west-1";
  vars["AWS_ACCESS_KEY_ID"] = "AKID";
  vars["AWS_SECRET_ACCESS_KEY"] = "SECRET";
  vars["AWS_SESSION_TOKEN"] = "TOKEN";
  Result<S3Config> config = load_s3_config(fixed_env(vars));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(config->region, "eu-west-1");
  EXPECT_EQ(config->access_key_id, "AKID");
  EXPECT_EQ(config->secret_access_key, "SECRET");
  EXPECT_EQ(config->session_token, "TOKEN");
}

TEST_F(S3ConfigTest, DefaultsToUsEast1AndUnsignedRequests) {
  Result<S3Config> config = load_s3_config(fixed_env(env()));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->region, "us-east-1");
  EXPECT_EQ(config->endpoint, "");
  EXPECT_EQ(config->access_key_id, "");
}

TEST_F(S3ConfigTest, ReadsTheNamedProfileFromSharedFiles) {
  write_aws("credentials",
            "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = x\n"
            "[build]\n# a comment\naws_access_key_id = BUILDKEY\n"
            "aws_secret_access_key = BUILDSECRET\n");
  write_aws("config",
            "[default]\nregion = us-west-2\n"
            "[profile build]\nregion = ap-south-1\nservices = local\n"
            "[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:4568\n");
  auto vars = env();
  vars["AWS_PROFILE"] = "build";
  Result<S3Config> config = load_s3_config(fixed_env(vars));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->access_key_id, "BUILDKEY");
  EXPECT_EQ(config->secret_access_key, "BUILDSECRET");
  EXPECT_EQ(config->region, "ap-south-1");
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:4568");
}

TEST_F(S3ConfigTest, EnvironmentWinsOverFilesAndFileVariablesAreHonoured) {
  fs::path elsewhere = home_->path() / "elsewhere";
  ASSERT_TRUE(write_file(elsewhere,
                         "[default]\naws_access_key_id = FILEKEY\n"
                         "aws_secret_access_key = FILESECRET\nendpoint_url = http://file:1\n")
                  .ok());
  auto vars = env();
  vars["AWS_SHARED_CREDENTIALS_FILE"] = elsewhere.string();
  vars["AWS_CONFIG_FILE"] = elsewhere.string();
  Result<S3Config> from_files = load_s3_config(fixed_env(vars));
  ASSERT_TRUE(from_files.ok()) << from_files.error().message;
  EXPECT_EQ(from_files->access_key_id, "FILEKEY");
  EXPECT_EQ(from_files->endpoint, "http://file:1");
  vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  vars["AWS_SECRET_ACCESS_KEY"] = "ENVSECRET";
  vars["AWS_ENDPOINT_URL"] = "http://env:2";
  Result<S3Config> from_env = load_s3_config(fixed_env(vars));
  ASSERT_TRUE(from_env.ok()) << from_env.error().message;
  EXPECT_EQ(from_env->access_key_id, "ENVKEY");
  EXPECT_EQ(from_env->endpoint, "http://env:2");
}

TEST_F(S3ConfigTest, RejectsMissingProfilePartialKeysAndUnsupportedProviders) {
  auto vars = env();
  vars["AWS_PROFILE"] = "nope";
  EXPECT_EQ(load_s3_config(fixed_env(vars)).error().code, ErrorCode::kNotFound);

  vars = env();
  vars["AWS_ACCESS_KEY_ID"] = "AKID";
  Result<S3Config> partial = load_s3_config(fixed_env(vars));
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().message.find("secret access key"), std::string::npos);

  write_aws("config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/x\n");
  Result<S3Config> role = load_s3_config(fixed_env(env()));
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.error().message.find("role_arn"), std::string::npos);
}

}  // namespace
}  // namespace kiln::toe
