#include "kiln/state/catalog_impl.hpp"

#include <algorithm>

namespace kiln::state {

using catalog::ImageBuilderArn;
using catalog::ResourceType;
using catalog::SemanticVersion;

ImageBuilderArn Catalog::Impl::make_arn(ResourceType type,
                                        const std::string& name,
                                        std::optional<SemanticVersion> version,
                                        std::optional<uint32_t> build,
                                        std::string_view owner) const {
  ImageBuilderArn arn;
  arn.partition = account.partition;
  arn.region = account.region;
  arn.account = owner.empty() ? account.account_id : std::string(owner);
  arn.type = type;
  arn.name = catalog::arn_name(name);
  if (version) {
    arn.version = catalog::VersionFilter::exact(*version);
  }
  arn.build = build;
  return arn;
}

Result<ImageBuilderArn> Catalog::Impl::parse_arn(std::string_view text, ResourceType type) const {
  ImageBuilderArn arn = KILN_TRY(ImageBuilderArn::parse(text));
  if (arn.type != type) {
    return make_error(ErrorCode::kInvalidArgument,
                      "\"{}\" is an ARN of a {}, not of a {}",
                      text,
                      catalog::resource_type_name(arn.type),
                      catalog::resource_type_name(type));
  }
  return arn;
}

Result<std::string> Catalog::Impl::owner_of(const ImageBuilderArn& arn, bool managed) const {
  if (arn.account == kManagedOwner && managed) {
    return std::string(kManagedOwner);
  }
  if (arn.account == account.account_id && arn.region == account.region &&
      arn.partition == account.partition) {
    return account.account_id;
  }
  return make_error(ErrorCode::kNotFound,
                    "{}: no such resource here (this kiln holds account {} in region {})",
                    arn.str(),
                    account.account_id,
                    account.region);
}

std::string Catalog::Impl::canonical_arn(const ImageBuilderArn& arn) const {
  if (arn.account != kManagedOwner) {
    return arn.str();
  }
  ImageBuilderArn local = arn;
  local.partition = account.partition;
  local.region = account.region;
  return local.str();
}

Result<Json> parse_stored(const std::string& text, std::string_view arn) {
  Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(ErrorCode::kCorruption, "{}: the stored document is not a JSON object", arn);
  }
  return document;
}

Result<uint32_t> Catalog::Impl::next_build(std::string_view kind,
                                           const std::string& owner,
                                           const std::string& name,
                                           const SemanticVersion& version,
                                           uint32_t min_build) {
  Statement select = KILN_TRY(db.prepare(
      "SELECT last_build FROM build_counters WHERE kind = ? AND owner = ? AND name = ? AND "
      "version = ?"));
  select.bind_all(kind, owner, name, version.str());
  int64_t last = KILN_TRY(select.step()) ? select.column_int(0) : 0;
  int64_t build = std::max<int64_t>(last + 1, min_build);
  if (build > catalog::kMaxVersionNode) {
    return make_error(ErrorCode::kConflict, "{}/{}: no build number left", name, version.str());
  }
  Statement upsert = KILN_TRY(db.prepare(
      "INSERT INTO build_counters (kind, owner, name, version, last_build) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (kind, owner, name, version) DO UPDATE SET last_build = excluded.last_build"));
  upsert.bind_all(kind, owner, name, version.str(), build);
  KILN_TRY(upsert.run());
  return static_cast<uint32_t>(build);
}

