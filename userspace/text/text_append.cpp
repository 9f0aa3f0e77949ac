// SPDX-License-Identifier: Apache-2.0
#include "text/text_append.hpp"

#include <arpa/inet.h>

#include <cstdarg>
#include <cstdio>

namespace wgcap::text {

void Appendf(std::string& line, const char* format, ...) {
  char buf[256];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n > 0) {
    line.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n)
                                                              : sizeof buf - 1);
  }
}

void AppendEscaped(std::string& line, Bytes bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::uint8_t c = bytes.U8(i);
    if (c == '\\') {
      line += "\\\\";
    } else if (c >= 0x20 && c <= 0x7e) {
      line += static_cast<char>(c);
    } else {
      const char esc[] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
      line.append(esc, sizeof esc);
    }
  }
}

void AppendAddress(std::string& line, std::uint8_t family, const std::uint8_t* address) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family == 4 ? AF_INET : AF_INET6, address, text, sizeof text) != nullptr) {
    line += text;
  }
}

} // namespace wgcap::text
