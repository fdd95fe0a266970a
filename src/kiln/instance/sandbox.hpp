#pragma once

// An instance's sandbox as data first: what the root is made of, what is bound in, which
// namespaces it has. Pure functions turn it into the command lines that realise it, so the
// layout is unit-tested without privileges (docs/formats/instance.md).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"

namespace kiln::instance {

using Json = nlohmann::ordered_json;

// An instance's network (docs/formats/instance.md, "Network"):
// - kPrivate: a network namespace of its own whose only way out is a pasta process (Debian's
//   passt) that turns the instance's packets into ordinary sockets of the host: outbound
//   connections and DNS work, the host's loopback, ports bound on the host and other instances
//   are out of reach. The default.
// - kNone: a network namespace with only a loopback interface.
// - kHost: the host's own network namespace: everything on the host's loopback (kiln serve's
//   API, databases, ...) is reachable. Only when asked for by name.
enum class Network { kPrivate, kNone, kHost };

// "private", "none", "host".
std::string_view network_name(Network network);
// The network called `name`, or nullopt for any other name.
std::optional<Network> network_from_name(std::string_view name);

struct BindMount {
  std::filesystem::path source;  // on the host
  std::string target;            // inside the instance
  bool read_only = true;
};

// /dev/shm of an instance without a memory size (Docker's default): half the memory of an
// instance type otherwise, as on a machine of that size (shm_size_for).
inline constexpr uint64_t kDefaultShmSize = uint64_t{64} << 20;

// The /dev/shm size of an instance whose memory is limited to `memory_bytes` (none: no limit).
uint64_t shm_size_for(std::optional<uint64_t> memory_bytes);

struct SandboxSpec {
  std::vector<std::filesystem::path> lower;  // unpacked layers, top-most first
  std::filesystem::path upper;               // the instance's writable layer
  std::filesystem::path work;                // overlayfs work folder (same file system as upper)
  std::filesystem::path merged;              // where the root is assembled (private mount)
  std::string hostname;
  Network network = Network::kPrivate;
  std::vector<BindMount> binds = {};  // put in on purpose (runner, documents, logs)
  // cgroups the sandbox's processes join (os/cgroup.hpp); empty: no resource limits.
  std::vector<std::filesystem::path> cgroups = {};
  // The size of the instance's /dev/shm (a tmpfs: memory that no process owns, so neither the
  // OOM killer nor the end of a process gives it back). /dev itself is read-only.
  uint64_t shm_size = kDefaultShmSize;
};

Json to_json(const SandboxSpec& spec);
Result<SandboxSpec> sandbox_from_json(const Json& json);

// bwrap's arguments (without the program name) for a sandbox whose root is `spec.merged`, whose
// first process is `init` (a path valid inside the sandbox) and that reports its pids as JSON on
// file descriptor `info_fd`.
std::vector<std::string> bwrap_arguments(const SandboxSpec& spec,
                                         const std::string& init,
                                         int info_fd);

// pasta's arguments (without the program name) that give the network namespace at `netns` (a
// path, /proc/<pid>/ns/net) its way out: addresses and routes copied from the host, outbound TCP,
// UDP and ICMP echo through the host's sockets, DNS queries to kDnsAddress forwarded to the host's
// first resolver, and nothing else: no port forwarded in either direction, the gateway address
// not mapped to the host's loopback.
std::vector<std::string> pasta_arguments(const std::string& netns);

// The address an instance with a private network sends its DNS queries to (its
// /etc/resolv.conf names it); pasta forwards them to the host's resolver. Link-local, so it is
// never a real machine.
inline constexpr std::string_view kDnsAddress = "169.254.0.53";

// The /etc/resolv.conf of an instance with a private network.
std::string private_resolv_conf();

// The environment processes start with inside an instance: fixed, never the host's or kiln's.
std::vector<std::string> instance_environment(const std::string& hostname, const std::string& term);

}  // namespace kiln::instance
