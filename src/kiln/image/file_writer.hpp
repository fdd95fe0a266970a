#pragma once

// A BlobWriter that writes to a chosen file instead of the store, so the layer writer can
// produce a plain tarball (kiln image export --format rootfs-tar) through the same code.

#include <filesystem>
#include <memory>

#include "kiln/base/file.hpp"
#include "kiln/base/hash.hpp"
#include "kiln/store/blob_store.hpp"

namespace kiln::image {

class FileWriter final : public store::BlobWriter {
 public:
  // Content goes to a temporary file beside `target`; commit() renames it into place.
  static Result<std::unique_ptr<FileWriter>> create(const std::filesystem::path& target);

  Status write(std::string_view data) override;
  Result<std::pair<store::Digest, uint64_t>> commit(const store::Digest& expected = {}) override;

 private:
  FileWriter(AtomicFile file, Hasher hasher) : file_(std::move(file)), hasher_(std::move(hasher)) {}
  AtomicFile file_;
  Hasher hasher_;
  uint64_t size_ = 0;
};

}  // namespace kiln::image
