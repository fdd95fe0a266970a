#pragma once

// Unicode text encodings: UTF-8 <-> UTF-16 and UTF-32 in either byte order, byte-order marks, and
// strict UTF-8 validation. kiln keeps text as UTF-8 in std::string; these functions convert at the
// edges (files written and read by action modules, XML entities, expressions).
//
// The contract, where Unicode leaves a choice:
//  - Valid UTF-8 is the shortest form of a scalar value (U+0000..U+10FFFF without the surrogates
//    U+D800..U+DFFF); overlong forms, surrogates, stray continuation bytes and truncated sequences
//    are invalid.
//  - An encoding whose name gives no byte order (utf16, utf32) is little-endian; it writes a
//    byte-order mark at the start of a file, and when reading it honours a leading mark of either
//    order. Names with -le/-be, and UTF-8, write no mark; reading drops a leading mark of the named
//    order (and a UTF-8 mark for UTF-8).
//  - Errors are kInvalidArgument "not valid <UTF-8|UTF-16|UTF-32> text at byte <offset>", the
//    offset being that of the first byte that does not decode.
//
// Everything here is pure and thread-safe; nothing throws.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

namespace kiln {

enum class Charset { kUtf8, kUtf16, kUtf32 };

struct TextEncoding {
  std::string_view name;  // lower case, as listed: "utf8", "utf-16", "utf32-be", ...
  Charset charset = Charset::kUtf8;
  bool big_endian = false;
  bool byte_order_mark = false;  // the name gives no byte order: write a mark, honour either
};

// The encoding called `name`, ignoring ASCII case: utf8, utf16, utf16-le, utf16-be, utf32,
// utf32-le, utf32-be, each also with a '-' after "utf" ("utf-16-be"). nullptr when unknown. The
// result points into a static table and stays valid for the life of the program.
const TextEncoding* find_text_encoding(std::string_view name);

inline constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

// `text` without a leading UTF-8 byte-order mark.
std::string_view without_utf8_mark(std::string_view text);

// Decodes the UTF-8 sequence that starts at text[*pos] (*pos < text.size()) and advances *pos past
// it; nullopt, leaving *pos alone, when that sequence is not valid UTF-8.
std::optional<char32_t> next_utf8(std::string_view text, size_t* pos);

// Appends `c` (at most U+10FFFF) to `out` as UTF-8. A surrogate is written in the same three-byte
// form as other values below U+10000; callers that must produce valid text exclude them.
void append_utf8(std::string& out, char32_t c);

// ok if `text` is valid UTF-8, else the error described above.
Status validate_utf8(std::string_view text);

// `utf8` in `encoding`. `at_start`: the bytes begin a file, so an encoding with byte_order_mark
// gets one. Fails if `utf8` is not valid UTF-8. For UTF-8 the text is returned as is.
Result<std::string> encode_text(std::string_view utf8, const TextEncoding& encoding, bool at_start);

// `bytes` in `encoding` as UTF-8, without a byte-order mark. Fails if they do not decode: an
// incomplete code unit, a lone surrogate, a value above U+10FFFF, or invalid UTF-8.
Result<std::string> decode_text(std::string_view bytes, const TextEncoding& encoding);

}  // namespace kiln
