// libFuzzer harness for unpacking untrusted layer tarballs (store/layer_reader.cpp): arbitrary
// bytes as a layer blob, unpacked into a fresh directory with a sibling directory beside it, as
// an image publisher's archive would be. Checks that unpack_layer never crashes or throws, that
// nothing appears or changes outside the target (the sibling and its file stay as they were, the
// parent holds nothing new), that no device or socket is created when devices are not allowed,
// and that an accepted archive keeps within the entry and byte limits. Also feeds the bytes, as
// one entry name, to clean_entry_path: an accepted name is relative, without "." or ".."
// components or empty ones.
//
// Build and run: see fuzz/README.md.
//   ./layer_fuzz -max_total_time=60 fuzz/corpus/layer

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include "kiln/base/file.hpp"
#include "kiln/store/layer.hpp"
#include "kiln/store/tar_path.hpp"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSiblingText = "the host's file\n";
constexpr uint64_t kMaxBytes = 4 << 20;
constexpr uint64_t kMaxEntries = 512;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "layer_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// One scratch folder per process, on tmpfs when there is one (the harness writes a lot).
const fs::path& scratch() {
  static const kiln::TempDir dir = [] {
    fs::path parent = access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::path();
    auto made = kiln::TempDir::create("kiln-layer-fuzz-", parent);
    if (!made.ok()) {
      fail("cannot make a scratch folder", made.error().message);
    }
    return std::move(made).value();
  }();
  return dir.path();
}

// Removes `dir` whatever modes the archive gave its content.
void remove_tree(const fs::path& dir) {
  std::error_code ec;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      ::chmod(it->path().c_str(), 0700);
    }
  }
  ::chmod(dir.c_str(), 0700);
  fs::remove_all(dir, ec);
  if (ec || fs::exists(dir)) {
    fail("cannot remove the unpacked tree", dir.string() + ": " + ec.message());
  }
}

void check_entry_name(std::string_view name) {
  kiln::Result<std::string> cleaned = kiln::store::clean_entry_path(name);
  if (!cleaned.ok()) {
    return;
  }
  const std::string& path = *cleaned;
  if (!path.empty() && (path.front() == '/' || path.back() == '/')) {
    fail("clean_entry_path kept a leading or trailing slash", path);
  }
  size_t start = 0;
  while (!path.empty() && start <= path.size()) {
    size_t end = path.find('/', start);
    std::string_view part =
        std::string_view(path).substr(start, end == std::string::npos ? end : end - start);
    if (part.empty() || part == "." || part == "..") {
      fail("clean_entry_path accepted an empty, . or .. component", path);
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (size <= 4096) {
    check_entry_name(bytes);
  }

  const fs::path& base = scratch();
  fs::path blob = base / "blob";
  fs::path target = base / "target";
  fs::path sibling = base / "sibling";
  {
    std::ofstream out(blob, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      fail("cannot write the blob", blob.string());
    }
  }
  if (!fs::exists(sibling)) {
    fs::create_directory(sibling);
    std::ofstream(sibling / "keep") << kSiblingText;
  }
  fs::create_directory(target);

  kiln::store::UnpackOptions options;
  options.allow_devices = false;
  options.max_total_bytes = kMaxBytes;
  options.max_entries = kMaxEntries;
  kiln::Result<kiln::store::UnpackStats> stats =
      kiln::store::unpack_layer(blob, "", target, options);
  if (stats.ok() && (stats->entries > kMaxEntries || stats->bytes > kMaxBytes)) {
    fail("an accepted archive went past the limits", std::to_string(stats->entries));
  }
  if (!stats.ok() && stats.error().message.empty()) {
    fail("a refusal without a message", "");
  }

  // Nothing outside the target.
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(base)) {
    names.insert(entry.path().filename().string());
  }
  if (names != std::set<std::string>{"blob", "sibling", "target"}) {
    fail("something was created beside the target", base.string());
  }
  std::set<std::string> sibling_names;
  for (const fs::directory_entry& entry : fs::directory_iterator(sibling)) {
    sibling_names.insert(entry.path().filename().string());
  }
  std::string kept = kiln::read_file(sibling / "keep").value_or("");
  if (sibling_names != std::set<std::string>{"keep"} || kept != kSiblingText ||
      fs::is_symlink(sibling / "keep")) {
    fail("the directory beside the target changed", sibling.string());
  }
  // No device or socket when devices are not allowed.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(target, ec);
       !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 &&
        (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))) {
      fail("a device or socket was created", it->path().string());
    }
  }
  remove_tree(target);
  return 0;
}
