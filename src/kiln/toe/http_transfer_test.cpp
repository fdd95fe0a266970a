#include "kiln/toe/http_transfer.hpp"

#include <gtest/gtest.h>

// http_perform itself is tested against a real server in actions_net_test.cpp.

namespace kiln::toe {
namespace {

TEST(RedactUrl, DropsUserInfoQueryAndFragment) {
  EXPECT_EQ(redact_url("https://user:pw@example.com/a/b?X-Amz-Signature=s#f"),
            "https://example.com/a/b");
  EXPECT_EQ(redact_url("http://example.com"), "http://example.com");
  EXPECT_EQ(redact_url("http://example.com/p@q"), "http://example.com/p@q");
}

TEST(UriEncode, KeepsUnreservedAndOptionallySlashes) {
  EXPECT_EQ(uri_encode("a b/c+d~e", true), "a%20b/c%2Bd~e");
  EXPECT_EQ(uri_encode("a/b=", false), "a%2Fb%3D");
}

}  // namespace
}  // namespace kiln::toe
