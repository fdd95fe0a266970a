#include "kiln/base/text_encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiln {
namespace {

const TextEncoding& encoding(std::string_view name) {
  const TextEncoding* found = find_text_encoding(name);
  EXPECT_NE(found, nullptr) << name;
  static const TextEncoding kNone{};
  return found != nullptr ? *found : kNone;
}

std::string encoded(std::string_view utf8, std::string_view name, bool at_start = true) {
  Result<std::string> bytes = encode_text(utf8, encoding(name), at_start);
  EXPECT_TRUE(bytes.ok()) << name << ": " << bytes.error().message;
  return bytes.value_or("<error>");
}

std::string decoded(std::string_view bytes, std::string_view name) {
  Result<std::string> text = decode_text(bytes, encoding(name));
  EXPECT_TRUE(text.ok()) << name << ": " << text.error().message;
  return text.value_or("<error>");
}

std::string decode_error(std::string_view bytes, std::string_view name) {
  Result<std::string> text = decode_text(bytes, encoding(name));
  EXPECT_FALSE(text.ok()) << name;
  return text.ok() ? "<ok>" : text.error().message;
}

// "aé€😀": one, two, three and four UTF-8 bytes.
const std::string kText = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";

TEST(FindTextEncoding, KnowsEveryNameIgnoringCase) {
  for (const char* name : {"utf8",
                           "utf-8",
                           "utf16",
                           "utf-16",
                           "utf16-le",
                           "utf-16-le",
                           "utf16-be",
                           "utf-16-be",
                           "utf32",
                           "utf-32",
                           "utf32-le",
                           "utf-32-le",
                           "utf32-be",
                           "utf-32-be",
                           "UTF-16-BE",
                           "Utf8"}) {
    EXPECT_NE(find_text_encoding(name), nullptr) << name;
  }
  for (const char* name : {"", "latin1", "utf16le", "utf-7", "ucs-2", " utf8"}) {
    EXPECT_EQ(find_text_encoding(name), nullptr) << name;
  }
}

TEST(FindTextEncoding, DescribesByteOrderAndMarks) {
  const TextEncoding* utf16 = find_text_encoding("UTF16");
  ASSERT_NE(utf16, nullptr);
  EXPECT_EQ(utf16->name, "utf16");
  EXPECT_EQ(utf16->charset, Charset::kUtf16);
  EXPECT_FALSE(utf16->big_endian);
  EXPECT_TRUE(utf16->byte_order_mark);
  const TextEncoding* be = find_text_encoding("utf-32-be");
  ASSERT_NE(be, nullptr);
  EXPECT_EQ(be->charset, Charset::kUtf32);
  EXPECT_TRUE(be->big_endian);
  EXPECT_FALSE(be->byte_order_mark);
  EXPECT_EQ(find_text_encoding("utf-8")->charset, Charset::kUtf8);
}

TEST(NextUtf8, DecodesOneToFourBytesAndAdvances) {
  size_t pos = 0;
  EXPECT_EQ(next_utf8(kText, &pos), U'a');
  EXPECT_EQ(pos, 1u);
  EXPECT_EQ(next_utf8(kText, &pos), U'\u00E9');
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(next_utf8(kText, &pos), U'\u20AC');
  EXPECT_EQ(pos, 6u);
  EXPECT_EQ(next_utf8(kText, &pos), U'\U0001F600');
  EXPECT_EQ(pos, kText.size());
}

TEST(NextUtf8, RejectsMalformedSequencesWithoutAdvancing) {
  for (std::string bad : {std::string("\xC0\xAF"),          // overlong '/'
                          std::string("\xE0\x80\xAF"),      // overlong, three bytes
                          std::string("\xED\xA0\x80"),      // a surrogate
                          std::string("\xF4\x90\x80\x80"),  // above U+10FFFF
                          std::string("\x80"),              // a stray continuation byte
                          std::string("\xF8\x88\x80\x80"),  // a five-byte lead
                          std::string("\xE2\x82"),          // truncated
                          std::string("\xC3("),             // not a continuation byte
                          std::string("\xFF")}) {
    size_t pos = 0;
    EXPECT_EQ(next_utf8(bad, &pos), std::nullopt) << testing::PrintToString(bad);
    EXPECT_EQ(pos, 0u);
  }
}

TEST(AppendUtf8, EncodesEveryLength) {
  std::string out;
  for (char32_t c : {U'a', U'\u00E9', U'\u20AC', U'\U0001F600'}) {
    append_utf8(out, c);
  }
  EXPECT_EQ(out, kText);
  std::string nul;
  append_utf8(nul, 0);
  EXPECT_EQ(nul, std::string(1, '\0'));
}

TEST(AppendUtf8, RoundTripsThroughNextUtf8) {
  for (char32_t c : {U'\u007F', U'\u0080', U'\u07FF', U'\u0800', U'\uFFFF', U'\U00010000'}) {
    std::string out;
    append_utf8(out, c);
    size_t pos = 0;
    EXPECT_EQ(next_utf8(out, &pos), c);
    EXPECT_EQ(pos, out.size());
  }
}

TEST(ValidateUtf8, NamesTheFirstBadByte) {
  EXPECT_TRUE(validate_utf8(kText).ok());
  EXPECT_TRUE(validate_utf8("").ok());
  Status bad = validate_utf8("ok\xC0\xAF");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "not valid UTF-8 text at byte 2");
}

