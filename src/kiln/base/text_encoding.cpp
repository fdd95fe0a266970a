#include "kiln/base/text_encoding.hpp"

#include "kiln/base/strings.hpp"

namespace kiln {
namespace {

constexpr TextEncoding kEncodings[] = {
    {"utf8", Charset::kUtf8, false, false},
    {"utf-8", Charset::kUtf8, false, false},
    {"utf16", Charset::kUtf16, false, true},
    {"utf-16", Charset::kUtf16, false, true},
    {"utf16-le", Charset::kUtf16, false, false},
    {"utf-16-le", Charset::kUtf16, false, false},
    {"utf16-be", Charset::kUtf16, true, false},
    {"utf-16-be", Charset::kUtf16, true, false},
    {"utf32", Charset::kUtf32, false, true},
    {"utf-32", Charset::kUtf32, false, true},
    {"utf32-le", Charset::kUtf32, false, false},
    {"utf-32-le", Charset::kUtf32, false, false},
    {"utf32-be", Charset::kUtf32, true, false},
    {"utf-32-be", Charset::kUtf32, true, false},
};

bool is_surrogate(char32_t c) {
  return c >= 0xD800 && c <= 0xDFFF;
}

Error bad_text(std::string_view charset, size_t offset) {
  return make_error(ErrorCode::kInvalidArgument, "not valid {} text at byte {}", charset, offset);
}

Result<std::u32string> decode_utf8(std::string_view text) {
  std::u32string out;
  for (size_t pos = 0; pos < text.size();) {
    size_t start = pos;
    std::optional<char32_t> c = next_utf8(text, &pos);
    if (!c) {
      return bad_text("UTF-8", start);
    }
    out.push_back(*c);
  }
  return out;
}

void put_unit(std::string& out, char32_t unit, size_t width, bool big_endian) {
  for (size_t k = 0; k < width; ++k) {
    size_t shift = 8 * (big_endian ? width - 1 - k : k);
    out.push_back(static_cast<char>((unit >> shift) & 0xFF));
  }
}

char32_t get_unit(std::string_view bytes, size_t pos, size_t width, bool big_endian) {
  char32_t unit = 0;
  for (size_t k = 0; k < width; ++k) {
    size_t shift = 8 * (big_endian ? width - 1 - k : k);
    unit |= static_cast<char32_t>(static_cast<unsigned char>(bytes[pos + k])) << shift;
  }
  return unit;
}

size_t unit_width(Charset charset) {
  return charset == Charset::kUtf16 ? 2 : 4;
}

// The length of a leading byte-order mark (0 if none); may flip `*be` for unmarked names.
size_t mark_length(std::string_view bytes, const TextEncoding& encoding, bool* be) {
  size_t width = unit_width(encoding.charset);
  if (bytes.size() < width) {
    return 0;
  }
  if (get_unit(bytes, 0, width, *be) == 0xFEFF) {
    return width;
  }
  if (encoding.byte_order_mark && get_unit(bytes, 0, width, !*be) == 0xFEFF) {
    *be = !*be;
    return width;
  }
  return 0;
}

Result<std::string> decode_wide(std::string_view bytes, const TextEncoding& encoding) {
  size_t width = unit_width(encoding.charset);
  std::string_view name = width == 2 ? "UTF-16" : "UTF-32";
  if (bytes.size() % width != 0) {
    return bad_text(name, bytes.size() - bytes.size() % width);
  }
  bool be = encoding.big_endian;
  std::string out;
  for (size_t pos = mark_length(bytes, encoding, &be); pos < bytes.size();) {
    size_t start = pos;
    char32_t c = get_unit(bytes, pos, width, be);
    pos += width;
    if (width == 2 && c >= 0xD800 && c < 0xDC00 && pos < bytes.size()) {
      char32_t low = get_unit(bytes, pos, 2, be);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        pos += 2;
      }
    }
    if (c > 0x10FFFF || is_surrogate(c)) {
      return bad_text(name, start);
    }
    append_utf8(out, c);
  }
  return out;
}

}  // namespace

const TextEncoding* find_text_encoding(std::string_view name) {
  for (const TextEncoding& encoding : kEncodings) {
    if (iequals(encoding.name, name)) {
      return &encoding;
    }
  }
  return nullptr;
}

std::string_view without_utf8_mark(std::string_view text) {
  if (starts_with(text, kUtf8ByteOrderMark)) {
    text.remove_prefix(kUtf8ByteOrderMark.size());
  }
  return text;
}

std::optional<char32_t> next_utf8(std::string_view text, size_t* pos) {
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  auto lead = static_cast<unsigned char>(text[*pos]);
  size_t len = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xE  ? 3
               : (lead >> 3) == 0x1E ? 4
                                     : 0;
  if (len == 0 || *pos + len > text.size()) {
    return std::nullopt;
  }
  char32_t c = len == 1 ? lead : (lead & (0x7Fu >> len));
  for (size_t k = 1; k < len; ++k) {
    auto byte = static_cast<unsigned char>(text[*pos + k]);
    if ((byte & 0xC0) != 0x80) {
      return std::nullopt;
    }
    c = (c << 6) | (byte & 0x3Fu);
  }
  if (c < kMin[len] || c > 0x10FFFF || is_surrogate(c)) {
    return std::nullopt;
  }
  *pos += len;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
    return;
  }
  size_t len = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  static constexpr unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  out.push_back(static_cast<char>(kLead[len] | (c >> (6 * (len - 1)))));
  for (size_t k = len - 1; k > 0; --k) {
    out.push_back(static_cast<char>(0x80 | ((c >> (6 * (k - 1))) & 0x3F)));
  }
}

Status validate_utf8(std::string_view text) {
  KILN_TRY(decode_utf8(text));
  return ok_status();
}

Result<std::string> encode_text(std::string_view utf8,
                                const TextEncoding& encoding,
                                bool at_start) {
  std::u32string chars = KILN_TRY(decode_utf8(utf8));
  if (encoding.charset == Charset::kUtf8) {
    return std::string(utf8);
  }
  size_t width = unit_width(encoding.charset);
  bool be = encoding.big_endian;
  std::string out;
  if (encoding.byte_order_mark && at_start) {
    put_unit(out, 0xFEFF, width, be);
  }
  for (char32_t c : chars) {
    if (width == 2 && c > 0xFFFF) {
      put_unit(out, 0xD800 + ((c - 0x10000) >> 10), 2, be);
      put_unit(out, 0xDC00 + ((c - 0x10000) & 0x3FF), 2, be);
    } else {
      put_unit(out, c, width, be);
    }
  }
  return out;
}

Result<std::string> decode_text(std::string_view bytes, const TextEncoding& encoding) {
  if (encoding.charset != Charset::kUtf8) {
    return decode_wide(bytes, encoding);
  }
  bytes = without_utf8_mark(bytes);
  KILN_TRY(validate_utf8(bytes));
  return std::string(bytes);
}

}  // namespace kiln
