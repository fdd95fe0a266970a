#pragma once

// A content digest, "sha256:<64 lower-case hex digits>", the name of every blob in the store.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/hash.hpp"
#include "kiln/base/result.hpp"

namespace kiln::store {

class Digest {
 public:
  Digest() = default;
  // Parses "sha256:<hex>"; only sha256 is accepted.
  static Result<Digest> parse(std::string_view text);
  // The sha256 digest of `data`.
  static Digest of(std::string_view data);
  static Digest from_hex(std::string hex) { return Digest(std::move(hex)); }

  const std::string& hex() const { return hex_; }
  std::string str() const { return "sha256:" + hex_; }
  bool empty() const { return hex_.empty(); }
  bool operator==(const Digest& other) const = default;
  bool operator<(const Digest& other) const { return hex_ < other.hex_; }

 private:
  explicit Digest(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

// Computes a Digest over data given in pieces (a blob being written, a file being read).
class DigestHasher {
 public:
  DigestHasher();
  void update(std::string_view data) { hasher_.update(data); }
  // The digest of everything given to update(); the hasher starts afresh afterwards.
  Digest finish();

 private:
  Hasher hasher_;  // kiln's streaming SHA-256 (base/hash.hpp)
};

}  // namespace kiln::store
