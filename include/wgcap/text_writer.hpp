// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "wgcap/byte_writer.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

// One human-readable line per packet (SPEC section 5). Not thread-safe.
class TextWriter final : public PacketSink {
public:
  TextWriter(ByteWriter& out, bool verbose, bool ascii);

  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override;

private:
  ByteWriter& out_;
  bool verbose_;
  bool ascii_;
  std::string line_;
};

} // namespace wgcap
