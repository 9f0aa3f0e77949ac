// SPDX-License-Identifier: Apache-2.0
#include "file/capture_file_prefix.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wgcap {
namespace {

bool ReadAt(int fd, std::uint64_t offset, void* out, std::size_t n) {
  return pread(fd, out, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
}

std::uint32_t Swap(std::uint32_t v) {
  return __builtin_bswap32(v);
}

std::uint64_t PcapPrefix(int fd, std::uint64_t size, bool swapped) {
  std::uint64_t at = 24;
  if (size < at) {
    return 0;
  }
  std::uint32_t header[4];
  while (at + sizeof header <= size && ReadAt(fd, at, header, sizeof header)) {
    const std::uint32_t caplen = swapped ? Swap(header[2]) : header[2];
    if (at + sizeof header + caplen > size) {
      break;
    }
    at += sizeof header + caplen;
  }
  return at;
}

std::uint64_t PcapngPrefix(int fd, std::uint64_t size) {
  std::uint64_t at = 0;
  bool swapped = false;
  std::uint32_t head[3];
  while (at + 12 <= size && ReadAt(fd, at, head, sizeof head)) {
    if (head[0] == 0x0a0d0d0a) { // a section header sets the byte order
      swapped = head[2] == 0x4d3c2b1a;
    }
    const std::uint32_t length = swapped ? Swap(head[1]) : head[1];
    if (length < 12 || length % 4 != 0 || at + length > size) {
      break;
    }
    at += length;
  }
  return at;
}

} // namespace

Result<std::uint64_t> CompleteRecordsPrefix(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return ErrnoError("fstat", errno);
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint32_t magic = 0;
  if (size < 4 || !ReadAt(fd, 0, &magic, sizeof magic)) {
    return std::uint64_t{0};
  }
  switch (magic) {
  case 0xa1b2c3d4:
  case 0xa1b23c4d:
    return PcapPrefix(fd, size, false);
  case 0xd4c3b2a1:
  case 0x4d3cb2a1:
    return PcapPrefix(fd, size, true);
  case 0x0a0d0d0a:
    return PcapngPrefix(fd, size);
  default:
    return std::uint64_t{0};
  }
}

} // namespace wgcap
