#include "kiln/toe/file_attributes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiln::toe {
namespace {

TEST(ParsePermissions, TakesThreeOrFourOctalDigits) {
  EXPECT_EQ(parse_permissions("644").value_or(0), 0644u);
  EXPECT_EQ(parse_permissions("0755").value_or(0), 0755u);
  EXPECT_EQ(parse_permissions("2775").value_or(0), 02775u);
  for (const char* bad : {"", "64", "07555", "u+x", "648", " 644", "-644"}) {
    Result<mode_t> mode = parse_permissions(bad);
    ASSERT_FALSE(mode.ok()) << bad;
    EXPECT_EQ(mode.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(mode.error().message,
              fmt::format("permissions '{}' must be 3 or 4 octal digits, such as \"0755\" or "
                          "\"644\"",
                          bad));
  }
}

constexpr uid_t kUnchangedUid = static_cast<uid_t>(-1);
constexpr gid_t kUnchangedGid = static_cast<gid_t>(-1);

// resolve_owner(owner, group) as "uid gid text", or the error message.
std::string resolved(const std::string& owner, const std::string& group) {
  Result<Owner> out = resolve_owner(owner, group);
  return out.ok() ? fmt::format("{} {} {}", out->uid, out->gid, out->text) : out.error().message;
}

TEST(ResolveOwner, NamesGetThePrimaryGroup) {
  EXPECT_EQ(resolved("root", ""), "0 0 root");
}

TEST(ResolveOwner, DigitsAreIdsWhenNoNameMatches) {
  EXPECT_EQ(resolved("3999999", "3999998"), "3999999 3999998 3999999:3999998");
  // An unknown numeric owner leaves the group as it is.
  EXPECT_EQ(resolved("3999999", ""), fmt::format("3999999 {} 3999999", kUnchangedGid));
}

TEST(ResolveOwner, AGroupAloneKeepsTheOwner) {
  EXPECT_EQ(resolved("", "0"), fmt::format("{} 0 :0", kUnchangedUid));
}

TEST(ResolveOwner, UnknownNamesAreNotFound) {
  Result<Owner> user = resolve_owner("no-such-user-kiln", "");
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(user.error().message, "unknown user 'no-such-user-kiln'");
  Result<Owner> group = resolve_owner("root", "no-such-group-kiln");
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().message, "unknown group 'no-such-group-kiln'");
}

TEST(ParseFileAttributes, ReadsOnlyWhatIsGiven) {
  Result<FileAttributes> none = parse_file_attributes(Json::object());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->mode.has_value());
  EXPECT_FALSE(none->owner.has_value());
  Result<FileAttributes> both =
      parse_file_attributes(Json{{"permissions", "0640"}, {"owner", "0"}, {"group", "0"}});
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->mode, mode_t{0640});
  ASSERT_TRUE(both->owner.has_value());
  EXPECT_EQ(both->owner->text, "0:0");
  EXPECT_FALSE(parse_file_attributes(Json{{"permissions", "rw"}}).ok());
}

}  // namespace
}  // namespace kiln::toe
