#pragma once

// Copying files and folders between the host and a running instance (`kiln instance cp`).
// Paths inside the instance are resolved with the instance's root as "/" (openat2 with
// RESOLVE_IN_ROOT on its /proc/<pid>/root), and everything below is opened without following
// links: a symlink in the instance can never aim the copy at the host's files.

#include <filesystem>
#include <string>

#include "kiln/base/result.hpp"
#include "kiln/instance/instance.hpp"

namespace kiln::instance {

// Copies a host file or folder to `destination` inside the instance; a destination that is a
// folder (or ends in '/') receives it under its own name. Modes are kept; owners when root.
Status copy_into(const InstanceRecord& instance,
                 const std::filesystem::path& source,
                 const std::string& destination);

// Copies a file or folder of the instance to `destination` on the host (into it when it is a
// folder). Symlinks are copied as symlinks.
Status copy_out_of(const InstanceRecord& instance,
                   const std::string& source,
                   const std::filesystem::path& destination);

}  // namespace kiln::instance
