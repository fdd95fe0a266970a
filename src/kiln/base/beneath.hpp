#pragma once

// Reading and making paths that someone else may change while kiln works: a folder an instance
// writes into, a log folder named by a configuration. Every path is resolved beneath a directory
// descriptor, one component at a time, without following a symbolic link at any component, without
// `..` and without crossing a mount (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_XDEV; on a kernel without openat2, openat with O_NOFOLLOW per component). What is
// read must be a regular file, and is read up to a limit: a FIFO cannot block kiln and a huge file
// cannot fill the host (docs/security.md).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln {

// Checks that `relative` is a relative path of plain names (no empty, `.` or `..` component, not
// absolute); kInvalidArgument naming `what` otherwise.
Status check_plain_relative(const std::filesystem::path& relative, std::string_view what);

// Opens `relative` beneath the directory `dir_fd` with `flags` (O_CLOEXEC, O_NOFOLLOW and
// O_NOCTTY are added). A symbolic link at any component is kPermissionDenied, as is a path that
// is absolute or has `..`.
Result<UniqueFd> open_beneath(int dir_fd, const std::filesystem::path& relative, int flags);

// Opens a directory kiln trusts the path of (O_DIRECTORY, the last component not followed).
Result<UniqueFd> open_directory(const std::filesystem::path& path);

// Reads the regular file `relative` beneath `dir_fd`. Anything else (a FIFO, a device, a socket,
// a directory) is kInvalidArgument without blocking; a file of more than `max_bytes` is
// kInvalidArgument.
Result<std::string> read_file_beneath(int dir_fd,
                                      const std::filesystem::path& relative,
                                      uint64_t max_bytes);

// Makes the directories of `relative` beneath `dir_fd` (mode `mode` for new ones), none followed
// through a symbolic link, and opens the last one.
Result<UniqueFd> make_directories_beneath(int dir_fd,
                                          const std::filesystem::path& relative,
                                          int mode = 0755);

// Removes the entry `name` of the directory `dir_fd` and, when it is a folder, everything in it,
// relative to descriptors: a symbolic link is removed, never followed. A missing entry is fine.
Status remove_beneath(int dir_fd, const std::string& name);

// Removes everything in the folder `name` of `dir_fd` as remove_beneath does, keeping the folder.
// kNotFound when there is no such entry, kPermissionDenied when it is a symbolic link.
Status remove_contents_beneath(int dir_fd, const std::string& name);

struct CopyOutLimits {
  uint64_t max_file_bytes = uint64_t{256} << 20;    // a longer file is copied up to this
  uint64_t max_total_bytes = uint64_t{1024} << 20;  // past this, files are skipped
  size_t max_entries = 10000;                       // files and folders
  int max_depth = 16;
};

struct CopyOutReport {
  size_t files = 0;
  uint64_t bytes = 0;
  // What was not copied in full, each "path: why" (a symbolic link, a FIFO, cut at the limit...).
  std::vector<std::string> skipped;
};

// Copies the tree at `relative` beneath `dir_fd` to `destination` (made if missing), as files
// kiln owns (0644, folders 0755): regular files and folders only, each file at most
// max_file_bytes, the whole at most max_total_bytes and max_entries. Symbolic links, FIFOs,
// sockets and devices are not copied: the report names them. A hard link is copied as a file.
// Files already in `destination` are replaced, never written through a link.
Result<CopyOutReport> copy_out_beneath(int dir_fd,
                                       const std::filesystem::path& relative,
                                       const std::filesystem::path& destination,
                                       const CopyOutLimits& limits = {});

namespace detail {
// open_beneath without openat2 (what kernels before 5.6 get); for tests.
Result<UniqueFd> open_beneath_portable(int dir_fd,
                                       const std::filesystem::path& relative,
                                       int flags);
}  // namespace detail

}  // namespace kiln
