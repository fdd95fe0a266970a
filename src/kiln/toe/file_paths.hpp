#pragma once

// Paths as the file-system action modules take them: trailing slashes, wildcards, what is at a
// path, and walks of folders that stop when the step is interrupted.
//
//  - Paths are used as given (relative ones resolve against the working directory).
//  - Wildcards: '*' only in the last component. A wildcard component is matched with fnmatch(3)
//    (so '?' and [...] work within it too) and '*' matches dot files, as Go's filepath.Match
//    does. It selects only non-folders, sorted by name. A wildcard that matches nothing is an
//    error.
//  - Walks never follow symlinks.
//
// Errors from the file system name the path and the OS error; nothing here throws.

#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/toe/action.hpp"

namespace kiln::toe {

// An error for a failed std::filesystem call: "<what>: <strerror>".
Error fs_error(const std::error_code& ec, std::string_view what);

// `raw` without trailing '/' (except for "/" itself).
std::filesystem::path without_trailing_slashes(std::string_view raw);

// The type of what is at `path` (following a final symlink when `follow`); not_found if nothing.
Result<std::filesystem::file_type> type_of(const std::filesystem::path& path, bool follow);

// Ok if `path` is a folder (or a link to one); kNotFound if nothing is there, else
// kInvalidArgument.
Status require_folder(const std::filesystem::path& path);

// Ok if `path` is a regular file (or a link to one); kNotFound if nothing is there, else
// kInvalidArgument.
Status require_file(const std::filesystem::path& path);

// Creates the missing parent folders of `path`.
Status make_parents(const std::filesystem::path& path);

// Whether the last component of `raw` holds a '*'.
bool has_wildcard(std::string_view raw);

// Whether the file name of `path` matches the fnmatch(3) `pattern`.
bool name_matches(const std::string& pattern, const std::filesystem::path& path);

// The entries of `root` (not `root` itself), with `recursive` everything below it, parents before
// children. Fails when the step is interrupted.
Result<std::vector<std::filesystem::directory_entry>> list_entries(
    const std::filesystem::path& root, bool recursive, const ActionContext& context);

// Whether `entry` is a folder or a link to one.
bool is_folder(const std::filesystem::directory_entry& entry);

// The paths `raw` names: itself, or (with '*' in its last component) the non-folders of its
// folder whose names match, sorted.
Result<std::vector<std::filesystem::path>> expand_source(std::string_view raw,
                                                         const ActionContext& context);

// Fails when `target` is `source` or inside it (copying a folder into itself).
Status refuse_nesting(const std::filesystem::path& source, const std::filesystem::path& target);

}  // namespace kiln::toe
