// Local regions: the image store folder each region name stands for.

#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {
namespace {

Status check_region_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!ok) {
    return request::invalid("region", fmt::format("\"{}\": a region is [a-z0-9-], 1 to 64", name));
  }
  return ok_status();
}

}  // namespace

Status Catalog::set_region(const std::string& name, const std::filesystem::path& store_dir) {
  KILN_TRY(check_region_name(name));
  if (!store_dir.is_absolute()) {
    return request::invalid("store folder",
                            fmt::format("\"{}\" is not an absolute path", store_dir.string()));
  }
  Statement upsert = KILN_TRY(impl_->db.prepare(
      "INSERT INTO regions (name, store_dir) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
      "store_dir = excluded.store_dir"));
  upsert.bind_all(name, store_dir.string());
  return upsert.run();
}

Result<std::filesystem::path> Catalog::region_store(
    const std::string& name, const std::filesystem::path& default_parent) const {
  KILN_TRY(check_region_name(name));
  Statement stmt = KILN_TRY(impl_->db.prepare("SELECT store_dir FROM regions WHERE name = ?"));
  stmt.bind_all(name);
  if (KILN_TRY(stmt.step())) {
    return std::filesystem::path(stmt.column_text(0));
  }
  return default_parent / name;
}

Result<std::vector<std::pair<std::string, std::filesystem::path>>> Catalog::list_regions() const {
  Statement stmt = KILN_TRY(impl_->db.prepare("SELECT name, store_dir FROM regions ORDER BY name"));
  std::vector<std::pair<std::string, std::filesystem::path>> out;
  while (KILN_TRY(stmt.step())) {
    out.emplace_back(stmt.column_text(0), stmt.column_text(1));
  }
  return out;
}

}  // namespace kiln::state
