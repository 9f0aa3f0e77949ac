// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "wgcap/byte_writer.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

namespace text {
class FlowTable;
}

// One human-readable line per packet (SPEC section 5); with `verbose`, TCP
// sequence numbers relative to each flow's first (flows kept in a table of
// fixed size, least recently used evicted) and the IP suffix; with `ascii`,
// the payload after the line. Any bytes are safe to give it: nothing is read
// outside the captured bytes, and no control character from a packet
// reaches the output. Not thread-safe.
class TextWriter final : public PacketSink {
public:
  TextWriter(ByteWriter& out, bool verbose, bool ascii);
  ~TextWriter() override;
  TextWriter(const TextWriter&) = delete;
  TextWriter& operator=(const TextWriter&) = delete;

  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override;

private:
  ByteWriter& out_;
  bool verbose_;
  bool ascii_;
  std::unique_ptr<text::FlowTable> flows_; // only with verbose
  std::string line_;                       // reused: no allocation per packet once grown
};

} // namespace wgcap
