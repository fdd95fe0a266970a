// Layer compression throughput (bench/README.md): a generated tree of mixed files (100 MB by
// default) written as a layer with zstd (level 3, two worker threads), gzip (level 6) and no
// compression, and the zstd layer unpacked again. Figures only: nothing here fails on a slow
// machine; it exits non-zero only when a layer cannot be written or unpacked.
//
//   kiln_layer_bench [--reps N] [--mb SIZE] [--keep]
//
// Each write goes to two sinks: "hash", a BlobWriter that only hashes and counts (the cost of
// tar + diff_id + compression + blob digest, without a disk), and "store", an FsBlobStore in the
// temporary folder (plus the write, fsync and rename of the blob). MB/s is megabytes (10^6 bytes)
// of uncompressed tar per wall-clock second. CPU time is getrusage(RUSAGE_SELF), every thread of
// this process: zstd's two workers included. The numbers are medians over the rounds, after one
// warm-up round; formats take turns within a round so they see the same machine load.

#include <sys/resource.h>
#include <sys/statfs.h>

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
#include "kiln/store/digest.hpp"
#include "kiln/store/filesystem.hpp"
#include "kiln/store/fs_blob_store.hpp"
#include "kiln/store/layer.hpp"

namespace {

namespace fs = std::filesystem;
using kiln::store::BlobWriter;
using kiln::store::Digest;
using kiln::store::LayerFormat;
using kiln::store::LayerInfo;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  int reps = 3;
  uint64_t megabytes = 100;
  bool keep = false;
};

[[noreturn]] void die(std::string_view message) {
  fmt::print(stderr, "kiln_layer_bench: {}\n", message);
  std::exit(1);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--keep") {
      options.keep = true;
    } else if ((arg == "--reps" || arg == "--mb") && i + 1 < argc) {
      long value = std::strtol(argv[++i], nullptr, 10);
      if (value <= 0) {
        die(fmt::format("{} takes a positive number", arg));
      }
      if (arg == "--reps") {
        options.reps = static_cast<int>(value);
      } else {
        options.megabytes = static_cast<uint64_t>(value);
      }
    } else {
      die("usage: kiln_layer_bench [--reps N] [--mb SIZE] [--keep]");
    }
  }
  return options;
}

// A deterministic generator (xorshift), so every run builds the same tree.
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

// Text from a vocabulary of made-up words: compresses about 3-4x, like configuration, scripts
// and documentation.
std::string text(Random& random, size_t size, const std::vector<std::string>& words) {
  std::string out;
  out.reserve(size + 16);
  while (out.size() < size) {
    out += words[random.below(words.size())];
    out += random.below(12) == 0 ? '\n' : ' ';
  }
  out.resize(size);
  return out;
}

// Bytes like machine code: half zeros and small values, the rest arbitrary; compresses about 2x.
std::string binary(Random& random, size_t size) {
  std::string out(size, '\0');
  for (char& c : out) {
    uint64_t r = random.next();
    c = static_cast<char>((r & 1) != 0 ? 0 : ((r & 6) != 0 ? (r >> 8) & 0x0f : r >> 16));
  }
  return out;
}

// Incompressible bytes, like files that are compressed already.
std::string noise(Random& random, size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t r = random.next();
    std::memcpy(out.data() + i, &r, 8);
  }
  return out;
}

// About `total` bytes: 60 % text (including 2000 small files), 20 % binary, 20 % noise, spread
// over 32 directories of 4 subdirectories each.
uint64_t make_tree(const fs::path& root, uint64_t total) {
  Random random;
  std::vector<std::string> words;
  for (int i = 0; i < 2048; ++i) {
    std::string word;
    for (uint64_t n = 2 + random.below(9); n > 0; --n) {
      word += static_cast<char>('a' + random.below(26));
    }
    words.push_back(std::move(word));
  }
  uint64_t written = 0;
  int index = 0;
  auto put = [&](const std::string& content) {
    fs::path dir = root / fmt::format("d{:02}", index % 32) / fmt::format("s{}", index / 32 % 4);
    fs::create_directories(dir);
    kiln::Status status = kiln::write_file(dir / fmt::format("f{:05}", index++), content);
    if (!status.ok()) {
      die(status.error().message);
    }
    written += content.size();
  };
  for (int i = 0; i < 2000; ++i) {
    put(text(random, random.below(4096), words));
  }
  while (written < total * 6 / 10) {
    put(text(random, 1024 + random.below(256 * 1024), words));
  }
  while (written < total * 8 / 10) {
    put(binary(random, 64 * 1024 + random.below(2 * 1024 * 1024)));
  }
  while (written < total) {
    put(noise(random, 1024 * 1024 + random.below(3 * 1024 * 1024)));
  }
  return written;
}

