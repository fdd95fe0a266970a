#include "kiln/store/layer_testing.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "kiln/base/unique_fd.hpp"
#include "kiln/store/archive_io.hpp"

namespace kiln::store::layer_testing {

namespace fs = std::filesystem;

namespace {

void set_mtime(const fs::path& path, time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

}  // namespace

bool is_root() {
  return geteuid() == 0;
}

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.output.append(buffer, n);
  }
  int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string sh(const fs::path& path) {
  return "'" + path.string() + "'";
}

std::string first_word(const std::string& text) {
  return text.substr(0, text.find_first_of(" \n"));
}

void put(const fs::path& path, std::string_view content, mode_t mode) {
  ASSERT_TRUE(write_file(path, content).ok()) << path;
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
}

std::vector<fs::path> walk(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

void make_tree(const fs::path& dir) {
  fs::create_directories(dir / "etc" / "empty");
  fs::create_directories(dir / "usr" / "bin");
  put(dir / "etc/hostname", "kiln\n");
  put(dir / "etc/shadow", "root:*:19000::::::\n", 0600);
  put(dir / "usr/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  put(dir / "caf\xc3\xa9 \xc3\xbc.txt", "a name that is not ASCII\n");
  put(dir / "empty-file", "");
  std::string big(3 * 1024 * 1024 + 17, '\0');
  uint32_t state = 12345;
  for (char& c : big) {
    state = state * 1103515245 + 12345;
    c = static_cast<char>((state >> 16) % 7 == 0 ? state >> 8 : 'a' + state % 3);
  }
  put(dir / "usr/big.bin", big);
  ASSERT_EQ(symlink("hostname", (dir / "etc/link-relative").c_str()), 0);
  ASSERT_EQ(symlink("/etc/hostname", (dir / "etc/link-absolute").c_str()), 0);
  ASSERT_EQ(symlink("does/not/exist", (dir / "dangling").c_str()), 0);
  ASSERT_EQ(link((dir / "usr/bin/tool").c_str(), (dir / "usr/bin/tool-hardlink").c_str()), 0);
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0640), 0);
  ASSERT_EQ(chmod((dir / "etc/empty").c_str(), 0700), 0);
  ASSERT_EQ(setxattr((dir / "etc/hostname").c_str(), "user.kiln.test", "value", 5, 0), 0);
  if (is_root()) {
    put(dir / "usr/bin/suid", "x", 04755);
    ASSERT_EQ(chown((dir / "etc/shadow").c_str(), 0, 42), 0);
    ASSERT_EQ(lchown((dir / "etc/link-relative").c_str(), 7, 8), 0);
    ASSERT_EQ(mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(chmod((dir / "null").c_str(), 0666), 0);
    const char capability[] =
        "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00";
    ASSERT_EQ(setxattr((dir / "usr/bin/tool").c_str(),
                       "security.capability",
                       capability,
                       sizeof capability - 1,
                       0),
              0);
  }
  time_t t = kEpoch;
  for (const fs::path& path : walk(dir)) {
    set_mtime(path, t++);
  }
}

std::map<std::string, std::string> describe(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  for (const fs::path& path : walk(dir)) {
    std::string rel = path.lexically_relative(dir).string();
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0);
    std::string d = fmt::format(
        "mode={:o} uid={} gid={} mtime={}", st.st_mode, st.st_uid, st.st_gid, st.st_mtim.tv_sec);
    if (S_ISREG(st.st_mode)) {
      Result<std::string> content = read_file(path);
      d += fmt::format(" size={} sha256={}",
                       st.st_size,
                       content.ok() ? Digest::of(*content).hex() : "unreadable");
      if (st.st_nlink > 1) {
        d += " inode-of=" + inodes.try_emplace({st.st_dev, st.st_ino}, rel).first->second;
      }
    }
    if (S_ISLNK(st.st_mode)) {
      d += " -> " + fs::read_symlink(path).string();
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      d += fmt::format(" rdev={}:{}", major(st.st_rdev), minor(st.st_rdev));
    }
    char names[4096];
    ssize_t n = llistxattr(path.c_str(), names, sizeof names);
    for (ssize_t pos = 0; pos < n; pos += static_cast<ssize_t>(strlen(names + pos)) + 1) {
      std::string name = names + pos;
      char value[256];
      ssize_t size = lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
      d += fmt::format(" xattr:{}={}", name, std::string_view(value, size > 0 ? size : 0));
    }
    out[rel] = d;
  }
  return out;
}

std::string tree_diff(const fs::path& actual_dir, const fs::path& expected_dir) {
  std::map<std::string, std::string> actual = describe(actual_dir);
  std::map<std::string, std::string> expected = describe(expected_dir);
  std::string out;
  for (const auto& [path, want] : expected) {
    auto found = actual.find(path);
    if (found == actual.end()) {
      out += fmt::format("missing {:?}: {}\n", path, want);
    } else if (found->second != want) {
      out += fmt::format("differs {:?}:\n  got  {}\n  want {}\n", path, found->second, want);
    }
  }
  for (const auto& [path, got] : actual) {
    if (!expected.contains(path)) {
      out += fmt::format("extra {:?}: {}\n", path, got);
    }
  }
  return out;
}

std::vector<std::string> list_entries(const fs::path& archive_path) {
  std::vector<std::string> names;
  UniqueFd fd(open(archive_path.c_str(), O_RDONLY | O_CLOEXEC));
  Result<ArchiveReader> reader = open_tar_reader(fd.get(), std::nullopt);
  EXPECT_TRUE(reader.ok());
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader->get(), &entry) == ARCHIVE_OK) {
    std::string name(entry_pathname(entry));
    archive_entry_xattr_reset(entry);
    const char* xattr = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &xattr, &value, &size) == ARCHIVE_OK) {
      name += fmt::format("|{}", xattr);
    }
    names.push_back(name);
  }
  return names;
}

void write_tar(const fs::path& path, const std::vector<TestEntry>& entries) {
  std::string bytes;
  Result<TarWriter> tar = TarWriter::open([&bytes](std::string_view data) {
    bytes.append(data);
    return ok_status();
  });
  ASSERT_TRUE(tar.ok());
  for (const TestEntry& e : entries) {
    ArchiveEntry entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), e.name.c_str());
    archive_entry_set_mode(entry.get(), e.mode);
    archive_entry_set_mtime(entry.get(), kEpoch, 0);
    if (S_ISREG(e.mode)) {
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
    }
    ASSERT_TRUE(tar->write_header(entry.get(), e.name).ok());
    ASSERT_TRUE(tar->write_data(e.content, e.name).ok());
  }
  ASSERT_TRUE(tar->close().ok());
  ASSERT_TRUE(write_file(path, bytes).ok());
}

}  // namespace kiln::store::layer_testing
