#include "kiln/store/oci.hpp"

#include <initializer_list>

namespace kiln::store {
namespace {

constexpr auto kReplaceInvalidUtf8 = Json::error_handler_t::replace;

std::string dump(const Json& j) {
  // Invalid UTF-8 (a created_by from a command line) is replaced rather than thrown about.
  return j.dump(-1, ' ', false, kReplaceInvalidUtf8);
}

Error bad_field(std::string_view where, std::string_view problem) {
  return make_error(ErrorCode::kCorruption, "\"{}\" {}", where, problem);
}

std::string path_of(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

// The fields of `object` whose keys are not in `known`.
Json extra_fields(const Json& object, std::initializer_list<std::string_view> known) {
  Json extra = Json::object();
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool is_known = false;
    for (std::string_view key : known) {
      is_known = is_known || it.key() == key;
    }
    if (!is_known) {
      extra[it.key()] = it.value();
    }
  }
  return extra;
}

void append_extra(Json& out, const Json& extra) {
  if (!extra.is_object()) {
    return;
  }
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    out[it.key()] = it.value();
  }
}

Result<std::string> string_field(const Json& object,
                                 std::string_view key,
                                 std::string_view where,
                                 bool required) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) {
      return bad_field(path_of(where, key), "is missing");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return bad_field(path_of(where, key), "is not a string");
  }
  return it->get<std::string>();
}

Status check_object(const Json& j, std::string_view where) {
  if (!j.is_object()) {
    return bad_field(where.empty() ? "(top level)" : where, "is not an object");
  }
  return ok_status();
}

Status check_schema_version(const Json& object) {
  auto it = object.find("schemaVersion");
  if (it == object.end() || !it->is_number_integer() || it->get<int64_t>() != 2) {
    return bad_field("schemaVersion", "is not 2");
  }
  return ok_status();
}

Result<Annotations> annotations_field(const Json& object, std::string_view where) {
  Annotations annotations;
  auto it = object.find("annotations");
  if (it == object.end() || it->is_null()) {
    return annotations;
  }
  std::string path = path_of(where, "annotations");
  KILN_TRY(check_object(*it, path));
  for (auto entry = it->begin(); entry != it->end(); ++entry) {
    if (!entry->is_string()) {
      return bad_field(path_of(path, entry.key()), "is not a string");
    }
    annotations[entry.key()] = entry->get<std::string>();
  }
  return annotations;
}

Result<Digest> digest_value(const Json& j, std::string_view where) {
  if (!j.is_string()) {
    return bad_field(where, "is not a string");
  }
  Result<Digest> digest = Digest::parse(j.get<std::string>());
  if (!digest.ok()) {
    return bad_field(where, fmt::format("is not a sha256 digest: {}", j.get<std::string>()));
  }
  return digest;
}

Result<Descriptor> descriptor_from(const Json& j, std::string_view where) {
  KILN_TRY(check_object(j, where));
  Descriptor d;
  d.media_type = KILN_TRY(string_field(j, "mediaType", where, true));
  auto digest = j.find("digest");
  if (digest == j.end()) {
    return bad_field(path_of(where, "digest"), "is missing");
  }
  d.digest = KILN_TRY(digest_value(*digest, path_of(where, "digest")));
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned()) {
    return bad_field(path_of(where, "size"), "is not a number of bytes");
  }
  d.size = size->get<uint64_t>();
  d.annotations = KILN_TRY(annotations_field(j, where));
  d.extra = extra_fields(j, {"mediaType", "digest", "size", "annotations"});
  return d;
}

Result<std::vector<Descriptor>> descriptors_field(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return bad_field(key, "is not an array");
  }
  std::vector<Descriptor> out;
  for (size_t i = 0; i < it->size(); ++i) {
    out.push_back(KILN_TRY(descriptor_from((*it)[i], fmt::format("{}[{}]", key, i))));
  }
  return out;
}

Json annotations_json(const Annotations& annotations) {
  Json out = Json::object();
  for (const auto& [key, value] : annotations) {
    out[key] = value;
  }
  return out;
}

