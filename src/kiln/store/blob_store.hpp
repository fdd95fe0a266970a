#pragma once

// The content-addressed part of the store: blobs under <store>/blobs/sha256/<hex>, written
// crash-safely (docs/formats/store.md): to <store>/tmp, fsync, digest check, rename, fsync dir.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/store/digest.hpp"

namespace kiln::store {

// A blob being written: append data, then commit() under the digest it must have. Not
// thread-safe; one writer per thread (several writers may run at once on one store).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Status write(std::string_view data) = 0;
  // Verifies the data hashes to `expected` (when not empty), then moves it into place. Returns the
  // digest and size. Without commit() the temporary file is removed. A blob already in the store
  // is kept as it is (the new copy is dropped). A mismatch is kCorruption and leaves nothing.
  virtual Result<std::pair<Digest, uint64_t>> commit(const Digest& expected = {}) = 0;
};

// Thread-safe: any number of threads and processes may use one store at once.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual bool has(const Digest& digest) const = 0;
  virtual std::filesystem::path path(const Digest& digest) const = 0;
  virtual Result<std::unique_ptr<BlobWriter>> writer() = 0;
  // A whole blob, checked against its digest (kCorruption if it does not match). Meant for small
  // blobs (manifests, configs); read layers from path().
  virtual Result<std::string> read(const Digest& digest) const = 0;
  // Hashes a blob's content without holding it in memory: its size when the content matches the
  // digest, kCorruption when it does not, kNotFound when there is no such blob.
  virtual Result<uint64_t> check(const Digest& digest) const = 0;
  // Writes a whole blob (a manifest, a config) and returns its digest.
  virtual Result<Digest> put(std::string_view data) = 0;
  virtual Status remove(const Digest& digest) = 0;
  // Every blob present (files whose name is not a sha256 hex digest are left out).
  virtual Result<std::vector<Digest>> list() const = 0;
};

}  // namespace kiln::store
