#include "kiln/base/hash.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>

#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln {
namespace {

struct AlgorithmInfo {
  HashAlgorithm algorithm;
  std::string_view name;  // lower case
  const EVP_MD* (*evp)();
  size_t hex_length;
};

constexpr AlgorithmInfo kAlgorithms[] = {
    {HashAlgorithm::kMd5, "md5", EVP_md5, 32},
    {HashAlgorithm::kSha1, "sha1", EVP_sha1, 40},
    {HashAlgorithm::kSha256, "sha256", EVP_sha256, 64},
    {HashAlgorithm::kSha512, "sha512", EVP_sha512, 128},
};

const AlgorithmInfo& info(HashAlgorithm algorithm) {
  for (const AlgorithmInfo& row : kAlgorithms) {
    if (row.algorithm == algorithm) {
      return row;
    }
  }
  return kAlgorithms[2];  // not reached: every enumerator has a row
}

Error digest_failed() {
  return make_error(ErrorCode::kInternal, "computing a digest failed");
}

}  // namespace

std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  std::string lower = to_lower(name);
  for (const AlgorithmInfo& row : kAlgorithms) {
    if (row.name == lower) {
      return row.algorithm;
    }
  }
  return std::nullopt;
}

size_t hex_digest_length(HashAlgorithm algorithm) {
  return info(algorithm).hex_length;
}

void Hasher::Free::operator()(EVP_MD_CTX* ctx) const {
  EVP_MD_CTX_free(ctx);
}

Result<Hasher> Hasher::create(HashAlgorithm algorithm) {
  std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), info(algorithm).evp(), nullptr) != 1) {
    return digest_failed();
  }
  return Hasher(std::move(ctx));
}

void Hasher::update(std::string_view data) {
  ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1;
}

Result<std::string> Hasher::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1) {
    return digest_failed();
  }
  ok_ = false;  // finished: a second call fails instead of reading a spent context
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string hash_hex(HashAlgorithm algorithm, std::string_view data) {
  Result<Hasher> hasher = Hasher::create(algorithm);
  if (!hasher.ok()) {
    return "";
  }
  hasher->update(data);
  return hasher->hex_digest().value_or("");
}

Result<std::string> hash_file_hex(HashAlgorithm algorithm, const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", path.string()));
  }
  Hasher hasher = KILN_TRY(Hasher::create(algorithm));
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
    hasher.update(std::string_view(buf, static_cast<size_t>(n)));
  }
  return hasher.hex_digest();
}

}  // namespace kiln
