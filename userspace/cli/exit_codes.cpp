// SPDX-License-Identifier: Apache-2.0
#include "cli/exit_codes.hpp"

namespace wgcap::cli {

int ExitCode(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::Usage:
  case ErrorKind::Filter:
    return 2;
  case ErrorKind::Permission:
  case ErrorKind::NotFound:
  case ErrorKind::Io:
  case ErrorKind::Kernel:
  case ErrorKind::Unspecified:
    break;
  }
  return 1;
}

} // namespace wgcap::cli
