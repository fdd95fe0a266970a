// Snapshot benchmark (bench/README.md): the time of a snapshot of a 1 MiB change, on a small
// parent (busybox, about 2 MB) and on a parent ten times larger (busybox plus generated files,
// imported as a folder). A snapshot reads only the instance's writable layer, so the two should
// cost the same: what changed, not the image size. Needs root, bubblewrap, nsenter and busybox;
// prints "skipped" and exits 0 otherwise. Figures only: nothing here fails on a slow machine; it
// exits non-zero only when kiln gets something wrong (a launch, exec or snapshot that fails).
//
//   kiln_snapshot_bench KILN_BINARY SANDBOX_INIT [--reps N] [--keep]
//
// Every round, for each parent in turn (the two alternate, so both see the same machine load):
// launch a fresh instance, write the change from inside it (`kiln instance exec`: 8 files of
// 64 KiB from /dev/urandom and 8 of 64 KiB of text, 1 MiB in all, through the overlay as a build
// step would), stop it, then time
//   - "snapshot": Images::snapshot of its writable layer, the figure the target bounds: the layer
//     (tar, diff_id, zstd with two workers, blob digest) written to the store (temporary file,
//     fsync, rename, fsync of the folder), then the store update (config and manifest blobs, the
//     index replaced atomically);
//   - "layer, no disk": the same layer written to a sink that only hashes (the CPU part);
//   - "store update": ImageStore::add_image of one more image made of the layer just written
//     (the metadata part alone);
// and terminate the instance. Untimed: building and importing the parents, unpacking them into
// the layer cache, launch, exec, stop. Medians over --reps rounds after one warm-up round.

#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/image/images.hpp"
#include "kiln/instance/instance.hpp"
#include "kiln/os/process.hpp"
#include "kiln/store/digest.hpp"
#include "kiln/store/layer.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kTargetMs = 100;
constexpr int kChangeFiles = 16;         // half random, half text
constexpr int kChangeFileBytes = 65536;  // 16 x 64 KiB = 1 MiB

[[noreturn]] void die(std::string_view message) {
  fmt::print(stderr, "kiln_snapshot_bench: {}\n", message);
  std::exit(1);
}

template <typename T>
T must(kiln::Result<T> result, std::string_view what) {
  if (!result.ok()) {
    die(fmt::format("{}: {}", what, result.error().message));
  }
  return std::move(*result);
}

void must(const kiln::Status& status, std::string_view what) {
  if (!status.ok()) {
    die(fmt::format("{}: {}", what, status.error().message));
  }
}

struct Options {
  std::string kiln;
  std::string sandbox_init;
  int reps = 10;
  bool keep = false;
};

Options parse_options(int argc, char** argv) {
  const char* usage = "usage: kiln_snapshot_bench KILN_BINARY SANDBOX_INIT [--reps N] [--keep]";
  if (argc < 3) {
    die(usage);
  }
  Options options{argv[1], argv[2]};
  for (int i = 3; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--keep") {
      options.keep = true;
    } else if (arg == "--reps" && i + 1 < argc) {
      options.reps = std::max(1, std::atoi(argv[++i]));
    } else {
      die(usage);
    }
  }
  return options;
}

// A deterministic generator (xorshift), so every run builds the same large parent.
class Random {
 public:
  uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

// Text from made-up words (compresses 3-4x, like documentation and scripts).
std::string text(Random& random, size_t size) {
  std::string out;
  out.reserve(size + 16);
  while (out.size() < size) {
    for (uint64_t n = 2 + random.below(9); n > 0; --n) {
      out += static_cast<char>('a' + random.below(26));
    }
    out += random.below(12) == 0 ? '\n' : ' ';
  }
  out.resize(size);
  return out;
}

// Bytes like machine code: half zeros and small values (compresses about 2x).
std::string binary(Random& random, size_t size) {
  std::string out(size, '\0');
  for (char& c : out) {
    uint64_t r = random.next();
    c = static_cast<char>((r & 1) != 0 ? 0 : ((r & 6) != 0 ? (r >> 8) & 0x0f : r >> 16));
  }
  return out;
}

// Content bytes (regular files, each counted once) and entries of a tree.
struct TreeSize {
  uint64_t bytes = 0;
  uint64_t entries = 0;
};

TreeSize tree_size(const std::vector<fs::path>& roots) {
  TreeSize size;
  for (const fs::path& root : roots) {
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
      ++size.entries;
      if (entry.is_regular_file() && !entry.is_symlink()) {
        size.bytes += entry.file_size();
      }
    }
  }
  return size;
}

