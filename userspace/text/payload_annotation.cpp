// SPDX-License-Identifier: Apache-2.0
// ": TEXT" after a TCP segment's length (SPEC 5) for the first bytes of the
// protocols people most often look for: SSH banners, TLS handshakes and
// alerts (tls_annotation.cpp), HTTP request and status lines. Recognised
// by content, not port, so they show on any port. Only this segment's
// captured bytes are read; a line is cut at its CR/LF, at the end of the
// capture, or after kMaxLine bytes (then "...").
#include <cstring>
#include <string_view>

#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::size_t kMaxLine = 200;

bool StartsWith(Bytes b, std::string_view prefix) {
  return b.Has(0, prefix.size()) && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}

bool IsHttpRequest(Bytes b) {
  static constexpr std::string_view kMethods[] = {
      "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  for (const std::string_view m : kMethods) {
    if (StartsWith(b, m)) {
      return true;
    }
  }
  return false;
}

bool IsHttpStatus(Bytes b) {
  // "HTTP/1.1 200", "HTTP/2 200"...
  return StartsWith(b, "HTTP/") && b.Has(5, 1) && b.U8(5) >= '0' && b.U8(5) <= '9';
}

void AppendFirstLine(std::string& line, Bytes payload) {
  std::size_t n = 0;
  while (n < payload.size() && n < kMaxLine && payload.U8(n) != '\r' && payload.U8(n) != '\n') {
    ++n;
  }
  line += ": ";
  AppendEscaped(line, payload.Sub(0, n));
  if (n == kMaxLine && n < payload.size() && payload.U8(n) != '\r' && payload.U8(n) != '\n') {
    line += "...";
  }
}

} // namespace

void AppendPayloadAnnotation(std::string& line, Bytes payload) {
  if (StartsWith(payload, "SSH-") || IsHttpRequest(payload) || IsHttpStatus(payload)) {
    AppendFirstLine(line, payload);
    return;
  }
  AppendTlsAnnotation(line, payload);
}

} // namespace wgcap::text
