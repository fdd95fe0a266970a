#include "kiln/instance/sandbox.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace kiln::instance {

std::string_view network_name(Network network) {
  switch (network) {
    case Network::kPrivate:
      return "private";
    case Network::kNone:
      return "none";
    case Network::kHost:
      return "host";
  }
  return "private";
}

std::optional<Network> network_from_name(std::string_view name) {
  for (Network n : {Network::kPrivate, Network::kNone, Network::kHost}) {
    if (name == network_name(n)) {
      return n;
    }
  }
  return std::nullopt;
}

uint64_t shm_size_for(std::optional<uint64_t> memory_bytes) {
  return memory_bytes ? std::max<uint64_t>(*memory_bytes / 2, 1 << 20) : kDefaultShmSize;
}

Json to_json(const SandboxSpec& spec) {
  Json lower = Json::array();
  for (const auto& l : spec.lower) {
    lower.push_back(l.string());
  }
  Json binds = Json::array();
  for (const BindMount& b : spec.binds) {
    binds.push_back(
        Json{{"source", b.source.string()}, {"target", b.target}, {"readOnly", b.read_only}});
  }
  Json cgroups = Json::array();
  for (const auto& c : spec.cgroups) {
    cgroups.push_back(c.string());
  }
  return Json{{"lower", lower},
              {"upper", spec.upper.string()},
              {"work", spec.work.string()},
              {"merged", spec.merged.string()},
              {"hostname", spec.hostname},
              {"network", network_name(spec.network)},
              {"binds", binds},
              {"cgroups", cgroups},
              {"shmSize", spec.shm_size}};
}

Result<SandboxSpec> sandbox_from_json(const Json& j) {
  SandboxSpec spec;
  try {
    for (const Json& l : j.at("lower")) {
      spec.lower.emplace_back(l.get<std::string>());
    }
    spec.upper = j.at("upper").get<std::string>();
    spec.work = j.at("work").get<std::string>();
    spec.merged = j.at("merged").get<std::string>();
    spec.hostname = j.at("hostname").get<std::string>();
    std::string network = j.at("network").get<std::string>();
    std::optional<Network> known = network_from_name(network);
    if (!known) {
      return make_error(
          ErrorCode::kCorruption, "sandbox description: unknown network \"{}\"", network);
    }
    spec.network = *known;
    for (const Json& b : j.at("binds")) {
      spec.binds.push_back(BindMount{b.at("source").get<std::string>(),
                                     b.at("target").get<std::string>(),
                                     b.at("readOnly").get<bool>()});
    }
    for (const Json& c : j.value("cgroups", Json::array())) {
      spec.cgroups.emplace_back(c.get<std::string>());
    }
    spec.shm_size = j.value("shmSize", kDefaultShmSize);  // absent in records of older kilns
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorruption, "sandbox description: {}", e.what());
  }
  if (spec.lower.empty()) {
    return make_error(ErrorCode::kCorruption, "sandbox description: no layers");
  }
  return spec;
}

std::vector<std::string> bwrap_arguments(const SandboxSpec& spec,
                                         const std::string& init,
                                         int info_fd) {
  std::vector<std::string> args{
      // Own PID, UTS and IPC namespaces: the instance sees only its own processes and name.
      "--unshare-pid",
      "--unshare-uts",
      "--unshare-ipc",
      // The assembled overlay is the root; the host's filesystem is not visible at all.
      "--bind",
      spec.merged.string(),
      "/",
      // Fresh /proc for the new PID namespace and a minimal /dev. bwrap's /dev is a tmpfs
      // without a size: it is made read-only, and /dev/shm is a tmpfs of its own with one.
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--perms",
      "1777",
      "--size",
      std::to_string(spec.shm_size),
      "--tmpfs",
      "/dev/shm",
      "--remount-ro",
      "/dev",
      // Kernel tunables stay read-only: root in an instance must not retune the host.
      "--ro-bind",
      "/proc/sys",
      "/proc/sys",
      // The sandbox's own processes (bwrap's PID 1, the init) need no capability at all; the
      // commands run in the instance enter with a set of their own (os::kInstanceCapabilities).
      "--cap-drop",
      "ALL",
      "--hostname",
      spec.hostname,
      // The instance is a machine of its own: it must outlive the kiln command that started it.
      "--new-session",
      "--info-fd",
      std::to_string(info_fd)};
  if (spec.network != Network::kHost) {
    // A network namespace of its own: only a loopback interface until pasta (kPrivate) adds its
    // way out. Sharing the host's (kHost) is only ever done when asked for by name.
    args.insert(args.begin(), "--unshare-net");
  }
  for (const BindMount& b : spec.binds) {
    args.push_back(b.read_only ? "--ro-bind" : "--bind");
    args.push_back(b.source.string());
    args.push_back(b.target);
  }
  args.push_back("--");
  args.push_back(init);
  return args;
}

std::vector<std::string> pasta_arguments(const std::string& netns) {
  return {// Quiet unless something fails; stays root (not "nobody") because this pasta cannot
          // join a namespace of a root-owned process as nobody; it still drops every
          // capability but the two it needs and runs under its own seccomp filter.
          "--quiet",
          "--runas",
          "0",
          "--config-net",
          // Traffic to the gateway's address goes to the gateway, never to the host's loopback.
          "--no-map-gw",
          // No port of the host forwarded into the instance, none of the instance to the host,
          // neither TCP nor UDP (pasta's default, "auto", forwards every bound port).
          "--tcp-ports",
          "none",
          "--udp-ports",
          "none",
          "--tcp-ns",
          "none",
          "--udp-ns",
          "none",
          "--dns-forward",
          std::string(kDnsAddress),
          "--netns",
          netns};
}

std::string private_resolv_conf() {
  return fmt::format(
      "# kiln: DNS of an instance with a private network (forwarded to the host's resolver)\n"
      "nameserver {}\n",
      kDnsAddress);
}

std::vector<std::string> instance_environment(const std::string& hostname,
                                              const std::string& term) {
  std::vector<std::string> env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               "HOME=/root",
                               "USER=root",
                               "LOGNAME=root",
                               "HOSTNAME=" + hostname,
                               "LANG=C.UTF-8"};
  if (!term.empty()) {
    env.push_back("TERM=" + term);
  }
  return env;
}

}  // namespace kiln::instance
