#pragma once

#include <utility>

namespace kiln {

// Runs a callable when the scope ends, unless release() was called.
template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F fn) : fn_(std::move(fn)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (active_) {
      fn_();
    }
  }
  void release() { active_ = false; }

 private:
  F fn_;
  bool active_ = true;
};

}  // namespace kiln

#define KILN_DEFER_CAT2(a, b) a##b
#define KILN_DEFER_CAT(a, b) KILN_DEFER_CAT2(a, b)
#define KILN_DEFER(...) \
  ::kiln::ScopeExit KILN_DEFER_CAT(kiln_defer_, __LINE__)([&]() { __VA_ARGS__; })
