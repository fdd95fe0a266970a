#include "kiln/document/compare.hpp"

#include <algorithm>
#include <string>

#include "kiln/base/text_encoding.hpp"

namespace kiln::document {
namespace {

std::string fold_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// A number split into its parts. Leading zeros of the integer part and trailing zeros of the
// fraction are dropped, so equal numbers have equal parts. The views point into the parsed text.
struct Decimal {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;
};

size_t count_digits(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') {
    ++n;
  }
  return n;
}

std::optional<Decimal> parse_decimal(std::string_view text) {
  Decimal d;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    d.negative = text[0] == '-';
    text.remove_prefix(1);
  }
  size_t int_digits = count_digits(text);
  d.integer = text.substr(0, int_digits);
  text.remove_prefix(int_digits);
  if (!text.empty() && text[0] == '.') {
    text.remove_prefix(1);
    size_t frac_digits = count_digits(text);
    d.fraction = text.substr(0, frac_digits);
    text.remove_prefix(frac_digits);
    if (d.fraction.empty()) {
      return std::nullopt;
    }
  }
  if (d.integer.empty() || !text.empty()) {
    return std::nullopt;
  }
  d.integer.remove_prefix(std::min(d.integer.find_first_not_of('0'), d.integer.size()));
  d.fraction = d.fraction.substr(0, d.fraction.find_last_not_of('0') + 1);
  if (d.integer.empty() && d.fraction.empty()) {
    d.negative = false;  // -0 == 0
  }
  return d;
}

int sign_of(int value) {
  return (value > 0) - (value < 0);
}

int compare_magnitude(const Decimal& a, const Decimal& b) {
  if (a.integer.size() != b.integer.size()) {
    return a.integer.size() < b.integer.size() ? -1 : 1;
  }
  if (int c = a.integer.compare(b.integer); c != 0) {
    return sign_of(c);
  }
  return sign_of(a.fraction.compare(b.fraction));
}

int compare_decimal(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) {
    return a.negative ? -1 : 1;
  }
  int c = compare_magnitude(a, b);
  return a.negative ? -c : c;
}

}  // namespace

int compare_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return fold_ascii(a).compare(fold_ascii(b));
}

std::optional<bool> parse_go_bool(std::string_view text) {
  std::string folded = fold_ascii(text);
  if (folded == "true" || folded == "t" || folded == "1") {
    return true;
  }
  if (folded == "false" || folded == "f" || folded == "0") {
    return false;
  }
  return std::nullopt;
}

std::optional<int> compare_numbers(std::string_view a, std::string_view b) {
  std::optional<Decimal> left = parse_decimal(a);
  std::optional<Decimal> right = parse_decimal(b);
  if (!left || !right) {
    return std::nullopt;
  }
  return compare_decimal(*left, *right);
}

bool is_unicode_space(char32_t c) {
  static constexpr std::u32string_view kSpaces =
      U"\t\n\v\f\r \u0085\u00A0\u1680\u2028\u2029\u202F\u205F\u3000";
  return (c >= 0x2000 && c <= 0x200A) || kSpaces.find(c) != std::u32string_view::npos;
}

bool is_whitespace(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (size_t pos = 0; pos < text.size();) {
    std::optional<char32_t> cp = next_utf8(text, &pos);
    if (!cp || !is_unicode_space(*cp)) {
      return false;
    }
  }
  return true;
}

}  // namespace kiln::document
