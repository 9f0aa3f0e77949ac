// SPDX-License-Identifier: Apache-2.0
// -F FILE: the filter expression read from a file, as tcpdump reads it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "wgcap/result.hpp"

namespace wgcap::cli {

// FILE's text as one line of expression: `#` to the end of a line is a
// comment, line breaks and tabs are spaces (each character keeps its column,
// so a filter error's caret still points at it) and a NUL ends the text, as
// in tcpdump 4.99, which reads it as a C string. The error names FILE.
Result<std::string> ReadFilterFile(const std::string& path);

// The most -F reads: an expression is a line or two.
inline constexpr std::size_t kMaxFilterFileBytes = std::size_t{1} << 20;
// The most --wg-peers reads: `wg show IFACE dump` takes 150-200 bytes a
// peer, so this holds some 300,000 peers.
inline constexpr std::size_t kMaxWgPeersFileBytes = std::size_t{64} << 20;

// The contents of a file an option names, up to `max_bytes` (a limit keeps
// -F /dev/zero from reading forever); errors start with "OPTION PATH", and
// a file too large fails with EFBIG and says the limit in MiB.
Result<std::string> ReadOptionFile(const std::string& option, const std::string& path,
                                   std::size_t max_bytes);

// The text part of ReadFilterFile, for tests.
std::string FilterFileText(std::string_view contents);

} // namespace wgcap::cli
