#include "kiln/image/file_writer.hpp"

namespace kiln::image {

Result<std::unique_ptr<FileWriter>> FileWriter::create(const std::filesystem::path& target) {
  AtomicFile file = KILN_TRY(AtomicFile::open(target, 0644));
  Hasher hasher = KILN_TRY(Hasher::create(HashAlgorithm::kSha256));
  return std::unique_ptr<FileWriter>(new FileWriter(std::move(file), std::move(hasher)));
}

Status FileWriter::write(std::string_view data) {
  hasher_.update(data);
  size_ += data.size();
  return file_.write(data);
}

Result<std::pair<store::Digest, uint64_t>> FileWriter::commit(const store::Digest& expected) {
  store::Digest digest = store::Digest::from_hex(KILN_TRY(hasher_.hex_digest()));
  if (!expected.empty() && !(expected == digest)) {
    return make_error(
        ErrorCode::kCorruption, "content is {}, expected {}", digest.str(), expected.str());
  }
  KILN_TRY(file_.commit());
  return std::pair(digest, size_);
}

}  // namespace kiln::image
