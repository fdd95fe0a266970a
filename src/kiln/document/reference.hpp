#pragma once

// The {{ ... }} references of the AWSTOE language: splitting a string into literal text and
// references, classifying each reference, and rendering with a resolver.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::document {

struct Reference {
  enum class Kind {
    kVariable,     // {{ Name }}: a parameter or constant
    kChainInput,   // {{ phase.step.inputs.field }} or {{ phase.step.inputs[i].field }}
    kChainOutput,  // {{ phase.step.outputs.field }}
    kLoop,         // {{ loop.index }}, {{ loop.value }}, {{ myLoop.index }}, ...
    kEnv,          // {{ env:NAME }}
    kContext,      // {{ context:key }}
    kSsm,          // {{ aws:ssm:... }}
    kImds,         // {{ aws:imds:... }}
    kInvalid,      // anything else
  };
  Kind kind = Kind::kInvalid;
  std::string text;   // the trimmed text between the braces
  std::string name;   // variable, env or context name; loop name ("loop" or the loop's name)
  std::string phase;  // chaining
  std::string step;   // chaining
  std::string field;  // chaining: input/output name; loop: "index" or "value"
  std::optional<size_t> index;  // chaining: inputs[i]
};

// A string split into literal text and references.
struct TemplatePart {
  bool is_reference = false;
  std::string text;  // the literal text, or the whole "{{ ... }}" for a reference
  Reference reference;
  size_t offset = 0;  // where the part starts in the original string
};

// Splits `text`. An unterminated "{{" is literal text.
std::vector<TemplatePart> parse_template(std::string_view text);

// True if `text` holds at least one {{ }} reference.
bool has_references(std::string_view text);

Reference classify_reference(std::string_view inner);

// Renders `text`, replacing each reference that `resolve` returns a value for; references it
// leaves unresolved stay as written (as AWSTOE leaves loop references outside loops).
using ReferenceResolver = std::function<std::optional<std::string>(const Reference&)>;
std::string render_template(std::string_view text, const ReferenceResolver& resolve);

// Parameter and constant names: 3-128 characters of [a-zA-Z0-9_-].
bool is_valid_variable_name(std::string_view name);

// The context keys {{ context:KEY }} accepts.
bool is_known_context_key(std::string_view key);

}  // namespace kiln::document
