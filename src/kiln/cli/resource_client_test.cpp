// The pure parts of the resource client: a daemon's error responses as errors, and the settings
// $KILN_ENDPOINT and the keys make.

#include "kiln/cli/resource_client.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace kiln::cli {
namespace {

TEST(ErrorFromResponseTest, TheExceptionNameComesFromTheHeader) {
  Error e =
      error_from_response(404, "ResourceNotFoundException", R"({"message": "no component x"})");
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.message, "ResourceNotFoundException: no component x");
  // AWS may add ":http://internal.amazon.com/..." to the header.
  e = error_from_response(403, "InvalidSignatureException:http://x", R"({"Message": "bad"})");
  EXPECT_EQ(e.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(e.message, "InvalidSignatureException: bad");
}

TEST(ErrorFromResponseTest, WithoutAHeaderTheBodyOrTheStatus) {
  Error e = error_from_response(
      400, "", R"({"__type": "aws.protocols#SerializationException", "message": "m"})");
  EXPECT_EQ(e.message, "SerializationException: m");
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  e = error_from_response(502, "", "Bad Gateway");
  EXPECT_EQ(e.message, "HTTP 502: Bad Gateway");
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
}

class RemoteSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"KILN_ENDPOINT",
                             "KILN_REGION",
                             "KILN_ACCESS_KEY_ID",
                             "KILN_SECRET_ACCESS_KEY",
                             "AWS_ACCESS_KEY_ID",
                             "AWS_SECRET_ACCESS_KEY"}) {
      ::unsetenv(name);
    }
  }
  void TearDown() override { SetUp(); }
};

TEST_F(RemoteSettingsTest, NoEndpointIsEmbedded) {
  Result<std::optional<RemoteSettings>> settings = remote_settings_from_environment();
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  EXPECT_FALSE(settings->has_value());
}

TEST_F(RemoteSettingsTest, KilnKeysWinOverAwsKeys) {
  ::setenv("KILN_ENDPOINT", "http://127.0.0.1:8088/", 1);
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDAWS", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "aws-secret", 1);
  Result<std::optional<RemoteSettings>> settings = remote_settings_from_environment();
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  ASSERT_TRUE(settings->has_value());
  EXPECT_EQ((*settings)->endpoint, "http://127.0.0.1:8088");
  EXPECT_EQ((*settings)->region, "local");
  EXPECT_EQ((*settings)->access_key_id, "AKIDAWS");

  ::setenv("KILN_ACCESS_KEY_ID", "AKIDKILN", 1);
  ::setenv("KILN_SECRET_ACCESS_KEY", "kiln-secret", 1);
  ::setenv("KILN_REGION", "eu-west-1", 1);
  settings = remote_settings_from_environment();
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ((*settings)->access_key_id, "AKIDKILN");
  EXPECT_EQ((*settings)->secret_access_key, "kiln-secret");
  EXPECT_EQ((*settings)->region, "eu-west-1");
}

TEST_F(RemoteSettingsTest, BadEndpointsAndMissingKeysAreRefused) {
  ::setenv("KILN_ENDPOINT", "127.0.0.1:8088", 1);
  ::setenv("KILN_ACCESS_KEY_ID", "AKIDKILN", 1);
  ::setenv("KILN_SECRET_ACCESS_KEY", "kiln-secret", 1);
  Result<std::optional<RemoteSettings>> settings = remote_settings_from_environment();
  ASSERT_FALSE(settings.ok());
  EXPECT_NE(settings.error().message.find("http://"), std::string::npos);

  ::setenv("KILN_ENDPOINT", "https://kiln.example:8443", 1);
  ::unsetenv("KILN_SECRET_ACCESS_KEY");
  settings = remote_settings_from_environment();
  ASSERT_FALSE(settings.ok());
  EXPECT_NE(settings.error().message.find("KILN_SECRET_ACCESS_KEY"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
