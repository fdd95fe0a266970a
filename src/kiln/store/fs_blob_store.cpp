#include "kiln/store/fs_blob_store.hpp"

namespace kiln::store {
namespace fs = std::filesystem;
namespace {

Error digest_mismatch(const Digest& expected, const Digest& actual) {
  return make_error(ErrorCode::kCorruption,
                    "blob {} is corrupt: its content hashes to {}",
                    expected.str(),
                    actual.str());
}

class FsBlobWriter final : public BlobWriter {
 public:
  FsBlobWriter(FsBlobStore& store, std::unique_ptr<WritableFile> file)
      : store_(store), temp_(file->path()), file_(std::move(file)) {}

  FsBlobWriter(const FsBlobWriter&) = delete;
  FsBlobWriter& operator=(const FsBlobWriter&) = delete;

  ~FsBlobWriter() override { discard(); }

  Status write(std::string_view data) override {
    if (!file_) {
      return make_error(ErrorCode::kInternal, "writing {} after commit", temp_.string());
    }
    hasher_.update(data);
    size_ += data.size();
    return file_->write(data);
  }

  Result<std::pair<Digest, uint64_t>> commit(const Digest& expected) override {
    Result<std::pair<Digest, uint64_t>> committed = commit_file(expected);
    discard();  // after a successful rename there is nothing left to remove
    return committed;
  }

 private:
  Result<std::pair<Digest, uint64_t>> commit_file(const Digest& expected) {
    if (!file_) {
      return make_error(ErrorCode::kInternal, "committing {} twice", temp_.string());
    }
    Filesystem& fs = store_.filesystem();
    // Synced before the rename, so the blob's name never points at data not yet on disk.
    KILN_TRY(file_->sync());
    std::unique_ptr<WritableFile> file = std::move(file_);
    KILN_TRY(file->close());
    Digest digest = hasher_.finish();
    if (!expected.empty() && expected != digest) {
      return digest_mismatch(expected, digest);
    }
    if (store_.has(digest)) {
      return std::pair{digest, size_};  // blobs are immutable: keep the copy already there
    }
    KILN_TRY(fs.rename(temp_, store_.path(digest)));
    renamed_ = true;
    KILN_TRY(fs.sync_dir(store_.blob_dir()));
    return std::pair{digest, size_};
  }

  // Removes the temporary file unless it became a blob (best effort: tmp/ is gc's to clean).
  void discard() {
    if (file_) {
      (void)file_->close();
      file_.reset();
    }
    if (!renamed_ && !temp_.empty()) {
      (void)store_.filesystem().remove(temp_);
    }
    temp_.clear();
  }

  FsBlobStore& store_;
  fs::path temp_;
  std::unique_ptr<WritableFile> file_;
  DigestHasher hasher_;
  uint64_t size_ = 0;
  bool renamed_ = false;
};

}  // namespace

FsBlobStore::FsBlobStore(Filesystem& fs, fs::path root) : fs_(fs), root_(std::move(root)) {}

Status FsBlobStore::create() {
  KILN_TRY(fs_.create_directories(blob_dir()));
  return fs_.create_directories(temp_dir());
}

bool FsBlobStore::has(const Digest& digest) const {
  Result<FileInfo> info = fs_.stat(path(digest));
  return info.ok() && !info->is_directory;
}

fs::path FsBlobStore::path(const Digest& digest) const {
  return blob_dir() / digest.hex();
}

Result<std::unique_ptr<BlobWriter>> FsBlobStore::writer() {
  std::unique_ptr<WritableFile> file = KILN_TRY(fs_.create_temp(temp_dir(), "blob."));
  return std::unique_ptr<BlobWriter>(std::make_unique<FsBlobWriter>(*this, std::move(file)));
}

Result<std::string> FsBlobStore::read(const Digest& digest) const {
  std::string content = KILN_TRY(read_whole_file(fs_, path(digest)));
  Digest actual = Digest::of(content);
  if (actual != digest) {
    return digest_mismatch(digest, actual);
  }
  return content;
}

Result<uint64_t> FsBlobStore::check(const Digest& digest) const {
  std::unique_ptr<ReadableFile> file = KILN_TRY(fs_.open(path(digest)));
  DigestHasher hasher;
  uint64_t size = 0;
  std::string buffer(1 << 20, '\0');
  for (;;) {
    size_t n = KILN_TRY(file->read(buffer.data(), buffer.size()));
    if (n == 0) {
      break;
    }
    hasher.update(std::string_view(buffer.data(), n));
    size += n;
  }
  Digest actual = hasher.finish();
  if (actual != digest) {
    return digest_mismatch(digest, actual);
  }
  return size;
}

Result<Digest> FsBlobStore::put(std::string_view data) {
  Digest digest = Digest::of(data);
  if (has(digest)) {
    return digest;  // written once, never rewritten
  }
  std::unique_ptr<BlobWriter> blob = KILN_TRY(writer());
  KILN_TRY(blob->write(data));
  auto [committed, size] = KILN_TRY(blob->commit(digest));
  return committed;
}

Status FsBlobStore::remove(const Digest& digest) {
  return fs_.remove(path(digest));
}

Result<std::vector<Digest>> FsBlobStore::list() const {
  std::vector<std::string> names = KILN_TRY(fs_.list(blob_dir()));
  std::vector<Digest> digests;
  for (const std::string& name : names) {
    Result<Digest> digest = Digest::parse("sha256:" + name);
    if (digest.ok()) {
      digests.push_back(std::move(digest).value());
    }
  }
  return digests;
}

}  // namespace kiln::store
