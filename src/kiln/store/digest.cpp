#include "kiln/store/digest.hpp"

#include <openssl/evp.h>

#include "kiln/base/hash.hpp"

namespace kiln::store {
namespace {

constexpr std::string_view kPrefix = "sha256:";
constexpr size_t kHexLength = 64;

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

EVP_MD_CTX* ctx(void* p) {
  return static_cast<EVP_MD_CTX*>(p);
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

void DigestHasher::ContextFree::operator()(void* context) const {
  EVP_MD_CTX_free(ctx(context));
}

DigestHasher::DigestHasher() : context_(EVP_MD_CTX_new()) {
  KILN_ASSERT(context_ != nullptr);
  EVP_DigestInit_ex(ctx(context_.get()), EVP_sha256(), nullptr);
}

void DigestHasher::update(std::string_view data) {
  EVP_DigestUpdate(ctx(context_.get()), data.data(), data.size());
}

Digest DigestHasher::finish() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx(context_.get()), raw, &length);
  EVP_DigestInit_ex(ctx(context_.get()), EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[raw[i] >> 4]);
    hex.push_back(kHex[raw[i] & 0xf]);
  }
  return Digest::from_hex(std::move(hex));
}

}  // namespace kiln::store
