#pragma once

// Size-limited disks for instances: a sparse file holding an ext4 filesystem, loop-mounted on
// the host (docs/formats/instance.md, "The disk"). The only home of loop devices and of mount(2)
// outside mount namespaces.

#include <cstdint>
#include <filesystem>
#include <string>

#include "kiln/base/result.hpp"

namespace kiln::os {

// Creates `image` (which must not exist) as a sparse file of `size` bytes and makes an ext4
// filesystem in it with Debian's mkfs.ext4 (e2fsprogs): no blocks reserved for root, inode
// tables and journal initialized lazily, so it takes a few MiB of the host's disk however large
// it is. An error (and no file) if mkfs fails.
Status make_disk_image(const std::filesystem::path& image, uint64_t size);

// Attaches `image` to a free loop device (auto-clearing: the device goes away with the last
// mount) and mounts it as ext4 on `target` in the calling process's mount namespace. Options:
// noinit_itable (the kernel does not fill the inode tables in the background, which would
// allocate the sparse file's holes) and discard (blocks freed inside give their space back to
// the host's file). kConflict if the image is attached to a loop device already (mounted in
// another mount namespace: a second mount would corrupt it); the image is locked (flock) meanwhile.
Status mount_disk_image(const std::filesystem::path& image, const std::filesystem::path& target);

// Unmounts `target` lazily (MNT_DETACH); nothing mounted there is success.
Status unmount(const std::filesystem::path& target);

// True if `path` is the root of a mount (its device differs from its parent's, or it is the
// same directory as its parent).
bool is_mount_point(const std::filesystem::path& path);

// Detaches every mount of this mount namespace whose mount point lies strictly below `dir`,
// except `keep` and what lies below it. For a private mount namespace that must not hold other
// instances' disks alive (see run_sandbox).
Status detach_mounts_below(const std::filesystem::path& dir, const std::filesystem::path& keep);

struct DiskUsage {
  uint64_t size = 0;         // bytes the filesystem can hold
  uint64_t available = 0;    // bytes still free
  uint64_t inodes = 0;       // inodes in all
  uint64_t free_inodes = 0;  // inodes still free
  bool full() const;         // less than 1 MiB or no inode left
};

// What the filesystem holding `path` has (statvfs).
Result<DiskUsage> disk_usage(const std::filesystem::path& path);

// "64 MiB", "8 GiB", "1.5 GiB": bytes in binary units, for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace kiln::os
