// SPDX-License-Identifier: Apache-2.0
// -l: text on stdout line-buffered, as tcpdump -l makes it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "wgcap/byte_writer.hpp"

namespace wgcap::cli {

// Passes bytes on and flushes after any write that ends a line, so each line
// reaches a pipe (`wgcap -l | grep ...`) at once rather than with the next
// batch or the 100 ms flush.
class LineFlushingWriter final : public ByteWriter {
public:
  explicit LineFlushingWriter(ByteWriter& inner) : inner_(inner) {}

  Status Write(std::span<const std::uint8_t> bytes) override {
    if (auto written = inner_.Write(bytes); !written) {
      return written;
    }
    if (std::find(bytes.begin(), bytes.end(), std::uint8_t{'\n'}) != bytes.end()) {
      return inner_.Flush();
    }
    return {};
  }
  Status Flush() override { return inner_.Flush(); }
  using ByteWriter::Write;

private:
  ByteWriter& inner_;
};

} // namespace wgcap::cli
