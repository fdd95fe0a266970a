#include "kiln/os/cgroup.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <map>
#include <system_error>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::os {
namespace fs = std::filesystem;

namespace {

// A mounted hierarchy: where it is, whether it is v2, which controllers it has, and the group of
// this process in it.
struct Hierarchy {
  fs::path mount;
  bool unified = false;
  std::vector<std::string> controllers;
  std::string own_group;  // relative to `mount`, from /proc/self/cgroup
};

bool has(const Hierarchy& h, std::string_view controller) {
  return std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end();
}

// /proc/self/cgroup: "ID:controllers:/path" per hierarchy; v2 is "0::/path".
std::map<std::string, std::string> own_groups() {
  std::map<std::string, std::string> out;
  Result<std::string> text = read_file("/proc/self/cgroup");
  for (const std::string& line : split(text.value_or(""), '\n')) {
    std::vector<std::string> parts = split(line, ':');
    if (parts.size() >= 3) {
      out[parts[1]] = line.substr(parts[0].size() + parts[1].size() + 2);
    }
  }
  return out;
}

std::vector<Hierarchy> hierarchies() {
  std::vector<Hierarchy> out;
  std::map<std::string, std::string> groups = own_groups();
  Result<std::string> mounts = read_file("/proc/self/mountinfo");
  for (const std::string& line : split(mounts.value_or(""), '\n')) {
    // "... mountpoint options - fstype source superoptions"
    size_t dash = line.find(" - ");
    std::vector<std::string> left = split(line.substr(0, dash), ' ');
    if (dash == std::string::npos || left.size() < 5) {
      continue;
    }
    std::vector<std::string> right = split(line.substr(dash + 3), ' ');
    if (right.empty() || (right[0] != "cgroup" && right[0] != "cgroup2")) {
      continue;
    }
    Hierarchy h;
    h.mount = left[4];
    h.unified = right[0] == "cgroup2";
    if (h.unified) {
      h.controllers = split(trim(read_file(h.mount / "cgroup.controllers").value_or("")), ' ');
      h.own_group = groups[""];
    } else if (right.size() >= 3) {
      for (const std::string& option : split(right[2], ',')) {
        if (option == "memory" || option == "pids" || option == "cpu") {
          h.controllers.push_back(option);
        }
      }
      // The /proc/self/cgroup line whose controller list names this hierarchy's controller.
      for (const auto& [key, path] : groups) {
        std::vector<std::string> names = split(key, ',');
        if (!h.controllers.empty() &&
            std::find(names.begin(), names.end(), h.controllers.front()) != names.end()) {
          h.own_group = path;
        }
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

Status write_setting(const fs::path& file, const std::string& value) {
  Status written = write_file(file, value, 0644);
  return written ? ok_status() : written.error().with_context("setting a resource limit");
}

Status apply_v2(const Hierarchy& h, const fs::path& group, const ResourceLimits& limits) {
  // Controllers must be enabled in every parent's subtree_control for the child to have them.
  std::string enable;
  for (const char* c : {"memory", "pids", "cpu"}) {
    if (has(h, c)) {
      enable += std::string(enable.empty() ? "" : " ") + "+" + c;
    }
  }
  for (fs::path p = group.parent_path(); p.string().size() >= h.mount.string().size();
       p = p.parent_path()) {
    (void)write_file(p / "cgroup.subtree_control", enable, 0644);
    if (p == h.mount) {
      break;
    }
  }
  if (limits.memory_bytes) {
    KILN_TRY(write_setting(group / "memory.max", std::to_string(*limits.memory_bytes)));
  }
  if (limits.pids) {
    KILN_TRY(write_setting(group / "pids.max", std::to_string(*limits.pids)));
  }
  if (limits.cpus) {
    auto quota = static_cast<long>(std::lround(*limits.cpus * 100000));
    KILN_TRY(write_setting(group / "cpu.max", fmt::format("{} 100000", quota)));
  }
  return ok_status();
}

Status apply_v1(const Hierarchy& h, const fs::path& group, const ResourceLimits& limits) {
  if (has(h, "memory") && limits.memory_bytes) {
    KILN_TRY(write_setting(group / "memory.limit_in_bytes", std::to_string(*limits.memory_bytes)));
  }
  if (has(h, "pids") && limits.pids) {
    KILN_TRY(write_setting(group / "pids.max", std::to_string(*limits.pids)));
  }
  if (has(h, "cpu") && limits.cpus) {
    KILN_TRY(write_setting(group / "cpu.cfs_period_us", "100000"));
    KILN_TRY(write_setting(group / "cpu.cfs_quota_us",
                           std::to_string(std::lround(*limits.cpus * 100000))));
  }
  return ok_status();
}

bool wanted(const Hierarchy& h, const ResourceLimits& limits) {
  return (limits.memory_bytes && has(h, "memory")) || (limits.pids && has(h, "pids")) ||
         (limits.cpus && has(h, "cpu"));
}

}  // namespace

Result<CgroupSet> create_cgroups(const std::string& name, const ResourceLimits& limits) {
  CgroupSet set;
  if (limits.empty()) {
    return set;
  }
  std::vector<Hierarchy> all = hierarchies();
  bool unified_only = std::none_of(all.begin(), all.end(), [](const Hierarchy& h) {
    return !h.unified && !h.controllers.empty();
  });
  std::map<std::string, bool> covered;
  for (const Hierarchy& h : all) {
    // On hybrid hosts the v1 hierarchies hold the controllers; v2 is used only when it is all.
    if ((h.unified && !unified_only) || !wanted(h, limits)) {
      continue;
    }
    std::string own = h.own_group;
    while (!own.empty() && own.front() == '/') {
      own.erase(0, 1);
    }
    fs::path group = h.mount / own / "kiln" / name;
    std::error_code ec;
    fs::create_directories(group, ec);
    if (ec) {
      set.warnings.push_back(fmt::format("cannot create {}: {}", group.string(), ec.message()));
      continue;
    }
    Status applied = h.unified ? apply_v2(h, group, limits) : apply_v1(h, group, limits);
    if (!applied) {
      set.warnings.push_back(applied.error().message);
    }
    for (const std::string& c : h.controllers) {
      covered[c] = true;
    }
    set.groups.push_back(group);
  }
  auto missing = [&](bool want, const char* controller) {
    if (want && !covered[controller]) {
      set.warnings.push_back(fmt::format(
          "this host has no {} cgroup controller: that limit is not enforced", controller));
    }
  };
  missing(limits.memory_bytes.has_value(), "memory");
  missing(limits.pids.has_value(), "pids");
  missing(limits.cpus.has_value(), "cpu");
  return set;
}

Status join_cgroups(const CgroupSet& set) {
  for (const fs::path& group : set.groups) {
    // Writing "0" moves the writer itself; the processes it starts stay in the group.
    Status joined = write_file(group / "cgroup.procs", "0", 0644);
    if (!joined) {
      return joined.error().with_context(fmt::format("joining {}", group.string()));
    }
  }
  return ok_status();
}

void remove_cgroups(const CgroupSet& set) {
  for (const fs::path& group : set.groups) {
    ::rmdir(group.c_str());  // fails while processes remain; they are gone after a stop
  }
}

}  // namespace kiln::os
