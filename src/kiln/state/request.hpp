#pragma once

// Checks of API requests against AWS's member constraints. Every error is kInvalidArgument and
// names the member ("invalid description: at most 1024 characters").

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::state::request {

Error invalid(std::string_view member, std::string_view why);

// The names of an absolute path of plain names ("/var/log/kiln" -> var, log, kiln; one trailing
// '/' is fine), or nullopt when it is relative or has an empty, '.' or '..' part or a NUL.
std::optional<std::vector<std::string>> plain_absolute_names(std::string_view path);

// `request` is an object whose members are all in `allowed` (a misspelt member is an error, not
// silently ignored).
Status check_members(const Json& request,
                     std::string_view what,
                     std::initializer_list<std::string_view> allowed);
// A Create request: its members are create_request_members(type), clientToken and dryRun.
Status check_create_members(const Json& request, std::string_view what, catalog::ResourceType type);

// A string member of `min`..`max` characters.
Result<std::string> required_string(const Json& request,
                                    std::string_view member,
                                    size_t min,
                                    size_t max);
// The same when present.
Result<std::optional<std::string>> optional_string(const Json& request,
                                                   std::string_view member,
                                                   size_t min,
                                                   size_t max);
Status optional_bool(const Json& request, std::string_view member);
Status optional_integer(const Json& request, std::string_view member, int64_t min, int64_t max);
Status optional_object(const Json& request, std::string_view member);
Status optional_array(const Json& request, std::string_view member);
// A list of `min`..`max` non-empty strings.
Status optional_string_list(const Json& request, std::string_view member, size_t min, size_t max);
// A map of at most `max` tags: keys 1-128 characters, string values of at most 256.
Status optional_tags(const Json& request, std::string_view member, size_t max = 50);

// Copies `member` from `from` to `to` when present.
void copy_member(Json& to, const Json& from, std::string_view member);

// The filters of a list call: [{name, values: [strings]}], names among `allowed`.
struct Filter {
  std::string name;
  std::vector<std::string> values;
};
Result<std::vector<Filter>> parse_filters(const Json& filters,
                                          std::initializer_list<std::string_view> allowed);
// True when, for every filter, `object`'s member of the filter's name is a string equal to one
// of its values.
bool matches(const std::vector<Filter>& filters, const Json& object);

// The owner a ListQuery selects: `account_id` for Self, "aws" for Amazon, nothing for the
// owners kiln has none of (Shared, ThirdParty, AWSMarketplace).
Result<std::optional<std::string>> query_owner(const ListQuery& query,
                                               const std::string& account_id);

}  // namespace kiln::state::request
