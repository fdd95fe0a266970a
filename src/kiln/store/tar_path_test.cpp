#include "kiln/store/tar_path.hpp"

#include <gtest/gtest.h>

namespace kiln::store {
namespace {

TEST(CleanEntryPath, CanonicalizesHarmlessNames) {
  struct Case {
    std::string_view name;
    std::string_view clean;
  };
  for (const Case& c : {Case{"etc/passwd", "etc/passwd"},
                        Case{"./etc/passwd", "etc/passwd"},
                        Case{"etc/", "etc"},
                        Case{"./", ""},
                        Case{".", ""},
                        Case{"", ""},
                        Case{"a//b/./c/", "a/b/c"},
                        Case{"a/..b/c..", "a/..b/c.."},
                        Case{"caf\xc3\xa9", "caf\xc3\xa9"}}) {
    Result<std::string> clean = clean_entry_path(c.name);
    ASSERT_TRUE(clean.ok()) << c.name;
    EXPECT_EQ(*clean, c.clean) << c.name;
  }
}

TEST(CleanEntryPath, RefusesEscapesNamingTheEntry) {
  for (std::string_view name :
       {"/etc/passwd", "/", "../evil", "..", "dir/../../evil", "a/../b", "./..", "a/.."}) {
    Result<std::string> clean = clean_entry_path(name);
    ASSERT_FALSE(clean.ok()) << name;
    EXPECT_EQ(clean.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(clean.error().message.find(fmt::format("{:?}", name)), std::string::npos)
        << clean.error().message;
  }
}

TEST(EntryError, EscapesControlCharacters) {
  Error error = entry_error("a\nb", "bad");
  EXPECT_EQ(error.message, "entry \"a\\nb\": bad");
}

TEST(SplitEntryPath, SplitsAtTheLastSlash) {
  EXPECT_EQ(split_entry_path("a/b/c").parent, "a/b");
  EXPECT_EQ(split_entry_path("a/b/c").base, "c");
  EXPECT_EQ(split_entry_path("c").parent, "");
  EXPECT_EQ(split_entry_path("c").base, "c");
}

TEST(ClassifyWhiteout, KnowsEveryKind) {
  EXPECT_EQ(classify_whiteout("passwd").kind, WhiteoutKind::kNone);
  EXPECT_EQ(classify_whiteout(".whatever").kind, WhiteoutKind::kNone);
  EXPECT_EQ(classify_whiteout(".wh..wh..opq").kind, WhiteoutKind::kOpaque);
  EXPECT_EQ(classify_whiteout(".wh..wh.plnk").kind, WhiteoutKind::kMeta);
  Whiteout remove = classify_whiteout(".wh.passwd");
  EXPECT_EQ(remove.kind, WhiteoutKind::kRemove);
  EXPECT_EQ(remove.target, "passwd");
  EXPECT_EQ(classify_whiteout(".wh.").kind, WhiteoutKind::kInvalid);
  EXPECT_EQ(classify_whiteout(".wh..").kind, WhiteoutKind::kInvalid);
  EXPECT_EQ(classify_whiteout(".wh...").kind, WhiteoutKind::kInvalid);
  EXPECT_EQ(classify_whiteout(".wh....").kind, WhiteoutKind::kRemove);
}

}  // namespace
}  // namespace kiln::store
