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

namespace wgcap::test {

// libpcap's bpf_filter: the return value (bytes to keep, 0 = drop).
// `wire_length` is what BPF_LEN loads; loads beyond `data` reject.
unsigned RunWithLibpcap(const std::vector<sock_filter>& program, std::span<const std::uint8_t> data,
                        std::uint32_t wire_length);
// libpcap's bpf_validate.
bool ValidWithLibpcap(const std::vector<sock_filter>& program);

class KernelClassicRunner {
public:
  // Attaches the program; `error` is set when the kernel refuses it.
  explicit KernelClassicRunner(const std::vector<sock_filter>& program);
  ~KernelClassicRunner();
  KernelClassicRunner(const KernelClassicRunner&) = delete;
  KernelClassicRunner& operator=(const KernelClassicRunner&) = delete;

  const std::string& error() const noexcept { return error_; }
  // Sends `data` as one datagram; the received length, or nullopt when the
  // filter dropped it.
  std::optional<std::size_t> Run(std::span<const std::uint8_t> data);

private:
  int sender_ = -1;
  int receiver_ = -1;
  std::string error_;
};

} // namespace wgcap::test