TEST(WithoutUtf8Mark, DropsOnlyALeadingMark) {
  EXPECT_EQ(without_utf8_mark("\xEF\xBB\xBFx"), "x");
  EXPECT_EQ(without_utf8_mark("x\xEF\xBB\xBF"), "x\xEF\xBB\xBF");
  EXPECT_EQ(without_utf8_mark("\xEF\xBB"), "\xEF\xBB");
}

TEST(EncodeText, WritesEachByteOrderWithAMarkOnlyForUnmarkedNames) {
  EXPECT_EQ(encoded("A", "utf8"), "A");
  EXPECT_EQ(encoded("A", "utf16"),
            std::string("\xFF\xFE"
                        "A\0",
                        4));
  EXPECT_EQ(encoded("A", "utf16-le"), std::string("A\0", 2));
  EXPECT_EQ(encoded("A", "utf16-be"), std::string("\0A", 2));
  EXPECT_EQ(encoded("A", "utf32"), std::string("\xFF\xFE\0\0A\0\0\0", 8));
  EXPECT_EQ(encoded("A", "utf32-le"), std::string("A\0\0\0", 4));
  EXPECT_EQ(encoded("A", "utf32-be"), std::string("\0\0\0A", 4));
}

TEST(EncodeText, NoMarkWhenNotAtTheStart) {
  EXPECT_EQ(encoded("A", "utf16", false), std::string("A\0", 2));
  EXPECT_EQ(encoded("A", "utf32", false), std::string("A\0\0\0", 4));
}

TEST(EncodeText, UsesSurrogatePairsInUtf16) {
  EXPECT_EQ(encoded("\xF0\x9F\x98\x80", "utf16-be"), std::string("\xD8\x3D\xDE\x00", 4));
  EXPECT_EQ(encoded("\xF0\x9F\x98\x80", "utf32-be"), std::string("\0\x01\xF6\x00", 4));
}

TEST(EncodeText, RejectsInvalidUtf8ForEveryEncoding) {
  for (const char* name : {"utf8", "utf16", "utf32-be"}) {
    Result<std::string> bytes = encode_text("a\xFF", encoding(name), true);
    ASSERT_FALSE(bytes.ok()) << name;
    EXPECT_EQ(bytes.error().message, "not valid UTF-8 text at byte 1");
  }
}

TEST(DecodeText, RoundTripsEveryEncoding) {
  for (const char* name :
       {"utf8", "utf16", "utf16-le", "utf16-be", "utf32", "utf32-le", "utf32-be"}) {
    EXPECT_EQ(decoded(encoded(kText, name), name), kText) << name;
  }
}

TEST(DecodeText, HonoursAndDropsByteOrderMarks) {
  EXPECT_EQ(decoded("\xEF\xBB\xBFx", "utf8"), "x");
  EXPECT_EQ(decoded(std::string("\xFE\xFF\0x", 4), "utf16"), "x");  // big-endian mark accepted
  EXPECT_EQ(decoded(std::string("\xFF\xFEx\0", 4), "utf16"), "x");
  EXPECT_EQ(decoded(std::string("\xFE\xFF\0x", 4), "utf16-be"), "x");
  EXPECT_EQ(decoded(std::string("\0\0\xFE\xFF\0\0\0x", 8), "utf32"), "x");
}

TEST(DecodeText, AMarkOfTheOtherOrderIsTextForNamedOrders) {
  // FE FF read as little-endian is U+FFFE: a valid (if odd) character, kept as text.
  EXPECT_EQ(decoded(std::string("\xFE\xFFx\0", 4), "utf16-le"), "\xEF\xBF\xBEx");
}

TEST(DecodeText, NamesTheOffsetOfWhatDoesNotDecode) {
  EXPECT_EQ(decode_error("abc", "utf16-le"), "not valid UTF-16 text at byte 2");
  EXPECT_EQ(decode_error(std::string("\x00\xD8", 2), "utf16-le"),
            "not valid UTF-16 text at byte 0");  // a lone high surrogate
  EXPECT_EQ(decode_error(std::string("a\0\x00\xDC", 4), "utf16-le"),
            "not valid UTF-16 text at byte 2");  // a lone low surrogate
  EXPECT_EQ(decode_error(std::string("\0\0\x11\0", 4), "utf32-le"),
            "not valid UTF-32 text at byte 0");  // above U+10FFFF
  EXPECT_EQ(decode_error("abcde", "utf32"), "not valid UTF-32 text at byte 4");
  EXPECT_EQ(decode_error("ok\xC0\xAF", "utf-8"), "not valid UTF-8 text at byte 2");
}

}  // namespace
}  // namespace kiln
