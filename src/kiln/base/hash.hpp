#pragma once

// Message digests (OpenSSL): one-shot over a string or a file, or streaming through a Hasher.
// Digests are lower-case hex. Nothing here throws; every object is for one thread at a time.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace kiln {

enum class HashAlgorithm { kMd5, kSha1, kSha256, kSha512 };

// Parses "MD5", "sha256", ... (case-insensitive).
std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name);

// The length of the algorithm's hex digest: 32, 40, 64 or 128.
size_t hex_digest_length(HashAlgorithm algorithm);

// A digest computed while data streams past: create, update any number of times, then
// hex_digest once. Move-only; owns its OpenSSL context.
class Hasher {
 public:
  // Fails (kInternal) when OpenSSL cannot provide the algorithm (MD5 in FIPS mode, say).
  static Result<Hasher> create(HashAlgorithm algorithm);

  Hasher(Hasher&&) noexcept = default;
  Hasher& operator=(Hasher&&) noexcept = default;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher() = default;

  void update(std::string_view data);
  // The digest of everything given to update. Finishes the Hasher: call it once. Fails
  // (kInternal) if OpenSSL failed in any update.
  Result<std::string> hex_digest();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  explicit Hasher(std::unique_ptr<evp_md_ctx_st, Free> ctx) : ctx_(std::move(ctx)) {}

  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
  bool ok_ = true;
};

// Digest of `data`; "" if OpenSSL cannot compute it (see Hasher::create).
std::string hash_hex(HashAlgorithm algorithm, std::string_view data);

// Digest of a file's content, read in chunks.
Result<std::string> hash_file_hex(HashAlgorithm algorithm, const std::filesystem::path& path);

}  // namespace kiln
