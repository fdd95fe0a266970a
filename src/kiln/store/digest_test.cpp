#include "kiln/store/digest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiln::store {
namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Digest, OfDataIsItsSha256) {
  EXPECT_EQ(Digest::of("").hex(), kEmptySha256);
  EXPECT_EQ(Digest::of("abc").str(), std::string("sha256:") + kAbcSha256);
}

TEST(Digest, ParsesWhatItFormats) {
  Result<Digest> parsed = Digest::parse(std::string("sha256:") + kAbcSha256);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, Digest::of("abc"));
  EXPECT_EQ(parsed->hex(), kAbcSha256);
  EXPECT_FALSE(parsed->empty());
  EXPECT_TRUE(Digest().empty());
}

TEST(Digest, RejectsAnythingButSha256WithLowerCaseHex) {
  std::string hex = kAbcSha256;
  std::string upper = hex;
  upper[0] = 'B';
  for (const std::string& text : {std::string(),
                                  hex,
                                  std::string("sha256:"),
                                  "sha256:" + hex.substr(1),
                                  "sha256:" + hex + "0",
                                  "sha256:" + upper,
                                  "sha256:" + hex.substr(1) + "g",
                                  "sha512:" + hex,
                                  "SHA256:" + hex,
                                  " sha256:" + hex}) {
    Result<Digest> parsed = Digest::parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Digest, OrdersByHex) {
  EXPECT_LT(Digest::from_hex("00"), Digest::from_hex("01"));
  EXPECT_NE(Digest::of("a"), Digest::of("b"));
}

TEST(DigestHasher, PiecesHashLikeTheWhole) {
  DigestHasher hasher;
  hasher.update("a");
  hasher.update("");
  hasher.update("bc");
  EXPECT_EQ(hasher.finish(), Digest::of("abc"));
}

TEST(DigestHasher, StartsAfreshAfterFinish) {
  DigestHasher hasher;
  hasher.update("junk");
  (void)hasher.finish();
  EXPECT_EQ(hasher.finish().hex(), kEmptySha256);
  hasher.update("abc");
  EXPECT_EQ(hasher.finish().hex(), kAbcSha256);
}

TEST(DigestHasher, HashesLargeInput) {
  std::string big(3 << 20, 'x');
  DigestHasher hasher;
  for (size_t i = 0; i < big.size(); i += 4096) {
    hasher.update(std::string_view(big).substr(i, 4096));
  }
  EXPECT_EQ(hasher.finish(), Digest::of(big));
}

}  // namespace
}  // namespace kiln::store
