// SPDX-License-Identifier: Apache-2.0
#include "file/session_sinks.hpp"

namespace wgcap {

SessionSinks::SessionSinks(const Options& options, std::uint32_t snaplen) {
  if (options.output != nullptr) {
    all_.push_back(&pcap_.emplace(*options.output, snaplen));
  }
  if (options.text_output != nullptr) {
    TextOptions layout = options.text_options;
    layout.verbose = layout.verbose || options.verbose;
    layout.ascii = layout.ascii || options.ascii;
    all_.push_back(&text_.emplace(*options.text_output, layout));
  }
  for (PacketSink* sink : options.sinks) {
    if (sink != nullptr) {
      all_.push_back(sink);
    }
  }
}

} // namespace wgcap