Result<Manifest> manifest_from(const Json& j) {
  KILN_TRY(check_object(j, ""));
  KILN_TRY(check_schema_version(j));
  Manifest m;
  m.media_type = KILN_TRY(string_field(j, "mediaType", "", false));
  if (!m.media_type.empty() && m.media_type != media_type::kImageManifest) {
    return bad_field("mediaType", fmt::format("is {}, not an image manifest", m.media_type));
  }
  auto config = j.find("config");
  if (config == j.end()) {
    return bad_field("config", "is missing");
  }
  m.config = KILN_TRY(descriptor_from(*config, "config"));
  m.layers = KILN_TRY(descriptors_field(j, "layers"));
  m.annotations = KILN_TRY(annotations_field(j, ""));
  m.extra = extra_fields(j, {"schemaVersion", "mediaType", "config", "layers", "annotations"});
  return m;
}

Result<HistoryEntry> history_from(const Json& j, std::string_view where) {
  KILN_TRY(check_object(j, where));
  HistoryEntry h;
  h.created = KILN_TRY(string_field(j, "created", where, false));
  h.created_by = KILN_TRY(string_field(j, "created_by", where, false));
  h.comment = KILN_TRY(string_field(j, "comment", where, false));
  auto empty = j.find("empty_layer");
  if (empty != j.end() && !empty->is_boolean()) {
    return bad_field(path_of(where, "empty_layer"), "is not a boolean");
  }
  h.empty_layer = empty != j.end() && empty->get<bool>();
  return h;
}

Result<std::vector<Digest>> diff_ids_from(const Json& j) {
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end()) {
    return bad_field("rootfs", "is missing");
  }
  KILN_TRY(check_object(*rootfs, "rootfs"));
  std::string type = KILN_TRY(string_field(*rootfs, "type", "rootfs", true));
  if (type != "layers") {
    return bad_field("rootfs.type", "is not \"layers\"");
  }
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array()) {
    return bad_field("rootfs.diff_ids", "is not an array");
  }
  std::vector<Digest> out;
  for (size_t i = 0; i < ids->size(); ++i) {
    out.push_back(KILN_TRY(digest_value((*ids)[i], fmt::format("rootfs.diff_ids[{}]", i))));
  }
  return out;
}

Result<ImageConfig> image_config_from(const Json& j) {
  KILN_TRY(check_object(j, ""));
  ImageConfig c;
  c.created = KILN_TRY(string_field(j, "created", "", false));
  c.architecture = KILN_TRY(string_field(j, "architecture", "", true));
  c.os = KILN_TRY(string_field(j, "os", "", true));
  auto config = j.find("config");
  if (config != j.end() && !config->is_null()) {
    KILN_TRY(check_object(*config, "config"));
    c.config = *config;
  }
  c.diff_ids = KILN_TRY(diff_ids_from(j));
  auto history = j.find("history");
  if (history != j.end() && !history->is_null()) {
    if (!history->is_array()) {
      return bad_field("history", "is not an array");
    }
    for (size_t i = 0; i < history->size(); ++i) {
      c.history.push_back(KILN_TRY(history_from((*history)[i], fmt::format("history[{}]", i))));
    }
  }
  c.extra = extra_fields(j, {"created", "architecture", "os", "config", "rootfs", "history"});
  return c;
}

Result<Index> index_from(const Json& j) {
  KILN_TRY(check_object(j, ""));
  KILN_TRY(check_schema_version(j));
  Index index;
  index.media_type = KILN_TRY(string_field(j, "mediaType", "", false));
  if (index.media_type.empty()) {
    index.media_type = std::string(media_type::kImageIndex);  // optional in a layout's index.json
  } else if (index.media_type != media_type::kImageIndex) {
    return bad_field("mediaType", fmt::format("is {}, not an image index", index.media_type));
  }
  index.manifests = KILN_TRY(descriptors_field(j, "manifests"));
  index.annotations = KILN_TRY(annotations_field(j, ""));
  index.extra = extra_fields(j, {"schemaVersion", "mediaType", "manifests", "annotations"});
  return index;
}

// Parses `text` and converts it with `convert`; every failure, thrown or returned, becomes one
// kCorruption error naming `source` and what it should have been.
template <typename T, typename Convert>
Result<T> from_json(std::string_view text,
                    std::string_view source,
                    std::string_view kind,
                    Convert convert) {
  Error error;
  try {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return make_error(ErrorCode::kCorruption, "{} is not a valid {}: not JSON", source, kind);
    }
    Result<T> converted = convert(j);
    if (converted.ok()) {
      return converted;
    }
    error = converted.error();
  } catch (const std::exception& e) {  // nlohmann throws on surprises we did not check for
    error = Error{ErrorCode::kCorruption, e.what()};
  }
  return make_error(
      ErrorCode::kCorruption, "{} is not a valid {}: {}", source, kind, error.message);
}

}  // namespace

