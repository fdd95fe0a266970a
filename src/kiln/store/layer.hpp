#pragma once

// Layer archives (docs/formats/store.md, "Layers", "The layer cache", "Untrusted archives"):
// making an OCI layer blob from a directory tree, from an overlayfs upper directory or from a
// user's rootfs tarball, and unpacking a layer blob into a directory.
//
// Everything streams: a layer is never held whole in memory. Writing runs libarchive's tar
// writer into a sink that hashes the tar (the diff_id) and compresses it into a BlobWriter, which
// names the blob (its digest). Reading treats every archive as hostile (see unpack_layer).
//
// Not thread-safe per call (each call owns its libarchive handles); separate calls may run in
// parallel. zstd compression uses two worker threads of its own.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/store/blob_store.hpp"
#include "kiln/store/digest.hpp"

namespace kiln::store {

enum class LayerFormat { kZstd, kGzip, kUncompressed };

inline constexpr std::string_view kMediaTypeLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kMediaTypeLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeLayerTar = "application/vnd.oci.image.layer.v1.tar";

// The OCI media type of a layer in `format`.
std::string_view layer_media_type(LayerFormat format);

// The format of a layer media type: the three OCI types above, their deprecated
// "nondistributable" variants and Docker's "application/vnd.docker.image.rootfs.diff.tar.gzip".
// kInvalidArgument for anything else.
Result<LayerFormat> layer_format_from_media_type(std::string_view media_type);

// What a written layer is: the descriptor fields of the blob plus its config diff_id.
struct LayerInfo {
  Digest digest;      // sha256 of the blob as stored (compressed)
  uint64_t size = 0;  // size of the blob as stored
  Digest diff_id;     // sha256 of the uncompressed tar
  std::string media_type;
};

// A whole root filesystem `dir` as a layer. Entries are sorted bytewise, depth first, each
// directory before its content; the directory itself is not an entry. Kept: numeric uid/gid (no
// user names), mode bits, mtimes in whole seconds (no atime/ctime), symlinks, hardlinks within the
// tree, character and block devices, fifos, and xattrs except overlayfs's own
// (trusted.overlay.*, user.overlay.*) and security.selinux. Sockets are skipped. The same tree
// gives the same bytes, so the same digest. `dir` is read without following symlinks.
// Files whose sizes add up to more than kDefaultMaxTotalBytes (what unpack_layer accepts; sparse
// files count whole) are refused with kInvalidArgument before their content is read.
// The blob is committed through `blob` (its commit() is called; on error it is not).
Result<LayerInfo> write_layer_from_tree(const std::filesystem::path& dir,
                                        LayerFormat format,
                                        BlobWriter& blob);

// An overlayfs upper directory as an OCI layer: as write_layer_from_tree, but a 0/0 character
// device becomes the whiteout `.wh.<name>`, and a directory with trusted.overlay.opaque=y (or
// user.overlay.opaque=y) is written followed by `<dir>/.wh..wh..opq`. An upper directory that
// needs the lower layers to be read (trusted.overlay.redirect or .metacopy, i.e. the overlay was
// mounted with redirect_dir or metacopy on) is refused with kInvalidArgument.
Result<LayerInfo> write_layer_from_upper(const std::filesystem::path& upper_dir,
                                         LayerFormat format,
                                         BlobWriter& blob);

inline constexpr uint64_t kDefaultMaxTotalBytes = uint64_t{64} << 30;  // 64 GiB
inline constexpr uint64_t kDefaultMaxEntries = uint64_t{4} << 20;      // 4 Mi entries

struct UnpackOptions {
  // true: the target becomes an overlayfs lower layer (the layer cache): `.wh.<name>` becomes a
  // 0/0 character device and `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its directory
  // (both need root; a whiteout met when not root is an error). false: merge mode, the layer is
  // applied over what `target_dir` holds (flattening layers into a rootfs): whiteouts delete the
  // named entries of lower layers, an opaque directory loses every child this layer did not write.
  bool as_overlay_lower = false;
  // Limits on the sum of the entries' (logical) sizes and on the number of entries.
  uint64_t max_total_bytes = kDefaultMaxTotalBytes;
  uint64_t max_entries = kDefaultMaxEntries;
  // Character and block devices are created only when this is set and the process runs as root;
  // otherwise they are skipped (counted in UnpackStats::skipped).
  bool allow_devices = true;
};

struct UnpackStats {
  uint64_t entries = 0;  // entries read from the archive
  uint64_t bytes = 0;    // file content written
  uint64_t skipped = 0;  // devices not allowed here, sockets, unknown types
};

// Unpacks the layer blob at `blob_path` into the existing directory `target_dir`. `media_type`
// picks the decompressor (empty: detect gzip, zstd, xz or none from the content).
//
// The archive is hostile. Refused, with an error naming the entry: absolute paths, `..`
// components, entries whose parent path goes through a symlink (any symlink, as libarchive's
// ARCHIVE_EXTRACT_SECURE_SYMLINKS does: links are never followed, so nothing can be written
// through one out of the target), hardlinks whose target is absolute, has `..`, or does not exist
// in the target, and sizes or entry counts beyond the limits. Every file is created relative to
// a directory descriptor under `target_dir` (openat and friends, O_NOFOLLOW, an existing entry is
// removed rather than written through), so nothing is ever created outside `target_dir`; what was
// unpacked before a refusal stays in `target_dir` (unpack into a temporary directory and remove
// it on error). Ownership (and set-id bits) is kept only when running as root; xattrs named
// trusted.overlay.* or user.overlay.* in the archive are never applied (overlayfs would obey
// them), only the whiteout translation above sets one.
Result<UnpackStats> unpack_layer(const std::filesystem::path& blob_path,
                                 std::string_view media_type,
                                 const std::filesystem::path& target_dir,
                                 const UnpackOptions& options = {});

struct ImportOptions {
  uint64_t max_total_bytes = kDefaultMaxTotalBytes;
  uint64_t max_entries = kDefaultMaxEntries;
  // Device nodes are kept only when set and running as root; otherwise they are dropped.
  bool allow_devices = true;
};

// Re-packs a user's rootfs tarball (tar, possibly gzip, zstd, xz or bzip2 compressed; detected)
// into a layer without extracting it. Entry names get the unpack checks: absolute paths, `..`
// components, a path through a symlink entry of the archive, and hardlinks to an entry not
// earlier in the archive are refused with an error naming the entry; sizes and counts are
// limited. Names are normalized (no leading "./"), ownership is kept as numbers, mtimes are
// truncated to seconds, atime/ctime/user names/sparse maps dropped, entry order kept (so the same
// tarball gives the same layer). Dropped: the root entry ("./"), sockets, whiteout names
// (`.wh.*`: nothing lies below an imported root filesystem) and devices when not allowed.
Result<LayerInfo> normalize_rootfs_archive(const std::filesystem::path& input,
                                           LayerFormat format,
                                           BlobWriter& blob,
                                           const ImportOptions& options = {});

}  // namespace kiln::store
