#pragma once

// BlobStore on a folder (an OCI image layout): blobs in <root>/blobs/sha256/<hex>, written to
// <root>/tmp/blob.<random> first (docs/formats/store.md, "Crash safety"):
//   write + hash as data arrives, fsync, close, compare with the expected digest, rename to
//   blobs/sha256/<hex>, fsync blobs/sha256.
// A crash at any step leaves at most a file in tmp/, which gc removes.

#include <filesystem>
#include <memory>

#include "kiln/store/blob_store.hpp"
#include "kiln/store/filesystem.hpp"

namespace kiln::store {

class FsBlobStore final : public BlobStore {
 public:
  // `fs` must outlive the store and its writers. Does not touch the disk; see create().
  FsBlobStore(Filesystem& fs, std::filesystem::path root);

  // Creates blobs/sha256 and tmp if missing.
  Status create();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path blob_dir() const { return root_ / "blobs" / "sha256"; }
  std::filesystem::path temp_dir() const { return root_ / "tmp"; }
  Filesystem& filesystem() const { return fs_; }

  bool has(const Digest& digest) const override;
  std::filesystem::path path(const Digest& digest) const override;
  Result<std::unique_ptr<BlobWriter>> writer() override;
  Result<std::string> read(const Digest& digest) const override;
  Result<uint64_t> check(const Digest& digest) const override;
  Result<Digest> put(std::string_view data) override;
  Status remove(const Digest& digest) override;
  Result<std::vector<Digest>> list() const override;

 private:
  Filesystem& fs_;
  std::filesystem::path root_;
};

}  // namespace kiln::store
