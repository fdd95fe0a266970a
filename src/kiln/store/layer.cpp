#include "kiln/store/layer.hpp"

#include <fmt/format.h>

namespace kiln::store {

std::string_view layer_media_type(LayerFormat format) {
  switch (format) {
    case LayerFormat::kZstd:
      return kMediaTypeLayerZstd;
    case LayerFormat::kGzip:
      return kMediaTypeLayerGzip;
    case LayerFormat::kUncompressed:
      return kMediaTypeLayerTar;
  }
  return kMediaTypeLayerTar;
}

Result<LayerFormat> layer_format_from_media_type(std::string_view media_type) {
  struct Known {
    std::string_view media_type;
    LayerFormat format;
  };
  static constexpr Known kKnown[] = {
      {kMediaTypeLayerZstd, LayerFormat::kZstd},
      {kMediaTypeLayerGzip, LayerFormat::kGzip},
      {kMediaTypeLayerTar, LayerFormat::kUncompressed},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LayerFormat::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LayerFormat::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", LayerFormat::kUncompressed},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", LayerFormat::kGzip},
  };
  for (const Known& known : kKnown) {
    if (known.media_type == media_type) {
      return known.format;
    }
  }
  return make_error(ErrorCode::kInvalidArgument, "unsupported layer media type {:?}", media_type);
}

}  // namespace kiln::store
