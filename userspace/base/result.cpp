// SPDX-License-Identifier: Apache-2.0
#include "wgcap/result.hpp"

#include <cstring>

namespace wgcap {

Error ErrnoError(std::string_view operation, int errnum, std::string_view hint) {
  std::string message(operation);
  message += ": ";
  message += std::strerror(errnum);
  if (!hint.empty()) {
    message += "; ";
    message += hint;
  }
  return Error{std::move(message), errnum};
}

} // namespace wgcap
