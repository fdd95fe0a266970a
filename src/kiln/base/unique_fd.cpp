#include "kiln/base/unique_fd.hpp"

#include <unistd.h>

namespace kiln {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    // close() errors (EINTR, EIO) cannot be acted on here; the descriptor is gone either way.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace kiln
