#pragma once

// The action modules of the AWSTOE language as data: each module's input shape, fields, types and
// outputs. The parser validates documents against this table; the runner (toe/) binds each name
// to an implementation. Adding a module is adding a row.

#include <span>
#include <string_view>

namespace kiln::document {

enum class InputShape {
  kObject,      // inputs: { ... }
  kList,        // inputs: [ { ... }, ... ]  (chaining uses inputs[i])
  kExpression,  // inputs: a conditional expression (Assert)
};

enum class FieldType {
  kString,
  kBool,
  kInt,
  kStringList,     // [string]
  kStringMap,      // {string: string}
  kParameterList,  // [{name: string, value: string}] (ExecuteDocument)
  kStringOrList,   // a string, or a list of strings (ExecuteBash commands accept both)
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required = false;
};

enum class ModulePlatform { kLinux, kWindowsOnly };

struct ModuleSpec {
  std::string_view name;
  InputShape shape;
  std::span<const FieldSpec> fields;
  std::span<const std::string_view> outputs;  // names usable as {{ phase.step.outputs.NAME }}
  ModulePlatform platform = ModulePlatform::kLinux;
  bool inputs_optional = false;  // `inputs:` may be left out (every field optional)
};

// The module named `name` (exact, case-sensitive as AWS), or nullptr.
const ModuleSpec* find_module(std::string_view name);

// Every module, in alphabetical order.
std::span<const ModuleSpec> all_modules();

// The field of `module` named `name`, or nullptr.
const FieldSpec* find_field(const ModuleSpec& module, std::string_view name);

// Encoding names accepted by `encoding` inputs (case-insensitive).
bool is_known_encoding(std::string_view name);

// Whether `text` is a `permissions` input: 3 or 4 octal digits ("644", "0755", "2775").
bool is_octal_permissions(std::string_view text);

}  // namespace kiln::document
