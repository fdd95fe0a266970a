#include "kiln/base/hash.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln {
namespace {

const EVP_MD* evp(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kMd5:
      return EVP_md5();
    case HashAlgorithm::kSha1:
      return EVP_sha1();
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string finish_hex(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  std::string n = to_lower(name);
  if (n == "md5") {
    return HashAlgorithm::kMd5;
  }
  if (n == "sha1") {
    return HashAlgorithm::kSha1;
  }
  if (n == "sha256") {
    return HashAlgorithm::kSha256;
  }
  if (n == "sha512") {
    return HashAlgorithm::kSha512;
  }
  return std::nullopt;
}

std::string hash_hex(HashAlgorithm algorithm, std::string_view data) {
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), evp(algorithm), nullptr);
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return finish_hex(ctx.get());
}

Result<std::string> hash_file_hex(HashAlgorithm algorithm, const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", path.string()));
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), evp(algorithm), nullptr);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, fmt::format("reading {}", path.string()));
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(n));
  }
  return finish_hex(ctx.get());
}

}  // namespace kiln
