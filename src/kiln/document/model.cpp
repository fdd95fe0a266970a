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

}  // namespace kiln::document
