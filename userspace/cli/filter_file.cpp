// SPDX-License-Identifier: Apache-2.0
#include "cli/filter_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.hpp"

namespace wgcap::cli {
namespace {

// An expression is a line or two; a limit keeps -F /dev/zero from reading
// forever.
constexpr std::size_t kMaxFilterFileBytes = 1 << 20;

Error FileError(const std::string& path, int errnum) {
  return ErrnoError("-F " + path, errnum);
}

} // namespace

std::string FilterFileText(std::string_view contents) {
  contents = contents.substr(0, contents.find('\0'));
  std::string text(contents);
  bool comment = false;
  for (char& c : text) {
    if (c == '\n') {
      comment = false;
    } else if (c == '#') {
      comment = true;
    }
    if (comment || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
      c = ' ';
    }
  }
  return text;
}

Result<std::string> ReadFilterFile(const std::string& path) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return FileError(path, errno);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return FileError(path, EISDIR);
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return FileError(path, errno);
    }
    if (n == 0) {
      break;
    }
    contents.append(buffer, static_cast<std::size_t>(n));
    if (contents.size() > kMaxFilterFileBytes) {
      return Error{"-F " + path + ": larger than 1 MiB; is it a filter expression?", EFBIG};
    }
  }
  return FilterFileText(contents);
}

} // namespace wgcap::cli
