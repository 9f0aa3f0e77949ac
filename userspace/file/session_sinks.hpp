// SPDX-License-Identifier: Apache-2.0
// The concrete writers behind Options::output (pcap) and Options::text_output
// (one line per packet), built here so that the Session only receives sinks
// and never names a file format.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap {

class SessionSinks {
public:
  // `snaplen` is the session's (0 already replaced by 65535).
  SessionSinks(const Options& options, std::uint32_t snaplen);
  SessionSinks(const SessionSinks&) = delete;
  SessionSinks& operator=(const SessionSinks&) = delete;

  // In order: the pcap writer, the text writer, then options.sinks.
  const std::vector<PacketSink*>& all() const noexcept { return all_; }

private:
  std::optional<PcapWriter> pcap_;
  std::optional<TextWriter> text_;
  std::vector<PacketSink*> all_;
};

} // namespace wgcap
