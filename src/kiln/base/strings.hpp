#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

std::vector<std::string> split(std::string_view text, char delimiter);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string_view trim(std::string_view text);
std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view text, std::string_view prefix);
bool ends_with(std::string_view text, std::string_view suffix);

// Edit distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a likely misspelling, else "".
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

// The last `max_lines` lines of `text` (without a trailing empty line).
std::string tail_lines(std::string_view text, size_t max_lines);

}  // namespace kiln
