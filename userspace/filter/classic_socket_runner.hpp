// SPDX-License-Identifier: Apache-2.0
// Runs a classic BPF program in the kernel's own interpreter without any
// privilege: as a socket filter on an AF_UNIX datagram socket pair, one
// datagram per packet. For --parity-check and the tests.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

class ClassicSocketRunner {
public:
  // Attaches the program; error() is set when the kernel refuses it.
  explicit ClassicSocketRunner(const std::vector<sock_filter>& program);

  const std::string& error() const noexcept { return error_; }
  // Sends `data` as one datagram: the length the filter kept, or nullopt
  // when it dropped the packet.
  Result<std::optional<std::size_t>> Run(std::span<const std::uint8_t> data);

private:
  UniqueFd sender_;
  UniqueFd receiver_;
  std::string error_;
  std::vector<std::uint8_t> buffer_;
};

} // namespace wgcap
