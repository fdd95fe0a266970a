#pragma once

// Internal to the layer code: where the uncompressed tar of a layer goes. A LayerSink hashes it
// (the diff_id), compresses it (zstd level 3 on two worker threads, gzip, or not at all) and
// writes the result to a BlobWriter, which names the blob. Nothing is buffered beyond one
// compressor output buffer.

#include <memory>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/store/blob_store.hpp"
#include "kiln/store/digest.hpp"
#include "kiln/store/layer.hpp"

namespace kiln::store {

// Turns a stream of bytes into compressed bytes written to a BlobWriter.
class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual Status write(std::string_view data) = 0;
  // Flushes everything and ends the compressed stream.
  virtual Status finish() = 0;
};

// A compressor for `format` writing into `out`, which must outlive it.
Result<std::unique_ptr<Compressor>> make_compressor(LayerFormat format, BlobWriter& out);

// The layer being written: write() the tar bytes in order, then finish() once.
// `blob` must outlive the sink.
class LayerSink {
 public:
  static Result<LayerSink> create(LayerFormat format, BlobWriter& blob);

  Status write(std::string_view tar_bytes);
  // Ends the compressed stream and commits the blob. Without finish() the blob is not committed.
  Result<LayerInfo> finish();

 private:
  LayerSink(LayerFormat format, BlobWriter& blob, std::unique_ptr<Compressor> compressor)
      : format_(format), blob_(&blob), compressor_(std::move(compressor)) {}

  LayerFormat format_;
  BlobWriter* blob_;
  std::unique_ptr<Compressor> compressor_;
  DigestHasher diff_id_;
};

}  // namespace kiln::store
