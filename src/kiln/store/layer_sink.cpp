#include "kiln/store/layer_sink.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "kiln/base/log.hpp"

namespace kiln::store {
namespace {

constexpr int kZstdLevel = 3;
// Both cores of the machines kiln is built for; zstd's workers compress while libarchive and
// the caller keep producing tar.
constexpr int kZstdWorkers = 2;

class PlainCompressor final : public Compressor {
 public:
  explicit PlainCompressor(BlobWriter& out) : out_(out) {}
  Status write(std::string_view data) override { return out_.write(data); }
  Status finish() override { return ok_status(); }

 private:
  BlobWriter& out_;
};

class ZstdCompressor final : public Compressor {
 public:
  explicit ZstdCompressor(BlobWriter& out)
      : out_(out), cctx_(ZSTD_createCCtx()), buffer_(ZSTD_CStreamOutSize()) {}
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  Status init() {
    if (cctx_ == nullptr) {
      return make_error(ErrorCode::kInternal, "ZSTD_createCCtx failed");
    }
    size_t rc = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, kZstdLevel);
    if (ZSTD_isError(rc)) {
      return failure("setting the zstd level", rc);
    }
    // Fails only when libzstd was built without threads; then it compresses on this thread.
    rc = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, kZstdWorkers);
    if (ZSTD_isError(rc)) {
      KILN_LOG(kWarning, "zstd without worker threads: {}", ZSTD_getErrorName(rc));
    }
    return ok_status();
  }

  Status write(std::string_view data) override { return run(data, ZSTD_e_continue); }
  Status finish() override { return run({}, ZSTD_e_end); }

 private:
  static Error failure(std::string_view what, size_t rc) {
    return make_error(ErrorCode::kInternal, "{}: {}", what, ZSTD_getErrorName(rc));
  }

  // Feeds `data` (all of it) and writes out what zstd produces; with ZSTD_e_end, until the
  // frame is complete.
  Status run(std::string_view data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
      size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(remaining)) {
        return failure("zstd compression", remaining);
      }
      if (out.pos > 0) {
        KILN_TRY(out_.write(std::string_view(buffer_.data(), out.pos)));
      }
      bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) {
        return ok_status();
      }
    }
  }

  BlobWriter& out_;
  ZSTD_CCtx* cctx_;
  std::vector<char> buffer_;
};

class GzipCompressor final : public Compressor {
 public:
  explicit GzipCompressor(BlobWriter& out) : out_(out), buffer_(256 * 1024) {}
  ~GzipCompressor() override {
    if (initialized_) {
      deflateEnd(&stream_);
    }
  }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  Status init() {
    // windowBits 15 + 16: a gzip header (mtime 0, no name), so the output depends only on the
    // input. Default level 6, as Docker and most registries' clients use.
    int rc =
        deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
      return make_error(ErrorCode::kInternal, "deflateInit2 failed: {}", rc);
    }
    initialized_ = true;
    return ok_status();
  }

  Status write(std::string_view data) override {
    while (!data.empty()) {
      size_t n = std::min<size_t>(data.size(), UINT_MAX);
      KILN_TRY(run(data.substr(0, n), Z_NO_FLUSH));
      data.remove_prefix(n);
    }
    return ok_status();
  }
  Status finish() override { return run({}, Z_FINISH); }

 private:
  Status run(std::string_view data, int flush) {
    // zlib's interface is not const-correct; it never writes through next_in.
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(data.size());
    for (;;) {
      stream_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
      stream_.avail_out = static_cast<uInt>(buffer_.size());
      int rc = deflate(&stream_, flush);
      if (rc == Z_STREAM_ERROR) {
        return make_error(ErrorCode::kInternal, "gzip compression failed");
      }
      size_t produced = buffer_.size() - stream_.avail_out;
      if (produced > 0) {
        KILN_TRY(out_.write(std::string_view(buffer_.data(), produced)));
      }
      bool done = flush == Z_FINISH ? rc == Z_STREAM_END : stream_.avail_out != 0;
      if (done) {
        return ok_status();
      }
    }
  }

  BlobWriter& out_;
  z_stream stream_{};
  bool initialized_ = false;
  std::vector<char> buffer_;
};

}  // namespace

Result<std::unique_ptr<Compressor>> make_compressor(LayerFormat format, BlobWriter& out) {
  switch (format) {
    case LayerFormat::kZstd: {
      auto zstd = std::make_unique<ZstdCompressor>(out);
      KILN_TRY(zstd->init());
      return std::unique_ptr<Compressor>(std::move(zstd));
    }
    case LayerFormat::kGzip: {
      auto gzip = std::make_unique<GzipCompressor>(out);
      KILN_TRY(gzip->init());
      return std::unique_ptr<Compressor>(std::move(gzip));
    }
    case LayerFormat::kUncompressed:
      break;
  }
  return std::unique_ptr<Compressor>(std::make_unique<PlainCompressor>(out));
}

Result<LayerSink> LayerSink::create(LayerFormat format, BlobWriter& blob) {
  auto compressor = KILN_TRY(make_compressor(format, blob));
  return LayerSink(format, blob, std::move(compressor));
}

Status LayerSink::write(std::string_view tar_bytes) {
  diff_id_.update(tar_bytes);
  return compressor_->write(tar_bytes);
}

Result<LayerInfo> LayerSink::finish() {
  KILN_TRY_CTX(compressor_->finish(), "compressing the layer");
  auto [digest, size] = KILN_TRY_CTX(blob_->commit(), "storing the layer");
  return LayerInfo{
      std::move(digest), size, diff_id_.finish(), std::string(layer_media_type(format_))};
}

}  // namespace kiln::store
