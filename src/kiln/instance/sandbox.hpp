#pragma once

// An instance's sandbox as data first: what the root is made of, what is bound in, which
// namespaces it has. Pure functions turn it into the command lines that realise it, so the
// layout is unit-tested without privileges (docs/formats/instance.md).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"

namespace kiln::instance {

using Json = nlohmann::ordered_json;

enum class Network { kHost, kNone };

struct BindMount {
  std::filesystem::path source;  // on the host
  std::string target;            // inside the instance
  bool read_only = true;
};

struct SandboxSpec {
  std::vector<std::filesystem::path> lower;  // unpacked layers, top-most first
  std::filesystem::path upper;               // the instance's writable layer
  std::filesystem::path work;                // overlayfs work folder (same file system as upper)
  std::filesystem::path merged;              // where the root is assembled (private mount)
  std::string hostname;
  Network network = Network::kHost;
  std::vector<BindMount> binds = {};  // put in on purpose (runner, documents, logs)
  // cgroups the sandbox's processes join (os/cgroup.hpp); empty: no resource limits.
  std::vector<std::filesystem::path> cgroups = {};
};

Json to_json(const SandboxSpec& spec);
Result<SandboxSpec> sandbox_from_json(const Json& json);

// bwrap's arguments (without the program name) for a sandbox whose root is `spec.merged`, whose
// first process is `init` (a path valid inside the sandbox) and that reports its pids as JSON on
// file descriptor `info_fd`.
std::vector<std::string> bwrap_arguments(const SandboxSpec& spec,
                                         const std::string& init,
                                         int info_fd);

// The environment commands start with inside an instance (not the host's).
std::vector<std::string> instance_environment(const std::string& hostname, const std::string& term);

}  // namespace kiln::instance
