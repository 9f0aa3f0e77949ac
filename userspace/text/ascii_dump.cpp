// SPDX-License-Identifier: Apache-2.0
// -A: the transport payload after the line (SPEC 5), bytes outside
// 0x20-0x7e shown as '.' except '\n' and '\t'. A '\r' passes only as part of
// "\r\n": alone it would return the cursor to the start of the line, and a
// hostile payload could then overwrite what the terminal shows above it
// (ESC, the start of every escape sequence, is always a '.').
#include "text/packet_text.hpp"

namespace wgcap::text {

void AppendAsciiPayload(std::string& line, Bytes payload) {
  if (payload.empty()) {
    return;
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    const std::uint8_t c = payload.U8(i);
    const bool crlf = c == '\r' && i + 1 < payload.size() && payload.U8(i + 1) == '\n';
    if ((c >= 0x20 && c <= 0x7e) || c == '\n' || c == '\t' || crlf) {
      line += static_cast<char>(c);
    } else {
      line += '.';
    }
  }
  if (line.back() != '\n') {
    line += '\n'; // the next packet's line starts on a line of its own
  }
}

} // namespace wgcap::text