std::string Descriptor::annotation(std::string_view key) const {
  auto it = annotations.find(key);
  return it == annotations.end() ? std::string() : it->second;
}

Json descriptor_to_json(const Descriptor& d) {
  Json out = Json::object();
  out["mediaType"] = d.media_type;
  out["digest"] = d.digest.str();
  out["size"] = d.size;
  if (!d.annotations.empty()) {
    out["annotations"] = annotations_json(d.annotations);
  }
  append_extra(out, d.extra);
  return out;
}

std::string to_json(const Manifest& m) {
  Json out = Json::object();
  out["schemaVersion"] = 2;
  if (!m.media_type.empty()) {
    out["mediaType"] = m.media_type;
  }
  out["config"] = descriptor_to_json(m.config);
  out["layers"] = Json::array();
  for (const Descriptor& layer : m.layers) {
    out["layers"].push_back(descriptor_to_json(layer));
  }
  if (!m.annotations.empty()) {
    out["annotations"] = annotations_json(m.annotations);
  }
  append_extra(out, m.extra);
  return dump(out);
}

std::string to_json(const ImageConfig& c) {
  Json out = Json::object();
  if (!c.created.empty()) {
    out["created"] = c.created;
  }
  out["architecture"] = c.architecture;
  out["os"] = c.os;
  if (!c.config.is_null()) {
    out["config"] = c.config;
  }
  Json diff_ids = Json::array();
  for (const Digest& id : c.diff_ids) {
    diff_ids.push_back(id.str());
  }
  out["rootfs"] = Json{{"type", "layers"}, {"diff_ids", diff_ids}};
  if (!c.history.empty()) {
    out["history"] = Json::array();
    for (const HistoryEntry& h : c.history) {
      Json entry = Json::object();
      if (!h.created.empty()) {
        entry["created"] = h.created;
      }
      if (!h.created_by.empty()) {
        entry["created_by"] = h.created_by;
      }
      if (!h.comment.empty()) {
        entry["comment"] = h.comment;
      }
      if (h.empty_layer) {
        entry["empty_layer"] = true;
      }
      out["history"].push_back(std::move(entry));
    }
  }
  append_extra(out, c.extra);
  return dump(out);
}

std::string to_json(const Index& index) {
  Json out = Json::object();
  out["schemaVersion"] = 2;
  out["mediaType"] = index.media_type;
  out["manifests"] = Json::array();
  for (const Descriptor& d : index.manifests) {
    out["manifests"].push_back(descriptor_to_json(d));
  }
  if (!index.annotations.empty()) {
    out["annotations"] = annotations_json(index.annotations);
  }
  append_extra(out, index.extra);
  return dump(out);
}

Result<Manifest> manifest_from_json(std::string_view text, std::string_view source) {
  return from_json<Manifest>(text, source, "image manifest", manifest_from);
}

Result<ImageConfig> image_config_from_json(std::string_view text, std::string_view source) {
  return from_json<ImageConfig>(text, source, "image config", image_config_from);
}

Result<Index> index_from_json(std::string_view text, std::string_view source) {
  return from_json<Index>(text, source, "image index", index_from);
}

std::string oci_layout_json() {
  return dump(Json{{"imageLayoutVersion", kImageLayoutVersion}});
}

Status check_oci_layout(std::string_view text, std::string_view source) {
  auto check = [](const Json& j) -> Result<bool> {
    KILN_TRY(check_object(j, ""));
    std::string version = KILN_TRY(string_field(j, "imageLayoutVersion", "", true));
    if (!version.starts_with("1.")) {
      return bad_field("imageLayoutVersion", fmt::format("is {}, not 1.x", version));
    }
    return true;
  };
  Result<bool> checked = from_json<bool>(text, source, "OCI layout file", check);
  if (!checked.ok()) {
    return checked.error();
  }
  return ok_status();
}

}  // namespace kiln::store
