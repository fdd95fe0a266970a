#include "kiln/store/digest.hpp"

#include <utility>

#include "kiln/base/hash.hpp"

namespace kiln::store {
namespace {

constexpr std::string_view kPrefix = "sha256:";
constexpr size_t kHexLength = 64;

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  std::string_view hex = text.substr(text.starts_with(kPrefix) ? kPrefix.size() : 0);
  bool ok = text.starts_with(kPrefix) && hex.size() == kHexLength;
  for (size_t i = 0; ok && i < hex.size(); ++i) {
    ok = is_lower_hex(hex[i]);
  }
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid digest \"{}\": expected sha256:<64 lower-case hex digits>",
                      text);
  }
  return Digest(std::string(hex));
}

Digest Digest::of(std::string_view data) {
  return Digest(hash_hex(HashAlgorithm::kSha256, data));
}

namespace {

Hasher new_sha256() {
  Result<Hasher> hasher = Hasher::create(HashAlgorithm::kSha256);
  KILN_ASSERT(hasher.ok());  // SHA-256 is always there; without it nothing in kiln works
  return std::move(*hasher);
}

}  // namespace

DigestHasher::DigestHasher() : hasher_(new_sha256()) {}

Digest DigestHasher::finish() {
  Result<std::string> hex = std::exchange(hasher_, new_sha256()).hex_digest();
  KILN_ASSERT(hex.ok());
  return Digest::from_hex(std::move(*hex));
}

}  // namespace kiln::store
