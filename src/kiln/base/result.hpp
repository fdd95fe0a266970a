#pragma once

// Result<T>: a T or an Error, shaped like std::expected (which g++ 12 offers only in C++23).

#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "kiln/base/error.hpp"

namespace kiln {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(data_); }
  Error&& error() && { return std::get<1>(std::move(data_)); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  void value() const {}

  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status ok_status() {
  return Status();
}

}  // namespace kiln

#define KILN_TRY_CAT2(a, b) a##b
#define KILN_TRY_CAT(a, b) KILN_TRY_CAT2(a, b)

// Evaluates a Result; on error returns it from the enclosing function, else yields its value.
// (The temporary's name is unique per use, so KILN_TRY nests without shadowing.)
#define KILN_TRY(expr) KILN_TRY_IMPL(expr, KILN_TRY_CAT(kiln_try_, __COUNTER__))
#define KILN_TRY_IMPL(expr, tmp)     \
  __extension__({                    \
    auto&& tmp = (expr);             \
    if (!tmp.ok()) {                 \
      return std::move(tmp).error(); \
    }                                \
    std::move(tmp).value();          \
  })

// Like KILN_TRY, but puts `context` (a string) before the error's message.
#define KILN_TRY_CTX(expr, context) \
  KILN_TRY_CTX_IMPL(expr, context, KILN_TRY_CAT(kiln_try_, __COUNTER__))
#define KILN_TRY_CTX_IMPL(expr, context, tmp)   \
  __extension__({                               \
    auto&& tmp = (expr);                        \
    if (!tmp.ok()) {                            \
      return tmp.error().with_context(context); \
    }                                           \
    std::move(tmp).value();                     \
  })

// Bugs are not errors: abort with the failed condition.
#define KILN_ASSERT(cond)                                       \
  do {                                                          \
    if (!(cond)) {                                              \
      ::kiln::detail::assert_failed(#cond, __FILE__, __LINE__); \
    }                                                           \
  } while (false)

namespace kiln::detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line);
}
