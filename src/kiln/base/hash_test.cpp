#include "kiln/base/hash.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "kiln/base/file.hpp"

namespace kiln {
namespace {

struct Vector {
  HashAlgorithm algorithm;
  const char* data;
  const char* hex;
};

// FIPS 180 / RFC 1321 test vectors.
constexpr Vector kVectors[] = {
    {HashAlgorithm::kMd5, "", "d41d8cd98f00b204e9800998ecf8427e"},
    {HashAlgorithm::kMd5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {HashAlgorithm::kSha1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {HashAlgorithm::kSha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {HashAlgorithm::kSha256,
     "",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {HashAlgorithm::kSha256,
     "abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {HashAlgorithm::kSha512,
     "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {HashAlgorithm::kSha512,
     "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
};

class HashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-hash-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
  }
  std::optional<TempDir> dir_;
};

TEST(HashHexTest, KnownVectors) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(hash_hex(v.algorithm, v.data), v.hex) << "data '" << v.data << "'";
  }
}

TEST(HashHexTest, HashesBinaryDataWithNuls) {
  std::string with_nul("a\0b", 3);
  EXPECT_NE(hash_hex(HashAlgorithm::kSha256, with_nul), hash_hex(HashAlgorithm::kSha256, "a"));
}

TEST_F(HashTest, FileHashMatchesTheKnownVectors) {
  for (const Vector& v : kVectors) {
    std::filesystem::path file = dir_->path() / "data";
    ASSERT_TRUE(write_file(file, v.data).ok());
    Result<std::string> hex = hash_file_hex(v.algorithm, file);
    ASSERT_TRUE(hex.ok()) << hex.error().message;
    EXPECT_EQ(*hex, v.hex) << "data '" << v.data << "'";
  }
}

TEST_F(HashTest, FileHashReadsManyChunks) {
  std::string big(100000, 'k');  // larger than one 64 KiB read
  std::filesystem::path file = dir_->path() / "big";
  ASSERT_TRUE(write_file(file, big).ok());
  Result<std::string> hex = hash_file_hex(HashAlgorithm::kSha256, file);
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(*hex, "4ef7c286aaa51dc8b8078d2282f100a232c7d1b64e2b387979216c9932d175a3");
  EXPECT_EQ(*hex, hash_hex(HashAlgorithm::kSha256, big));
}

TEST_F(HashTest, FileHashOfAMissingFileIsNotFoundAndNamesIt) {
  std::filesystem::path file = dir_->path() / "missing";
  Result<std::string> hex = hash_file_hex(HashAlgorithm::kMd5, file);
  ASSERT_FALSE(hex.ok());
  EXPECT_EQ(hex.error().code, ErrorCode::kNotFound);
  EXPECT_NE(hex.error().message.find(file.string()), std::string::npos) << hex.error().message;
}

TEST(HasherTest, StreamingMatchesTheKnownVectors) {
  for (const Vector& v : kVectors) {
    Result<Hasher> hasher = Hasher::create(v.algorithm);
    ASSERT_TRUE(hasher.ok()) << hasher.error().message;
    hasher->update(v.data);
    Result<std::string> hex = hasher->hex_digest();
    ASSERT_TRUE(hex.ok()) << hex.error().message;
    EXPECT_EQ(*hex, v.hex) << "data '" << v.data << "'";
  }
}

TEST(HasherTest, ChunksMakeNoDifference) {
  std::string text = "the quick brown fox jumps over the lazy dog";
  Result<Hasher> hasher = Hasher::create(HashAlgorithm::kSha512);
  ASSERT_TRUE(hasher.ok());
  for (size_t i = 0; i < text.size(); i += 5) {
    hasher->update(std::string_view(text).substr(i, 5));
  }
  hasher->update("");
  Result<std::string> hex = hasher->hex_digest();
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(*hex, hash_hex(HashAlgorithm::kSha512, text));
}

TEST(HasherTest, IsMovable) {
  Result<Hasher> created = Hasher::create(HashAlgorithm::kSha1);
  ASSERT_TRUE(created.ok());
  created->update("a");
  Hasher moved = std::move(created).value();
  moved.update("bc");
  Result<std::string> hex = moved.hex_digest();
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(*hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(HasherTest, ASecondDigestIsAnError) {
  Result<Hasher> hasher = Hasher::create(HashAlgorithm::kMd5);
  ASSERT_TRUE(hasher.ok());
  ASSERT_TRUE(hasher->hex_digest().ok());
  Result<std::string> again = hasher->hex_digest();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kInternal);
}

TEST(HexDigestLengthTest, MatchesTheDigests) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(hex_digest_length(v.algorithm), std::string_view(v.hex).size());
  }
}

TEST(ParseHashAlgorithmTest, AcceptsTheFourNamesInAnyCase) {
  EXPECT_EQ(parse_hash_algorithm("MD5"), HashAlgorithm::kMd5);
  EXPECT_EQ(parse_hash_algorithm("md5"), HashAlgorithm::kMd5);
  EXPECT_EQ(parse_hash_algorithm("SHA1"), HashAlgorithm::kSha1);
  EXPECT_EQ(parse_hash_algorithm("Sha256"), HashAlgorithm::kSha256);
  EXPECT_EQ(parse_hash_algorithm("sha512"), HashAlgorithm::kSha512);
}

TEST(ParseHashAlgorithmTest, RejectsOtherNames) {
  EXPECT_EQ(parse_hash_algorithm(""), std::nullopt);
  EXPECT_EQ(parse_hash_algorithm("sha-256"), std::nullopt);
  EXPECT_EQ(parse_hash_algorithm("sha384"), std::nullopt);
  EXPECT_EQ(parse_hash_algorithm(" md5"), std::nullopt);
}

}  // namespace
}  // namespace kiln
