// SPDX-License-Identifier: Apache-2.0
#include "wgcap/result.hpp"

#include <cstdlib>
#include <cstring>

namespace wgcap {

const char* ToString(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::Usage:
    return "usage";
  case ErrorKind::Filter:
    return "filter";
  case ErrorKind::Permission:
    return "permission";
  case ErrorKind::NotFound:
    return "not_found";
  case ErrorKind::Io:
    return "io";
  case ErrorKind::Kernel:
    return "kernel";
  case ErrorKind::Unspecified:
    break;
  }
  return "error";
}

ErrorKind KindOf(const Error& error) noexcept {
  if (error.kind != ErrorKind::Unspecified) {
    return error.kind;
  }
  switch (error.errnum) {
  case 0:
    return ErrorKind::Unspecified;
  case EPERM:
  case EACCES:
    return ErrorKind::Permission;
  case ENODEV:
  case ENXIO:
  case ENOENT:
    return ErrorKind::NotFound;
  default:
    return ErrorKind::Io;
  }
}

Error ErrnoError(std::string_view operation, int errnum, std::string_view hint) {
  std::string message(operation);
  message += ": ";
  message += std::strerror(errnum);
  if (!hint.empty()) {
    message += "; ";
    message += hint;
  }
  Error error{std::move(message), errnum};
  error.kind = KindOf(error);
  error.hint = std::string(hint);
  return error;
}

Error FilterError(Error error) {
  error.kind = ErrorKind::Filter;
  constexpr std::string_view kColumn = "column ";
  if (error.column == 0 && error.message.compare(0, kColumn.size(), kColumn) == 0) {
    error.column = std::atoi(error.message.c_str() + kColumn.size());
  }
  return error;
}

} // namespace wgcap
