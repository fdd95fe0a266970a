#pragma once

// How conditional expressions compare text: strings ignoring ASCII case, numbers exactly as
// decimals, booleans as Go's strconv.ParseBool reads them, and whitespace as Go's unicode.IsSpace
// sees it. Pure functions; thread-safe.

#include <optional>
#include <string_view>

namespace kiln::document {

// <0, 0, >0 as `a` sorts before, with or after `b` when ASCII letters are folded to lower case;
// other bytes compare as unsigned (so UTF-8 text compares by code point, case-sensitively).
int compare_ignoring_ascii_case(std::string_view a, std::string_view b);

// Compares two numbers written as AWSTOE accepts them in a string, ^[-+]?([0-9]+[.])?[0-9]+$,
// exactly, however many digits they have ("1.50" equals "+01.5", "-0" equals "0"). Returns <0, 0
// or >0 as `a` is less than, equal to or greater than `b`; nullopt when either is not a number.
std::optional<int> compare_numbers(std::string_view a, std::string_view b);

// Go's strconv.ParseBool ignoring case: true, t, 1 / false, f, 0; nullopt for anything else.
std::optional<bool> parse_go_bool(std::string_view text);

// Go's unicode.IsSpace: the ASCII spaces \t \n \v \f \r ' ', U+0085, U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
bool is_unicode_space(char32_t c);

// Whether `text` is valid UTF-8 made only of is_unicode_space characters. False for "".
bool is_whitespace(std::string_view text);

}  // namespace kiln::document
