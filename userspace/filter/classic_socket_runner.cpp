// SPDX-License-Identifier: Apache-2.0
#include "filter/classic_socket_runner.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace wgcap {

ClassicSocketRunner::ClassicSocketRunner(const std::vector<sock_filter>& program)
    : buffer_(1 << 18) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error_ = std::string("socketpair: ") + std::strerror(errno);
    return;
  }
  sender_.Reset(fds[0]);
  receiver_.Reset(fds[1]);
  sock_fprog prog{static_cast<unsigned short>(program.size()),
                  const_cast<sock_filter*>(program.data())};
  if (setsockopt(receiver_.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    error_ = std::string("SO_ATTACH_FILTER: ") + std::strerror(errno);
  }
  // Large packets must fit in the socket buffers one at a time.
  const int size = 1 << 20;
  setsockopt(receiver_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(sender_.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

Result<std::optional<std::size_t>> ClassicSocketRunner::Run(std::span<const std::uint8_t> data) {
  if (!error_.empty()) {
    return Error{error_, 0};
  }
  // The filter runs in the sender's call; a dropped datagram simply never
  // arrives, so a non-blocking receive tells the verdict.
  if (send(sender_.get(), data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) {
    return ErrnoError("send to the classic filter socket", errno);
  }
  const ssize_t n = recv(receiver_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_TRUNC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return std::optional<std::size_t>();
    }
    return ErrnoError("recv from the classic filter socket", errno);
  }
  return std::optional<std::size_t>(static_cast<std::size_t>(n));
}

} // namespace wgcap
