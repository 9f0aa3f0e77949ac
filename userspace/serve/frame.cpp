// SPDX-License-Identifier: Apache-2.0
#include "serve/frame.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wgcap::serve {
namespace {

constexpr std::size_t kHeader = 8;
constexpr std::size_t kOutputChunk = 64 * 1024;

Status SendAll(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError("write to the wgcap socket", errno,
                        errno == EPIPE || errno == ECONNRESET ? "the other side went away" : "");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

// Reads exactly n bytes; false at a clean end of stream before the first.
Result<bool> ReadAll(int fd, std::uint8_t* out, std::size_t n, int timeout_ms) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready == 0) {
      return Error{"the wgcap socket: no data within " + std::to_string(timeout_ms) + " ms",
                   ETIMEDOUT};
    }
    const ssize_t r = recv(fd, out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError("read from the wgcap socket", errno);
    }
    if (r == 0) {
      if (got == 0) {
        return false;
      }
      return Error{"the wgcap socket closed in the middle of a frame", EPROTO};
    }
    got += static_cast<std::size_t>(r);
  }
  return true;
}

} // namespace

Status SendFrame(int fd, FrameType type, std::span<const std::uint8_t> payload) {
  std::uint8_t header[kHeader] = {static_cast<std::uint8_t>(type), 0, 0, 0};
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) {
    header[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  }
  if (auto s = SendAll(fd, header, kHeader); !s) {
    return s;
  }
  return SendAll(fd, payload.data(), payload.size());
}

Status SendFrame(int fd, FrameType type, std::string_view payload) {
  return SendFrame(
      fd, type, std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
}

Result<std::optional<Frame>> ReadFrame(int fd, int timeout_ms) {
  std::uint8_t header[kHeader];
  auto got = ReadAll(fd, header, kHeader, timeout_ms);
  if (!got) {
    return got.error();
  }
  if (!*got) {
    return std::optional<Frame>();
  }
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) {
    n |= static_cast<std::uint32_t>(header[4 + i]) << (8 * i);
  }
  const auto type = static_cast<FrameType>(header[0]);
  switch (type) {
  case FrameType::Arguments:
  case FrameType::Stop:
  case FrameType::Output:
  case FrameType::Message:
  case FrameType::Exit:
    break;
  default:
    return Error{"the wgcap socket: unknown frame type " + std::to_string(header[0]), EPROTO};
  }
  if (n > kMaxFrame) {
    return Error{"the wgcap socket: a frame of " + std::to_string(n) + " bytes is too large",
                 EPROTO};
  }
  Frame frame{type, std::string(n, '\0')};
  if (n > 0) {
    auto body = ReadAll(fd, reinterpret_cast<std::uint8_t*>(frame.payload.data()), n, timeout_ms);
    if (!body) {
      return body.error();
    }
    if (!*body) {
      return Error{"the wgcap socket closed in the middle of a frame", EPROTO};
    }
  }
  return std::optional<Frame>(std::move(frame));
}

std::string JoinArguments(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    out += a;
    out += '\0';
  }
  return out;
}

std::vector<std::string> SplitArguments(std::string_view payload) {
  std::vector<std::string> out;
  while (!payload.empty()) {
    const auto end = payload.find('\0');
    out.emplace_back(payload.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    payload.remove_prefix(end + 1);
  }
  return out;
}

Status FrameWriter::Write(std::span<const std::uint8_t> bytes) {
  if (failed_) {
    return failure_;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  if (buffer_.size() >= kOutputChunk) {
    return Flush();
  }
  return {};
}

Status FrameWriter::Flush() {
  if (failed_) {
    return failure_;
  }
  if (buffer_.empty()) {
    return {};
  }
  if (auto s = SendFrame(fd_, FrameType::Output, buffer_); !s) {
    failed_ = true;
    failure_ = s.error();
    return s;
  }
  sent_ += buffer_.size();
  buffer_.clear();
  return {};
}

} // namespace wgcap::serve
