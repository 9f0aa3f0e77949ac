// SPDX-License-Identifier: Apache-2.0
#include "support/classic_runners.hpp"

#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace wgcap::test {

static_assert(sizeof(sock_filter) == sizeof(bpf_insn), "classic instruction layouts must agree");

unsigned RunWithLibpcap(const std::vector<sock_filter>& program, std::span<const std::uint8_t> data,
                        std::uint32_t wire_length) {
  return bpf_filter(reinterpret_cast<const bpf_insn*>(program.data()), data.data(), wire_length,
                    static_cast<u_int>(data.size()));
}

bool ValidWithLibpcap(const std::vector<sock_filter>& program) {
  return bpf_validate(reinterpret_cast<const bpf_insn*>(program.data()),
                      static_cast<int>(program.size())) != 0;
}

KernelClassicRunner::KernelClassicRunner(const std::vector<sock_filter>& program) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  }
  sender_ = fds[0];
  receiver_ = fds[1];
  sock_fprog prog{static_cast<unsigned short>(program.size()),
                  const_cast<sock_filter*>(program.data())};
  if (setsockopt(receiver_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    error_ = std::string("SO_ATTACH_FILTER: ") + std::strerror(errno);
  }
  // Large packets must fit in the receive queue one at a time.
  const int size = 1 << 20;
  setsockopt(receiver_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(sender_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

KernelClassicRunner::~KernelClassicRunner() {
  close(sender_);
  close(receiver_);
}

std::optional<std::size_t> KernelClassicRunner::Run(std::span<const std::uint8_t> data) {
  // A zero-length datagram is delivered as such; the filter still runs.
  if (send(sender_, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) {
    throw std::runtime_error(std::string("send: ") + std::strerror(errno));
  }
  static std::vector<std::uint8_t> buffer(1 << 18);
  const ssize_t n = recv(receiver_, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return std::nullopt;
    }
    throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
  }
  return static_cast<std::size_t>(n);
}

} // namespace wgcap::test
