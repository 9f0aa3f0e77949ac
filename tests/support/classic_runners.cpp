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

std::optional<std::size_t> KernelClassicRunner::Run(std::span<const std::uint8_t> data) {
  auto r = runner_.Run(data);
  if (!r) {
    throw std::runtime_error(r.error().message);
  }
  return *r;
}

} // namespace wgcap::test