// Hashes and counts, as a store's writer does, but keeps nothing.
class HashingWriter final : public BlobWriter {
 public:
  kiln::Status write(std::string_view data) override {
    hasher_.update(data);
    size_ += data.size();
    return kiln::ok_status();
  }
  kiln::Result<std::pair<Digest, uint64_t>> commit(const Digest& /*expected*/) override {
    return std::make_pair(hasher_.finish(), size_);
  }

 private:
  kiln::store::DigestHasher hasher_;
  uint64_t size_ = 0;
};

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](timeval t) { return static_cast<double>(t.tv_sec) * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

Timing measure(const std::function<void()>& work) {
  double cpu = cpu_ms();
  auto start = SteadyClock::now();
  work();
  std::chrono::duration<double, std::milli> wall = SteadyClock::now() - start;
  return {wall.count(), cpu_ms() - cpu};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One row of the table: a format written to a sink, or an unpack.
struct Figure {
  std::string name;
  LayerFormat format = LayerFormat::kZstd;
  std::string sink;  // "hash", "store" or "unpack"
  std::vector<double> wall_ms;
  std::vector<double> cpu_ms;
  LayerInfo layer;
  uint64_t tar_bytes = 0;
};

std::string format_name(LayerFormat format) {
  switch (format) {
    case LayerFormat::kZstd:
      return "zstd";
    case LayerFormat::kGzip:
      return "gzip";
    case LayerFormat::kUncompressed:
      return "tar";
  }
  return "?";
}

class Bench {
 public:
  // Written layers go to one store, the layer to unpack to another, so that removing the
  // first's blobs between rounds never touches the second's.
  Bench(fs::path folder, fs::path tree)
      : folder_(std::move(folder)),
        tree_(std::move(tree)),
        blobs_(filesystem_, folder_ / "store"),
        unpack_blobs_(filesystem_, folder_ / "unpack-store") {
    for (kiln::store::FsBlobStore* store : {&blobs_, &unpack_blobs_}) {
      if (kiln::Status status = store->create(); !status.ok()) {
        die(status.error().message);
      }
    }
  }

  void write(Figure& figure, bool record) {
    LayerInfo info;
    Timing t = measure([&] {
      std::unique_ptr<BlobWriter> writer;
      if (figure.sink == "hash") {
        writer = std::make_unique<HashingWriter>();
      } else {
        writer = std::move(blobs_.writer()).value();
      }
      kiln::Result<LayerInfo> result =
          kiln::store::write_layer_from_tree(tree_, figure.format, *writer);
      if (!result.ok()) {
        die(result.error().message);
      }
      info = *result;
    });
    if (figure.sink == "store") {
      (void)blobs_.remove(info.digest);  // the next round writes it afresh
    }
    record_timing(figure, t, record);
    figure.layer = info;
  }

  // Unpacks the zstd layer (written to the store once, untimed) into a fresh folder.
  void unpack(Figure& figure, bool record) {
    if (figure.layer.digest.empty()) {
      std::unique_ptr<BlobWriter> writer = std::move(unpack_blobs_.writer()).value();
      kiln::Result<LayerInfo> info =
          kiln::store::write_layer_from_tree(tree_, LayerFormat::kZstd, *writer);
      if (!info.ok()) {
        die(info.error().message);
      }
      figure.layer = *info;
    }
    fs::path target = folder_ / "unpacked";
    std::error_code ignored;
    fs::remove_all(target, ignored);
    fs::create_directories(target);
    Timing t = measure([&] {
      kiln::Result<kiln::store::UnpackStats> stats = kiln::store::unpack_layer(
          unpack_blobs_.path(figure.layer.digest), figure.layer.media_type, target);
      if (!stats.ok()) {
        die(stats.error().message);
      }
    });
    record_timing(figure, t, record);
  }

 private:
  static void record_timing(Figure& figure, Timing t, bool record) {
    if (record) {
      figure.wall_ms.push_back(t.wall_ms);
      figure.cpu_ms.push_back(t.cpu_ms);
    }
  }

  fs::path folder_;
  fs::path tree_;
  kiln::store::RealFilesystem filesystem_;
  kiln::store::FsBlobStore blobs_;
  kiln::store::FsBlobStore unpack_blobs_;
};

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
    case 0x794c7630:
      return "overlayfs";
    default:
      return fmt::format("0x{:x}", static_cast<unsigned long>(info.f_type));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  kiln::Result<kiln::TempDir> dir = kiln::TempDir::create("kiln-layer-bench-");
  if (!dir) {
    die(dir.error().message);
  }
  if (options.keep) {
    dir->keep();
  }
  fs::path tree = dir->path() / "tree";
  uint64_t content = make_tree(tree, options.megabytes * 1000 * 1000);

  std::vector<Figure> figures;
  for (const char* sink : {"hash", "store"}) {
    for (LayerFormat format :
         {LayerFormat::kZstd, LayerFormat::kGzip, LayerFormat::kUncompressed}) {
      figures.push_back(Figure{format_name(format) + " -> " + sink, format, sink, {}, {}, {}, 0});
    }
  }
  figures.push_back(Figure{"unpack zstd", LayerFormat::kZstd, "unpack", {}, {}, {}, 0});

  Bench bench(dir->path(), tree);
  for (int round = 0; round <= options.reps; ++round) {
    for (Figure& figure : figures) {
      if (figure.sink == "unpack") {
        bench.unpack(figure, round > 0);
      } else {
        bench.write(figure, round > 0);
      }
    }
  }
  // The uncompressed tar's size is the "tar" layer's blob size.
  uint64_t tar_bytes = 0;
  for (const Figure& figure : figures) {
    if (figure.format == LayerFormat::kUncompressed) {
      tar_bytes = figure.layer.size;
    }
  }

  fmt::print(
      "layer benchmark: {} files' content {:.1f} MB, tar {:.1f} MB; median of {} rounds "
      "after one warm-up; {} cores\n",
      tree.string(),
      content / 1e6,
      tar_bytes / 1e6,
      options.reps,
      std::thread::hardware_concurrency());
  fmt::print("temporary folder {} on {}{}\n\n",
             dir->path().string(),
             file_system_name(dir->path()),
             options.keep ? " (kept)" : "");
  fmt::print("{:<16} {:>10} {:>8} {:>10} {:>8} {:>10} {:>9}\n",
             "layer",
             "blob MB",
             "ratio",
             "wall ms",
             "MB/s",
             "cpu ms",
             "cpu/wall");
  std::string json = fmt::format(
      R"({{"bench":"layer","tar_bytes":{},"reps":{},"results":[)", tar_bytes, options.reps);
  for (const Figure& figure : figures) {
    double wall = median(figure.wall_ms);
    double cpu = median(figure.cpu_ms);
    double mbps = tar_bytes / 1e6 / (wall / 1e3);
    double ratio = static_cast<double>(tar_bytes) / static_cast<double>(figure.layer.size);
    fmt::print("{:<16} {:>10.1f} {:>7.2f}x {:>10.0f} {:>8.1f} {:>10.0f} {:>9.2f}\n",
               figure.name,
               figure.layer.size / 1e6,
               ratio,
               wall,
               mbps,
               cpu,
               cpu / wall);
    json += fmt::format(
        R"({}{{"name":"{}","blob_bytes":{},"wall_ms":{:.1f},"cpu_ms":{:.1f},"mb_per_s":{:.1f}}})",
        &figure == &figures.front() ? "" : ",",
        figure.name,
        figure.layer.size,
        wall,
        cpu,
        mbps);
  }
  fmt::print("\n{}]}}\n", json);
  return 0;
}
