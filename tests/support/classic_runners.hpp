// SPDX-License-Identifier: Apache-2.0
// Two independent executors of classic BPF for tests: libpcap's interpreter
// (bpf_filter) and the kernel's own, reached without privileges through a
// socket filter on an AF_UNIX datagram socket pair.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "filter/classic_socket_runner.hpp"

namespace wgcap::test {

// libpcap's bpf_filter: the return value (bytes to keep, 0 = drop).
// `wire_length` is what BPF_LEN loads; loads beyond `data` reject.
unsigned RunWithLibpcap(const std::vector<sock_filter>& program, std::span<const std::uint8_t> data,
                        std::uint32_t wire_length);
// libpcap's bpf_validate.
bool ValidWithLibpcap(const std::vector<sock_filter>& program);

// The kernel's classic interpreter (library class), with the interface the
// tests were written against.
class KernelClassicRunner {
public:
  explicit KernelClassicRunner(const std::vector<sock_filter>& program) : runner_(program) {}
  const std::string& error() const noexcept { return runner_.error(); }
  // The received length, or nullopt when the filter dropped the packet.
  std::optional<std::size_t> Run(std::span<const std::uint8_t> data);

private:
  ClassicSocketRunner runner_;
};

} // namespace wgcap::test
