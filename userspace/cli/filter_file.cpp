// SPDX-License-Identifier: Apache-2.0
#include "cli/filter_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.hpp"

namespace wgcap::cli {

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

Result<std::string> ReadOptionFile(const std::string& option, const std::string& path,
                                   std::size_t max_bytes) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoError(option + " " + path, errno);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return ErrnoError(option + " " + path, EISDIR);
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoError(option + " " + path, errno);
    }
    if (n == 0) {
      break;
    }
    contents.append(buffer, static_cast<std::size_t>(n));
    if (contents.size() > max_bytes) {
      return Error{option + " " + path + ": larger than " + std::to_string(max_bytes >> 20) +
                       " MiB; is it the right file?",
                   EFBIG};
    }
  }
  return contents;
}

Result<std::string> ReadFilterFile(const std::string& path) {
  auto contents = ReadOptionFile("-F", path, kMaxFilterFileBytes);
  if (!contents) {
    if (contents.error().errnum == EFBIG) {
      return Error{"-F " + path + ": larger than 1 MiB; is it a filter expression?", EFBIG};
    }
    return contents.error();
  }
  return FilterFileText(*contents);
}

} // namespace wgcap::cli
