#pragma once

// Owners, groups and permission bits of files, as the file-system action modules take them:
// owner and group names or ids, and permissions written as octal digits.
//
//  - Owners and groups: a name is looked up first (getpwnam_r, getgrnam_r), then an all-digit
//    value is taken as an id. A numeric owner not in the user database leaves the group unchanged
//    when no group is given; a known owner without a group gets the owner's primary group.
//  - Permissions must be 3 or 4 octal digits ("644", "0755", "2775"); anything else is an error.
//
// The lookups are thread-safe (the _r functions); nothing here throws.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/toe/action.hpp"

namespace kiln::toe {

struct Owner {
  uid_t uid = static_cast<uid_t>(-1);  // -1: unchanged
  gid_t gid = static_cast<gid_t>(-1);
  std::string text;  // "owner:group" as given, for logs
};

// The ids for `owner` and `group` (either may be empty). An unknown name is kNotFound.
Result<Owner> resolve_owner(const std::string& owner, const std::string& group);

// chown(2) (`follow`) or lchown(2) of `path`; the error names the path and owner.text.
Status change_owner(const std::filesystem::path& path, const Owner& owner, bool follow);

// The mode written as 3 or 4 octal digits; kInvalidArgument otherwise.
Result<mode_t> parse_permissions(std::string_view text);

// chmod(2) of `path` (which follows a symlink).
Status change_mode(const std::filesystem::path& path, mode_t mode);

// The optional `permissions`, `owner` and `group` inputs of CreateFile and CreateFolder.
struct FileAttributes {
  std::optional<mode_t> mode;
  std::optional<Owner> owner;
};

// Reads and checks the inputs, so that nothing is created when one of them is wrong.
Result<FileAttributes> parse_file_attributes(const Json& in);

// Applies the owner (following a symlink), then the mode: chown may clear setuid bits.
Status apply_file_attributes(const std::filesystem::path& path, const FileAttributes& attributes);

}  // namespace kiln::toe
