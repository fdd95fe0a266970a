#include "kiln/document/model.hpp"

namespace kiln::document {

std::string_view on_failure_name(OnFailure value) {
  switch (value) {
    case OnFailure::kAbort:
      return "Abort";
    case OnFailure::kContinue:
      return "Continue";
    case OnFailure::kIgnore:
      return "Ignore";
  }
  return "Abort";
}

uint64_t iteration_count(const Loop& loop) {
  uint64_t span = loop.end >= loop.start
                      ? static_cast<uint64_t>(loop.end) - static_cast<uint64_t>(loop.start)
                      : static_cast<uint64_t>(loop.start) - static_cast<uint64_t>(loop.end);
  uint64_t step = loop.update_by > 0 ? static_cast<uint64_t>(loop.update_by)
                                     : uint64_t{0} - static_cast<uint64_t>(loop.update_by);
  return step == 0 ? 0 : span / step + 1;
}

}  // namespace kiln::document
