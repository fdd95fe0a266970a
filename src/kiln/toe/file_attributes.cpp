#include "kiln/toe/file_attributes.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

#include "kiln/document/modules.hpp"

namespace kiln::toe {
namespace {

namespace fs = std::filesystem;

std::optional<uint32_t> parse_id(std::string_view text) {
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// Calls a get{pw,gr}{nam,uid,gid}_r function, growing its buffer on ERANGE; `pick` takes the
// wanted ids out of the entry before the buffer goes. nullopt when there is no such entry.
template <typename Entry, typename Key, typename Lookup, typename Pick>
auto lookup(Lookup fn, Key key, Pick pick, std::string_view what)
    -> Result<std::optional<decltype(pick(std::declval<const Entry&>()))>> {
  using Value = decltype(pick(std::declval<const Entry&>()));
  std::vector<char> buffer(4096);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    int rc = fn(key, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 22)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (found != nullptr) {
      return std::optional<Value>(pick(*found));
    }
    bool missing = rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
    if (!missing) {
      return errno_error(rc, fmt::format("looking up {}", what));
    }
    return std::optional<Value>();
  }
}

struct UserIds {
  uid_t uid;
  gid_t gid;
};

Result<std::optional<UserIds>> find_user(const std::string& name) {
  auto pick = [](const passwd& pw) { return UserIds{pw.pw_uid, pw.pw_gid}; };
  std::string what = fmt::format("user '{}'", name);
  auto by_name = KILN_TRY(lookup<passwd>(::getpwnam_r, name.c_str(), pick, what));
  std::optional<uint32_t> id = parse_id(name);
  if (by_name || !id) {
    return by_name;
  }
  auto by_id = KILN_TRY(lookup<passwd>(::getpwuid_r, static_cast<uid_t>(*id), pick, what));
  return by_id ? by_id : std::optional<UserIds>(UserIds{*id, static_cast<gid_t>(-1)});
}

Result<std::optional<gid_t>> find_group(const std::string& name) {
  auto pick = [](const group& gr) { return gr.gr_gid; };
  std::string what = fmt::format("group '{}'", name);
  auto by_name = KILN_TRY(lookup<group>(::getgrnam_r, name.c_str(), pick, what));
  std::optional<uint32_t> id = parse_id(name);
  return (by_name || !id) ? by_name : std::optional<gid_t>(*id);
}

}  // namespace

Result<Owner> resolve_owner(const std::string& owner, const std::string& group) {
  Owner out;
  out.text = group.empty() ? owner : fmt::format("{}:{}", owner, group);
  if (!owner.empty()) {
    std::optional<UserIds> user = KILN_TRY(find_user(owner));
    if (!user) {
      return make_error(ErrorCode::kNotFound, "unknown user '{}'", owner);
    }
    out.uid = user->uid;
    out.gid = user->gid;
  }
  if (!group.empty()) {
    std::optional<gid_t> gid = KILN_TRY(find_group(group));
    if (!gid) {
      return make_error(ErrorCode::kNotFound, "unknown group '{}'", group);
    }
    out.gid = *gid;
  }
  return out;
}

Status change_owner(const fs::path& path, const Owner& owner, bool follow) {
  int rc = follow ? ::chown(path.c_str(), owner.uid, owner.gid)
                  : ::lchown(path.c_str(), owner.uid, owner.gid);
  if (rc != 0) {
    return errno_error(errno, fmt::format("changing owner of {} to {}", path.string(), owner.text));
  }
  return ok_status();
}

Result<mode_t> parse_permissions(std::string_view text) {
  if (!document::is_octal_permissions(text)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "permissions '{}' must be 3 or 4 octal digits, such as \"0755\" or \"644\"",
                      text);
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value, 8);
  return static_cast<mode_t>(value);
}

Status change_mode(const fs::path& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0) {
    return errno_error(errno,
                       fmt::format("changing permissions of {} to {:04o}", path.string(), mode));
  }
  return ok_status();
}

Result<FileAttributes> parse_file_attributes(const Json& in) {
  FileAttributes out;
  std::string permissions = input_string(in, "permissions");
  if (!permissions.empty()) {
    out.mode = KILN_TRY(parse_permissions(permissions));
  }
  std::string owner = input_string(in, "owner");
  std::string group = input_string(in, "group");
  if (!owner.empty() || !group.empty()) {
    out.owner = KILN_TRY(resolve_owner(owner, group));
  }
  return out;
}

Status apply_file_attributes(const fs::path& path, const FileAttributes& attributes) {
  if (attributes.owner) {
    KILN_TRY(change_owner(path, *attributes.owner, true));
  }
  if (attributes.mode) {
    KILN_TRY(change_mode(path, *attributes.mode));  // after chown, which may clear setuid bits
  }
  return ok_status();
}

}  // namespace kiln::toe