Result<std::vector<VersionedRow>> Catalog::Impl::versioned_rows(std::string_view table,
                                                                const std::string& owner,
                                                                const std::string& name) const {
  bool has_build = table != "image_recipes";
  // `table` is one of this module's table names, never user input.
  std::string sql = fmt::format(
      "SELECT arn, major, minor, patch, {}, document FROM {} WHERE owner = ? AND name = ? "
      "ORDER BY major DESC, minor DESC, patch DESC, 5 DESC",
      has_build ? "build" : "0",
      table);
  Statement stmt = KILN_TRY(db.prepare(sql));
  stmt.bind_all(owner, name);
  std::vector<VersionedRow> rows;
  while (KILN_TRY(stmt.step())) {
    VersionedRow row;
    row.arn = stmt.column_text(0);
    row.version.major = static_cast<uint32_t>(stmt.column_int(1));
    row.version.minor = static_cast<uint32_t>(stmt.column_int(2));
    row.version.patch = static_cast<uint32_t>(stmt.column_int(3));
    row.build = static_cast<uint32_t>(stmt.column_int(4));
    row.document = KILN_TRY(parse_stored(stmt.column_text(5), row.arn));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<VersionedRow> Catalog::Impl::resolve(std::string_view table,
                                            const ImageBuilderArn& arn,
                                            const std::string& owner,
                                            std::string_view text) const {
  // Versions first, without the documents: only the match's document is read and parsed (a name
  // with a thousand builds costs a thousand small rows, not a thousand JSON parses).
  bool has_build = table != "image_recipes";
  std::string sql = fmt::format(
      "SELECT arn, major, minor, patch, {} FROM {} WHERE owner = ? AND name = ? "
      "ORDER BY major DESC, minor DESC, patch DESC, 5 DESC",
      has_build ? "build" : "0",
      table);
  Statement stmt = KILN_TRY(db.prepare(sql));
  stmt.bind_all(owner, arn.name);
  catalog::VersionFilter filter = arn.version.value_or(catalog::VersionFilter());
  while (KILN_TRY(stmt.step())) {  // newest first
    VersionedRow row;
    row.version.major = static_cast<uint32_t>(stmt.column_int(1));
    row.version.minor = static_cast<uint32_t>(stmt.column_int(2));
    row.version.patch = static_cast<uint32_t>(stmt.column_int(3));
    row.build = static_cast<uint32_t>(stmt.column_int(4));
    if (filter.matches(row.version) && (!arn.build || *arn.build == row.build)) {
      row.arn = stmt.column_text(0);
      row.document = KILN_TRY(find_by_arn(table, row.arn));
      return row;
    }
  }
  return make_error(
      ErrorCode::kNotFound, "{}: no such {}", text, catalog::resource_type_name(arn.type));
}

Result<std::vector<Json>> Catalog::Impl::documents(std::string_view sql,
                                                   const std::string& owner) const {
  Statement stmt = KILN_TRY(db.prepare(sql));
  stmt.bind_all(owner);
  std::vector<Json> out;
  while (KILN_TRY(stmt.step())) {
    out.push_back(KILN_TRY(parse_stored(stmt.column_text(1), stmt.column_text(0))));
  }
  return out;
}

Result<Json> Catalog::Impl::find_component(std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(parse_arn(text, ResourceType::kComponent));
  std::string owner = KILN_TRY(owner_of(arn, /*managed=*/true));
  VersionedRow row = KILN_TRY(resolve("components", arn, owner, text));
  return std::move(row.document);
}

Result<Json> Catalog::Impl::find_by_arn(std::string_view table, const std::string& arn) const {
  Statement stmt =
      KILN_TRY(db.prepare(fmt::format("SELECT document FROM {} WHERE arn = ?", table)));
  stmt.bind_all(arn);
  if (!KILN_TRY(stmt.step())) {
    return make_error(ErrorCode::kNotFound, "{}: not found", arn);
  }
  return parse_stored(stmt.column_text(0), arn);
}

Status Catalog::Impl::check_no_running_image(std::string_view column,
                                             const std::string& arn,
                                             std::string_view what) const {
  Statement stmt = KILN_TRY(db.prepare(fmt::format(
      "SELECT arn, status FROM images WHERE {} = ? AND status IN ('PENDING', 'CREATING', "
      "'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING') LIMIT 1",
      column)));
  stmt.bind_all(arn);
  if (KILN_TRY(stmt.step())) {
    return make_error(ErrorCode::kConflict,
                      "cannot delete {} {}: image {} ({}) is using it",
                      what,
                      arn,
                      stmt.column_text(0),
                      stmt.column_text(1));
  }
  return ok_status();
}

}  // namespace kiln::state
