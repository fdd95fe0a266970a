#pragma once

// Directory operations relative to an open directory descriptor that never follow a symlink:
// what the layer code uses to read trees and to write into a target without ever leaving it.

#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln::store {

// The names in the directory `dir_fd` (without "." and ".."), sorted bytewise. `dir_fd` is not
// consumed and its offset is not relied upon.
Result<std::vector<std::string>> list_dir(int dir_fd);

// Removes `name` in `dir_fd` and, if it is a directory, everything below it, without following
// symlinks. A missing `name` is not an error.
Status remove_at(int dir_fd, const std::string& name);

// Opens the directory at the canonical path `path` (see clean_entry_path; "" is `root_fd`
// itself) below `root_fd`, one component at a time with O_NOFOLLOW, so a symlink anywhere on the
// way is refused, never followed. With `create`, missing directories are made (mode 0755 less
// umask). A symlink or a non-directory on the way is an entry_error naming `entry`.
Result<UniqueFd> open_dir_beneath(int root_fd,
                                  std::string_view path,
                                  bool create,
                                  std::string_view entry);

}  // namespace kiln::store