// The large parent's folder: the small parent's files plus generated ones (60 % text in small
// files under usr/share, 40 % binary-like under usr/lib) until it holds `total` bytes.
void make_large_tree(const fs::path& small_root, const fs::path& dir, uint64_t total) {
  fs::copy(small_root, dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  uint64_t written = tree_size({dir}).bytes;
  uint64_t text_until = written + (total - written) * 6 / 10;
  Random random;
  for (int index = 0; written < total; ++index) {
    bool is_text = written < text_until;
    fs::path folder =
        dir / (is_text ? "usr/share/bench" : "usr/lib/bench") / fmt::format("d{:02}", index % 16);
    fs::create_directories(folder);
    std::string content = is_text ? text(random, 512 + random.below(32 * 1024))
                                  : binary(random, 16 * 1024 + random.below(512 * 1024));
    must(kiln::write_file(folder / fmt::format("f{:05}", index), content), "writing the tree");
    written += content.size();
  }
}

// Hashes and counts, as the store's writer does, but keeps nothing.
class HashingWriter final : public kiln::store::BlobWriter {
 public:
  kiln::Status write(std::string_view data) override {
    hasher_.update(data);
    size_ += data.size();
    return kiln::ok_status();
  }
  kiln::Result<std::pair<kiln::store::Digest, uint64_t>> commit(
      const kiln::store::Digest& /*expected*/) override {
    return std::make_pair(hasher_.finish(), size_);
  }

 private:
  kiln::store::DigestHasher hasher_;
  uint64_t size_ = 0;
};

double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);  // every thread: zstd's workers included
  auto ms = [](timeval t) { return static_cast<double>(t.tv_sec) * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

Timing measure(const std::function<void()>& work) {
  double cpu = cpu_ms();
  auto start = Clock::now();
  work();
  std::chrono::duration<double, std::milli> wall = Clock::now() - start;
  return {wall.count(), cpu_ms() - cpu};
}

double median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Series {
  std::vector<double> wall;
  std::vector<double> cpu;
  void add(Timing t) {
    wall.push_back(t.wall_ms);
    cpu.push_back(t.cpu_ms);
  }
};

struct Parent {
  std::string label;  // "small" or "large"
  kiln::store::ImageVersion image;
  std::vector<fs::path> lower;
  TreeSize size;
  uint64_t blob_bytes = 0;  // its layers as stored (compressed)
  Series snapshot, layer_only, store_update;
  std::vector<double> upper_bytes, upper_entries, layer_bytes;
};

std::string load_average() {
  kiln::Result<std::string> text = kiln::read_file("/proc/loadavg");
  if (!text.ok()) {
    return "?";
  }
  std::vector<std::string> words;
  size_t start = 0;
  while (words.size() < 3) {
    size_t end = text->find(' ', start);
    if (end == std::string::npos) {
      break;
    }
    words.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  std::string joined;
  for (const std::string& word : words) {
    joined += joined.empty() ? word : " " + word;
  }
  return joined;
}

std::string file_system_name(const fs::path& path) {
  struct statfs info {};
  if (statfs(path.c_str(), &info) != 0) {
    return "unknown";
  }
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x9123683E:
      return "btrfs";
    case 0x58465342:
      return "xfs";
    default:
      return fmt::format("0x{:x}", static_cast<unsigned long>(info.f_type));
  }
}

// The shell command that writes the change inside the instance.
std::string change_script() {
  return fmt::format(
      "set -e; mkdir -p /root/change; i=0; while [ $i -lt {half} ]; do "
      "head -c {size} /dev/urandom > /root/change/random-$i.bin; "
      "yes \"line $i of a changed text file, as a build step would write\" | "
      "head -c {size} > /root/change/text-$i.txt; i=$((i + 1)); done",
      fmt::arg("half", kChangeFiles / 2),
      fmt::arg("size", kChangeFileBytes));
}

class Bench {
 public:
  Bench(kiln::image::Images& images, kiln::instance::Instances& instances)
      : images_(images), instances_(instances) {}

  void round(Parent& parent, int number, bool record) {
    kiln::instance::LaunchRequest request{
        parent.image.str(), parent.image.manifest.digest.str(), parent.lower};
    kiln::instance::InstanceRecord instance =
        must(instances_.launch(request), "launching an instance of " + parent.image.str());
    int code = must(instances_.exec(instance.id, {"/bin/sh", "-c", change_script()}),
                    "writing the change in " + instance.id);
    if (code != 0) {
      die(fmt::format("writing the change in {} exited with {}", instance.id, code));
    }
    must(instances_.stop(instance.id), "stopping " + instance.id);
    const fs::path& upper = instance.sandbox.upper;
    TreeSize changed = tree_size({upper});

    Timing layer_only = measure([&] {
      HashingWriter sink;
      must(kiln::store::write_layer_from_upper(upper, images_.layer_format, sink),
           "writing the layer to a hashing sink");
    });

    std::string version = fmt::format("1.0.{}", number);
    kiln::store::ImageVersion made;
    Timing snapshot = measure([&] {
      made =
          must(images_.snapshot(upper,
                                parent.image,
                                {"bench-snap-" + parent.label,
                                 must(kiln::catalog::SemanticVersion::parse(version), "version")},
                                "kiln_snapshot_bench " + instance.id),
               "snapshot of " + instance.id);
    });

    // The store update alone: one more image made of the layer the snapshot wrote.
    kiln::store::ImageStore& store = images_.store();
    kiln::store::Manifest manifest = must(store.manifest(made.manifest.digest), "manifest");
    kiln::store::ImageConfig config = must(store.config(manifest), "config");
    kiln::store::ImageRecord again;
    again.name = "bench-update-" + parent.label;
    again.version = made.version;
    again.parent = parent.image.manifest.digest;
    again.layers.push_back(manifest.layers.back());
    again.diff_ids.push_back(config.diff_ids.back());
    again.created_by.push_back("kiln_snapshot_bench store update");
    Timing update = measure([&] { must(store.add_image(again), "adding an image"); });

    must(instances_.terminate(instance.id), "terminating " + instance.id);
    if (record) {
      parent.snapshot.add(snapshot);
      parent.layer_only.add(layer_only);
      parent.store_update.add(update);
      parent.upper_bytes.push_back(static_cast<double>(changed.bytes));
      parent.upper_entries.push_back(static_cast<double>(changed.entries));
      parent.layer_bytes.push_back(static_cast<double>(manifest.layers.back().size));
    }
  }

 private:
  kiln::image::Images& images_;
  kiln::instance::Instances& instances_;
};

Parent prepare(kiln::image::Images& images, std::string label, kiln::store::ImageVersion image) {
  Parent parent;
  parent.label = std::move(label);
  parent.image = std::move(image);
  parent.lower = must(images.lower_dirs(parent.image), "unpacking " + parent.image.str());
  parent.size = tree_size(parent.lower);
  kiln::store::Manifest manifest =
      must(images.store().manifest(parent.image.manifest.digest), "manifest");
  for (const kiln::store::Descriptor& layer : manifest.layers) {
    parent.blob_bytes += layer.size;
  }
  return parent;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  if (::geteuid() != 0 || !kiln::os::find_program("bwrap") || !kiln::os::find_program("nsenter") ||
      !kiln::os::find_program("busybox")) {
    fmt::print("snapshot benchmark skipped: it needs root, bubblewrap, nsenter and busybox\n");
    return 0;
  }
  std::string load_before = load_average();
  kiln::TempDir dir = must(kiln::TempDir::create("kiln-snapshot-bench-"), "temporary folder");
  if (options.keep) {
    dir.keep();
  }
  fs::path root = dir.path() / "root";
  std::unique_ptr<kiln::image::Images> images =
      must(kiln::image::Images::open(root), "opening the store");
  kiln::instance::Helpers helpers;
  helpers.kiln = options.kiln;
  helpers.sandbox_init = options.sandbox_init;
  kiln::instance::Instances instances(root, helpers);

  auto version = must(kiln::catalog::SemanticVersion::parse("1.0.0"), "version");
  kiln::image::BootstrapOptions busybox;
  busybox.distribution = "busybox";
  Parent small =
      prepare(*images,
              "small",
              must(images->bootstrap(busybox, {"bench-small", version}), "bootstrapping busybox"));
  fs::path large_tree = dir.path() / "large-tree";
  make_large_tree(small.lower.front(), large_tree, small.size.bytes * 10);
  Parent large =
      prepare(*images,
              "large",
              must(images->import(
                       large_tree, kiln::image::SourceFormat::kDirectory, {"bench-large", version}),
                   "importing the large parent"));
  fs::remove_all(large_tree);

  Bench bench(*images, instances);
  for (int round = 0; round <= options.reps; ++round) {  // round 0 warms up, is not counted
    bool small_first = round % 2 == 0;
    bench.round(small_first ? small : large, round, round > 0);
    bench.round(small_first ? large : small, round, round > 0);
  }
  std::string load_after = load_average();

  fmt::print(
      "snapshot benchmark: median of {} rounds after one warm-up; {} cores; load average {} "
      "before, {} after\n",
      options.reps,
      std::thread::hardware_concurrency(),
      load_before,
      load_after);
  fmt::print(
      "temporary folder {} on {}{}; the change written from inside each instance: {} "
      "files, {} KiB ({} random, {} text)\n\n",
      dir.path().string(),
      file_system_name(dir.path()),
      options.keep ? " (kept)" : "",
      kChangeFiles,
      kChangeFiles * kChangeFileBytes / 1024,
      kChangeFiles / 2,
      kChangeFiles / 2);
  fmt::print("{:<7} {:>10} {:>8} {:>10} {:>10} {:>9} {:>10}\n",
             "parent",
             "files MB",
             "entries",
             "layers MB",
             "upper MB",
             "upper n",
             "layer MB");
  for (const Parent* p : {&small, &large}) {
    fmt::print("{:<7} {:>10.2f} {:>8} {:>10.2f} {:>10.2f} {:>9.0f} {:>10.3f}\n",
               p->label,
               p->size.bytes / 1e6,
               p->size.entries,
               p->blob_bytes / 1e6,
               median(p->upper_bytes) / 1e6,
               median(p->upper_entries),
               median(p->layer_bytes) / 1e6);
  }
  fmt::print("\n{:<7} {:<16} {:>9} {:>9} {:>9} {:>9}   {}\n",
             "parent",
             "measure",
             "wall ms",
             "min",
             "max",
             "cpu ms",
             "target");
  for (const Parent* p : {&small, &large}) {
    double wall = median(p->snapshot.wall);
    fmt::print("{:<7} {:<16} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}   < {:.0f} ms: {}\n",
               p->label,
               "snapshot",
               wall,
               *std::min_element(p->snapshot.wall.begin(), p->snapshot.wall.end()),
               *std::max_element(p->snapshot.wall.begin(), p->snapshot.wall.end()),
               median(p->snapshot.cpu),
               kTargetMs,
               wall < kTargetMs ? "PASS" : "MISS");
    for (const auto& [name, series] : {std::pair{"layer, no disk", &p->layer_only},
                                       std::pair{"store update", &p->store_update}}) {
      fmt::print("{:<7} {:<16} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}\n",
                 p->label,
                 name,
                 median(series->wall),
                 *std::min_element(series->wall.begin(), series->wall.end()),
                 *std::max_element(series->wall.begin(), series->wall.end()),
                 median(series->cpu));
    }
  }
  double small_ms = median(small.snapshot.wall);
  double large_ms = median(large.snapshot.wall);
  double ratio = large_ms / small_ms;
  bool pass = small_ms < kTargetMs && large_ms < kTargetMs;
  fmt::print("\nparent size ratio large/small {:.1f}x; snapshot time ratio large/small {:.2f}x\n",
             static_cast<double>(large.size.bytes) / static_cast<double>(small.size.bytes),
             ratio);

  auto json_parent = [](const Parent& p) {
    return fmt::format(
        R"({{"parent_bytes":{},"parent_entries":{},"parent_blob_bytes":{},"upper_bytes":{:.0f},)"
        R"("layer_bytes":{:.0f},"snapshot":{{"wall_ms":{:.3f},"cpu_ms":{:.3f}}},)"
        R"("layer_no_disk":{{"wall_ms":{:.3f},"cpu_ms":{:.3f}}},)"
        R"("store_update":{{"wall_ms":{:.3f},"cpu_ms":{:.3f}}},"pass":{}}})",
        p.size.bytes,
        p.size.entries,
        p.blob_bytes,
        median(p.upper_bytes),
        median(p.layer_bytes),
        median(p.snapshot.wall),
        median(p.snapshot.cpu),
        median(p.layer_only.wall),
        median(p.layer_only.cpu),
        median(p.store_update.wall),
        median(p.store_update.cpu),
        median(p.snapshot.wall) < kTargetMs ? "true" : "false");
  };
  fmt::print(R"({{"bench":"kiln-snapshot","reps":{},"cpus":{},"load_average_before":"{}",)"
             R"("load_average_after":"{}","temp_file_system":"{}","change_bytes":{},"small":{},)"
             R"("large":{},"ratio_large_small":{:.3f},"target_ms":{:.0f},"pass":{}}})"
             "\n",
             options.reps,
             std::thread::hardware_concurrency(),
             load_before,
             load_after,
             file_system_name(dir.path()),
             kChangeFiles * kChangeFileBytes,
             json_parent(small),
             json_parent(large),
             ratio,
             kTargetMs,
             pass ? "true" : "false");
  return 0;
}
